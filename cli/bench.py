"""Benchmark commands (top level): benchmark, compare, profile, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import _, app_errors_exit_2, collect_prompts, console, emit_json, fmt, progress_printer

app = typer.Typer()


def result_table(result) -> Table:
    table = Table(title=f"{result.model_name} - {result.benchmark_id} ({result.status})")
    table.add_column(_("figure"))
    table.add_column(_("value"), justify="right")
    table.add_column(_("95% CI"), justify="right")
    table.add_column(_("n / note"))
    for name, detail in result.metric_details.items():
        ci = detail.get("ci95")
        if detail.get("value") is None:
            note = detail.get("reason") or ""
        elif detail.get("used"):
            note = _("from {names}", names=", ".join(detail["used"]))
        else:
            note = f"n={detail.get('n')}"
        if detail.get("warning"):
            note += f" ({detail['warning']})"
        table.add_row(name, fmt(detail["value"]), f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "", note)
    for name, value in result.performance.items():
        table.add_row(name, fmt(value), "", "" if value is not None else _("not measurable on this hardware"))
    table.add_row("success_rate", fmt(result.success_rate), "", "")
    return table


@app.command()
@app_errors_exit_2
def benchmark(
    model: Annotated[str, typer.Argument(help="Catalog model name (see `vid-bench models list`).")],
    prompts: Annotated[list[str] | None, typer.Option("--prompts", "-p", help="A prompt; repeat for more.")] = None,
    prompts_file: Annotated[Path | None, typer.Option(help="Text file, one prompt per line.")] = None,
    prompt_set: Annotated[str | None, typer.Option(help="A standard set, e.g. DIVERSE_SET_V2.")] = None,
    num_prompts: Annotated[int | None, typer.Option(help="Use only the first N prompts.", min=1)] = None,
    num_frames: Annotated[int | None, typer.Option()] = None,
    fps: Annotated[int | None, typer.Option()] = None,
    num_inference_steps: Annotated[int | None, typer.Option()] = None,
    guidance_scale: Annotated[float | None, typer.Option()] = None,
    resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT")] = None,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    videos_per_prompt: Annotated[int, typer.Option(min=1)] = 1,
    batch_size: Annotated[
        int,
        typer.Option(
            min=1, help="Videos per pipeline call (text-to-video models); latency is reported per video and per call."
        ),
    ] = 1,
    metrics: Annotated[
        list[str] | None, typer.Option("--metrics", help="Metric names (aliases: is, clip_score); default all.")
    ] = None,
    optimization_level: Annotated[
        str | None, typer.Option(help="baseline | balanced | performance (default: the optimization_level setting)")
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    save_videos: Annotated[bool, typer.Option("--save-videos")] = False,
    output: Annotated[Path | None, typer.Option(help="Directory for results JSON and Parquet.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    monitor: Annotated[
        bool,
        typer.Option(
            "--monitor", help="Sample CPU, RSS and GPU (NVML) while it runs; the timeline is stored with the result."
        ),
    ] = False,
):
    """Benchmark one model: generate, time and score videos; store every result."""
    from app.bench.suite import BenchmarkSuite
    from app.catalog.params import VideoParameters

    chosen = collect_prompts(prompts, prompts_file, prompt_set)[: num_prompts or None]
    parameters = VideoParameters.from_values(
        {
            "num_frames": num_frames,
            "fps": fps,
            "resolution": resolution,
            "num_inference_steps": num_inference_steps,
            "guidance_scale": guidance_scale,
        }
    )  # typed: refused before any work
    with progress_printer(_("benchmark")) as on_progress:
        suite = BenchmarkSuite(
            device=device, output_dir=output, on_progress=on_progress, metrics=metrics, enable_monitoring=monitor
        )
        result = suite.evaluate_model(
            model,
            chosen,
            parameters=parameters,
            seed=seed,
            videos_per_prompt=videos_per_prompt,
            save_videos=save_videos,
            optimization_level=optimization_level,
            batch_size=batch_size,
        )
    if output:
        from app.metrics.registry import video_metric_names
        from app.storage.export import export_parquet

        export_parquet(
            suite.runner.repo, [result.benchmark_id], output / f"{result.benchmark_id}.parquet", video_metric_names()
        )
    if as_json:
        emit_json(result.to_dict(per_video=False))
        return
    console.print(result_table(result))
    if batch_size > 1:
        perf = result.performance
        console.print(
            _(
                "Latency per video {video_ms} ms (its share of a call); per call of up to {batch_size} "
                "videos {call_ms} ms",
                video_ms=fmt(perf.get("avg_latency_ms")),
                batch_size=batch_size,
                call_ms=fmt(perf.get("avg_batch_latency_ms")),
            )
        )
    where = suite.settings.resolved_database_url + (f", {output}/" if output else "")
    console.print(_("Stored in {where} as {benchmark_id}", where=where, benchmark_id=result.benchmark_id))
    if result.status != "completed":
        raise typer.Exit(1)


@app.command()
@app_errors_exit_2
def compare(
    models: Annotated[list[str], typer.Argument(help="Two or more catalog model names.")],
    prompts: Annotated[list[str] | None, typer.Option("--prompts", "-p")] = None,
    prompts_file: Annotated[Path | None, typer.Option()] = None,
    prompt_set: Annotated[str | None, typer.Option()] = None,
    num_prompts: Annotated[int | None, typer.Option(min=1)] = None,
    metrics: Annotated[list[str] | None, typer.Option("--metrics")] = None,
    objectives: Annotated[
        list[str] | None, typer.Option("--objective", help="Pareto objective (metric or performance figure); repeat.")
    ] = None,
    max_workers: Annotated[int, typer.Option(min=0, help="Models at once; 0: as many as the cores hold")] = 1,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    device: Annotated[str, typer.Option()] = "auto",
    output: Annotated[Path | None, typer.Option(help="Write the comparison report (JSON) here.")] = None,
):
    """Benchmark several models on the same prompts; rank them and print the Pareto frontier."""
    from app.bench.suite import BenchmarkSuite
    from app.errors import ValidationError
    from app.i18n import Message

    if len(models) < 2:
        raise ValidationError(Message("compare needs at least two models"), {"models": models})
    chosen = collect_prompts(prompts, prompts_file, prompt_set)[: num_prompts or None]
    with progress_printer(_("compare")) as on_progress:
        suite = BenchmarkSuite(device=device, on_progress=on_progress, metrics=metrics)
        results = suite.evaluate_multiple_models(models, chosen, max_workers=max_workers, seed=seed)
    report = suite.compare_models(results, objectives)
    if output:
        emit_json(report, output)
    table = Table(title=_("Ranking by {metric}", metric=report["rank_by"]))
    for column in [_("rank"), _("model"), *report["pareto_objectives"], _("Pareto")]:
        table.add_column(column)
    for entry in report["ranking"]:
        name = entry["model_name"]
        values = [fmt(report["models"][name].get(o)) for o in report["pareto_objectives"]]
        table.add_row(fmt(entry["rank"]), name, *values, _("yes") if name in report["pareto_frontier"] else "")
    console.print(table)
    if report["skipped_objectives"]:
        console.print(
            _("Objectives left out (null for some model): {names}", names=", ".join(report["skipped_objectives"]))
        )
    console.print(_("Pareto frontier: {names}", names=", ".join(report["pareto_frontier"])))


@app.command()
@app_errors_exit_2
def profile(
    model: str,
    optimization_levels: Annotated[
        list[str], typer.Option("--optimization-levels", help="Levels to compare: baseline balanced performance.")
    ] = ["baseline"],  # noqa: B006
    test_prompts: Annotated[int, typer.Option(min=1, help="How many DIVERSE_SET_V2 prompts to use.")] = 3,
    detailed: Annotated[bool, typer.Option("--detailed", help="Also print per-phase timings.")] = False,
    device: Annotated[str, typer.Option()] = "auto",
    output: Annotated[Path | None, typer.Option(help="Write the report (JSON) here.")] = None,
):
    """Run the same prompts under each optimization level: latency, frames/s, phases, memory, energy, quality."""
    from app.bench.prompts import StandardPrompts
    from app.bench.suite import BenchmarkSuite

    with progress_printer(_("profile")) as on_progress:
        suite = BenchmarkSuite(device=device, on_progress=on_progress)
        report = suite.profile_model(model, optimization_levels, StandardPrompts.DIVERSE_SET_V2[:test_prompts])
    if output:
        emit_json(report, output)
    table = Table(title=_("Optimization levels: {model}", model=model))
    columns = [
        _("level"),
        _("latency ms"),
        _("frames/s"),
        _("peak VRAM GB"),
        _("peak RSS MB"),
        _("energy J"),
        "temporal_consistency",
    ]
    if detailed:
        columns += [_("encode s"), _("denoise s"), _("decode s")]
    for column in columns:
        table.add_column(column)
    for level, entry in report["levels"].items():
        if entry["status"] == "unsupported":
            continue
        perf = entry["performance"]
        row = [
            level,
            fmt(perf["avg_latency_ms"]),
            fmt(perf["throughput_fps"]),
            fmt(perf["peak_vram_gb"]),
            fmt(perf["peak_rss_mb"]),
            fmt(perf["total_energy_j"]),
            fmt(entry["metrics"].get("temporal_consistency")),
        ]
        if detailed:
            row += [fmt(entry["phases_mean"][p]) for p in ("encode_s", "denoise_s", "decode_s")]
        table.add_row(*row)
    console.print(table)
    for level, entry in report["levels"].items():
        if entry["status"] == "unsupported":
            console.print(_("{level}: not run here ({reason})", level=level, reason=entry["reason"]))


@app.command()
@app_errors_exit_2
def export(benchmark_ids: list[str], output: Annotated[Path, typer.Option(help="Parquet file to write.")]):
    """Export stored per-video results to Parquet."""
    from app.config import get_settings
    from app.metrics.registry import video_metric_names
    from app.storage.database import get_database
    from app.storage.export import export_parquet
    from app.storage.repository import BenchmarkRepository

    repo = BenchmarkRepository(get_database(get_settings().resolved_database_url))
    path = export_parquet(repo, benchmark_ids, output, video_metric_names())
    console.print(_("wrote {path}", path=path))


@app.command()
@app_errors_exit_2
def batch(
    spec_file: Annotated[
        Path,
        typer.Argument(
            help="YAML/JSON batch spec: models, prompts or prompts_file, "
            "parameters, videos_per_prompt, metrics, max_workers, parquet."
        ),
    ],
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the benchmark ids and statuses as JSON.")] = False,
):
    """Run several models over one prompt list as one job (what `distributed submit` runs on the cluster)."""
    from app.bench.batch import BatchSpec, run_batch
    from app.bench.runner import BenchmarkRunner

    spec = BatchSpec.from_file(spec_file)
    runner = BenchmarkRunner()
    with progress_printer(_("batch")) as on_progress:
        ids = run_batch(spec, runner, device, on_progress)
    rows = [runner.repo.get(benchmark_id) for benchmark_id in ids]
    summary = [
        {
            "benchmark_id": r.id,
            "model_name": r.model_name,
            "status": r.status,
            "error": r.error,
            "completed_videos": r.completed_videos,
            "failed_videos": r.failed_videos,
        }
        for r in rows
    ]
    if as_json:
        emit_json({"benchmarks": summary, "parquet": spec.parquet})
        return
    for item in summary:
        console.print(
            f"{item['benchmark_id']}  {item['model_name']}  {item['status']}  "
            + _("{ok} ok / {failed} failed", ok=item["completed_videos"], failed=item["failed_videos"])
            + (f"  ({item['error']})" if item["error"] else "")
        )
    if spec.parquet:
        console.print(_("wrote {path}", path=spec.parquet))


@app.command()
@app_errors_exit_2
def cancel(benchmark_id: Annotated[str, typer.Argument(help="The benchmark to stop.")]):
    """Stop a running benchmark from here, whichever process or node runs it (it stops between work items)."""
    from app.config import get_settings
    from app.storage.database import get_database
    from app.storage.repository import TERMINAL, BenchmarkRepository

    repo = BenchmarkRepository(get_database(get_settings().resolved_database_url))
    before = repo.get(benchmark_id).status  # an unknown id is BENCHMARK_NOT_FOUND, exit 2
    if before in TERMINAL:
        console.print(_("{benchmark_id} already {status}", benchmark_id=benchmark_id, status=before))
        return
    repo.request_cancel(benchmark_id)
    console.print(
        _(
            "{benchmark_id}: cancel requested (it stops between work items; stored results are kept)",
            benchmark_id=benchmark_id,
        )
    )
