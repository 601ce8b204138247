"""Streaming adaptation: the same live stream at fixed (top-rung) quality and with the BBA-0 ladder, side by side.

First the top rung's sustained generation rate on this machine is measured in-process (one torch thread, after a
warm-up, mean over a few clips); the playback clock is then set above it (``--fps-ratio`` x that rate, or
``--target-fps``), so the fixed stream cannot keep up. Both streams then run through StreamRunner (the model in a
Ray actor, warmed up at every rung) with the same model, prompts, seeds, ladder, buffer and duration, alternating
fixed / adaptive for ``--repeats`` rounds. Printed: per run and on average, drop rate, delivered quality
(adaptive_quality_score), mean resolution, adaptations and buffer use; and the ratio of drop rates.

    python benchmarks/streaming_adaptation.py [--model tiny-t2v] [--duration 40] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def top_rung(model):
    width, height = max((tuple(int(x) for x in r.split("x")) for r in model.resolutions), key=lambda s: s[0] * s[1])
    frames = int(
        model.parameters["num_frames"].max
        if model.parameters["num_frames"].choices is None
        else max(model.parameters["num_frames"].choices)
    )
    return (width, height), min(frames, model.max_frames or frames)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="tiny-t2v")
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--buffer", type=int, default=None, help="frames; default twice the top rung's clip")
    parser.add_argument("--fps-ratio", type=float, default=2.0)
    parser.add_argument("--target-fps", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("VDB_DATA_DIR", tempfile.mkdtemp(prefix="vdb-streaming-"))
    os.environ.setdefault("VDB_WARMUP_RUNS", "1")

    import torch

    from app.bench.cluster import ensure_ray
    from app.catalog.spec import get_catalog
    from app.config import get_settings
    from app.engines.video import VideoEngine
    from app.streaming.runner import StreamRunner
    from app.streaming.spec import StreamSpec

    settings = get_settings()
    model = get_catalog().get(args.model)
    resolution, frames = top_rung(model)
    torch.set_num_threads(settings.torch_threads_per_actor)
    engine = VideoEngine(model, "cpu", None, settings.resolved_models_dir)
    params = {"resolution": f"{resolution[0]}x{resolution[1]}", "num_frames": frames}
    engine.generate("warm-up", params, seed=99)
    times = []
    for seed in range(3):
        started = time.perf_counter()
        engine.generate("A cat playing piano", params, seed=seed)
        times.append(time.perf_counter() - started)
    top_fps = frames / statistics.fmean(times)
    del engine
    target = args.target_fps or round(args.fps_ratio * top_fps, 1)
    buffer = args.buffer or 2 * frames
    print(
        f"{args.model}: top rung {resolution[0]}x{resolution[1]} x {frames} frames sustains {top_fps:.2f} fps "
        f"in-process; playback clock {target} fps, buffer {buffer} frames, {args.duration:g} s per stream"
    )

    ensure_ray(settings)
    runner = StreamRunner(settings=settings)
    prompts = ["A cat playing piano", "Ocean waves at sunset", "A city street at night"]
    rows = {"fixed": [], "adaptive": []}
    for _ in range(args.repeats):
        for mode in ("fixed", "adaptive"):
            spec = StreamSpec(
                model_name=args.model,
                prompts=prompts,
                duration_seconds=args.duration,
                target_fps=target,
                adaptive_quality=mode == "adaptive",
                buffer_size=buffer,
                initial_resolution=resolution,
                initial_frames=frames,
                quality_levels=args.levels,
                seed=0,
                device="cpu",
            )
            result = runner.run(runner.submit(spec))
            rows[mode].append({**result.metrics, **result.performance})
            m = rows[mode][-1]
            print(
                f"  {mode:8s} drop rate {m['frame_drop_rate']:.3f}  delivered quality "
                f"{m['adaptive_quality_score']:.3f}  mean resolution {m['average_resolution'][0]:.1f}  "
                f"frames {m['total_frames_generated']} (shown {m['successful_frames']})  adaptations "
                f"{m['quality_adaptations']}  buffer use {m['buffer_utilization']:.2f}  generation "
                f"{m['generation_fps']:.2f} fps"
            )
    mean = {
        mode: {k: statistics.fmean(r[k] for r in runs) for k in ("frame_drop_rate", "adaptive_quality_score")}
        for mode, runs in rows.items()
    }
    print(
        f"mean over {args.repeats} round(s): fixed drop rate {mean['fixed']['frame_drop_rate']:.3f}, adaptive "
        f"{mean['adaptive']['frame_drop_rate']:.3f}; delivered quality fixed "
        f"{mean['fixed']['adaptive_quality_score']:.3f}, adaptive {mean['adaptive']['adaptive_quality_score']:.3f}"
    )
    if mean["fixed"]["frame_drop_rate"] > 0:
        ratio = mean["adaptive"]["frame_drop_rate"] / mean["fixed"]["frame_drop_rate"]
        print(f"adaptive / fixed drop rate: {ratio:.2f}")


if __name__ == "__main__":
    main()
