"""The reference's SDK snippets ("Basic Usage", "Streaming Benchmarks") executed as written, with the tiny model
substituted for svd-xt (and cpu for cuda, 8 s for the 60 s stream, so the test stays short); plus the class
form with progress callbacks and bad input refused before anything runs."""

import asyncio
import importlib.util
import re
import textwrap

import pytest

from app.errors import ModelNotFoundError, ValidationError

BASIC_USAGE = """
from vid_diffusion_bench import BenchmarkSuite, StandardPrompts
from vid_diffusion_bench.streaming import StreamingBenchmark
from vid_diffusion_bench.federated import create_federated_session

# Initialize benchmark suite
suite = BenchmarkSuite(device="cpu", output_dir=OUTPUT_DIR)

# Run basic benchmark
result = suite.evaluate_model(
    model_name="tiny-t2v",
    prompts=StandardPrompts.DIVERSE_SET_V2[:5],
    num_frames=16,
    fps=8
)

print(f"Overall score: {result.metrics['overall_score']:.2f}")
print(f"Average latency: {result.performance['avg_latency_ms']:.0f}ms")
"""

STREAMING = """
import asyncio
from vid_diffusion_bench.streaming import benchmark_live_streaming

async def run_streaming_test():
    prompts = ["A cat playing piano", "Ocean waves at sunset"]

    metrics = await benchmark_live_streaming(
        model_name="tiny-t2v",
        prompts=prompts,
        duration_seconds=8,
        target_fps=15.0,
        adaptive_quality=True
    )

    print(f"Average latency: {metrics.avg_frame_latency_ms:.1f}ms")
    print(f"Frame drop rate: {metrics.frame_drop_rate:.2%}")
    print(f"Quality consistency: {metrics.quality_consistency:.3f}")

# Run the streaming test
asyncio.run(run_streaming_test())
"""


def test_streaming_benchmarks_snippet_runs_as_written(ray_session, capsys):
    exec(compile(textwrap.dedent(STREAMING), "reference-streaming-snippet", "exec"), {"__name__": "snippet"})
    out = capsys.readouterr().out
    assert re.search(r"Average latency: \d+\.\dms", out), out
    assert re.search(r"Frame drop rate: \d+\.\d\d%", out) and re.search(r"Quality consistency: [01]\.\d{3}", out)


FEDERATED_IMPORT = "from vid_diffusion_bench.federated import create_federated_session\n"


def run_basic_usage(source: str, capsys, tmp_path) -> None:
    exec(compile(source, "reference-basic-usage", "exec"), {"__name__": "snippet", "OUTPUT_DIR": str(tmp_path)})
    out = capsys.readouterr().out
    assert re.search(r"Overall score: \d+\.\d\d", out) and re.search(r"Average latency: \d+ms", out), out


@pytest.mark.skipif(
    importlib.util.find_spec("vid_diffusion_bench.federated") is not None,
    reason="the whole snippet runs in test_basic_usage_snippet_runs_as_written",
)
def test_basic_usage_snippet_runs_but_for_its_federated_import(ray_session, capsys, tmp_path):
    """Until vid_diffusion_bench.federated (another issue) lands: every line but that import, as written."""
    assert FEDERATED_IMPORT in BASIC_USAGE
    run_basic_usage(BASIC_USAGE.replace(FEDERATED_IMPORT, ""), capsys, tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("vid_diffusion_bench.federated") is None,
    reason="vid_diffusion_bench.federated (the federated issue) is not in this tree yet; the "
    "snippet's third import needs it",
)
def test_basic_usage_snippet_runs_as_written(ray_session, capsys, tmp_path):
    run_basic_usage(BASIC_USAGE, capsys, tmp_path)


def test_streaming_import_of_basic_usage():
    from vid_diffusion_bench.streaming import StreamingBenchmark, benchmark_live_streaming

    assert callable(benchmark_live_streaming) and StreamingBenchmark.__name__ == "StreamingBenchmark"


def test_bad_input_is_refused_before_anything_runs(settings):
    from vid_diffusion_bench.streaming import StreamingBenchmark, benchmark_live_streaming

    bench = StreamingBenchmark(device="cpu")
    stored_before = len(bench.runner.repo.list(limit=1000))
    with pytest.raises(ValidationError, match="target_fps"):
        bench.live("tiny-t2v", ["A cat"], target_fps=0)
    with pytest.raises(ValidationError, match="buffer_size"):
        bench.live("tiny-t2v", ["A cat"], buffer_size=0)
    with pytest.raises(ModelNotFoundError):
        asyncio.run(benchmark_live_streaming("svd-xt-nope", ["A cat"], 5, 10.0, True))
    assert len(bench.runner.repo.list(limit=1000)) == stored_before


def test_class_form_reports_progress_and_stores_json_and_parquet(ray_session, tmp_path):
    import pyarrow.parquet as pq

    from vid_diffusion_bench.streaming import StreamingBenchmark

    seen = []
    bench = StreamingBenchmark(device="cpu", output_dir=tmp_path)
    bench.add_progress_callback(lambda kind, data: seen.append(kind))
    metrics = bench.live(
        "tiny-t2v",
        ["A cat"],
        duration_seconds=5,
        target_fps=8.0,
        buffer_size=24,
        quality_levels=2,
        num_inference_steps=1,
    )
    assert metrics.status == "completed" and seen[0] == "stream_started" and seen[-1] == "stream_completed"
    assert seen.count("frame_generated") == metrics.total_frames_generated > 0
    assert (tmp_path / f"{metrics.stream_id}.json").is_file()
    frames = pq.read_table(tmp_path / f"{metrics.stream_id}.frames.parquet").to_pylist()
    assert len(frames) == metrics.total_frames_generated
    assert sum(not f["dropped"] for f in frames) == metrics.successful_frames
    interactive = bench.interactive("tiny-t2v", ["A cat", "A dog"], response_target="10s", num_inference_steps=1)
    assert interactive.performance["prompts"] == 2 and interactive.performance["frame_by_frame"] is False
    assert interactive.metrics["p95_time_to_first_frame_ms"] >= interactive.metrics["p50_time_to_first_frame_ms"]
