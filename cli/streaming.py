"""`vid-bench streaming live|interactive`: streaming benchmarks with live progress (buffer, rung, drops)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import _, app_errors_exit_2, collect_prompts, console, emit_json, err_console, fmt

app = typer.Typer(
    help="Streaming benchmarks: live generation against a playback clock, interactive response.", no_args_is_help=True
)

PromptsOption = Annotated[list[str] | None, typer.Option("--prompts", "-p", help="A prompt; repeat for more.")]
PromptsFileOption = Annotated[Path | None, typer.Option(help="Text file, one prompt per line.")]
OutputOption = Annotated[Path | None, typer.Option(help="Directory for the result JSON and Parquet files.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
BAR = 20


def parse_resolution(text: str | None) -> tuple[int, int] | None:
    from app.errors import ValidationError
    from app.i18n import Message

    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValidationError(
            Message("--initial-resolution '{value}' is not WIDTHxHEIGHT", value=text), {"value": text}
        )
    return int(parts[0]), int(parts[1])


class LiveProgress:
    """One line per clip: time, buffer bar, current rung, drops so far."""

    def __init__(self, as_json: bool):
        self.quiet = as_json
        self.level = 0

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        if kind == "stream_started":
            rungs = ", ".join(
                f"{r['level']}: {r['resolution'][0]}x{r['resolution'][1]}x{r['frames']}" for r in data["ladder"]
            )
            err_console.print(_("ladder (level: WxHxframes): {rungs}", rungs=rungs))
        elif kind == "buffer_status":
            filled = round(BAR * data["utilization"])
            bar = "#" * filled + "-" * (BAR - filled)
            line = _(
                "t={time}s buffer [{bar}] {occupancy}/{capacity} rung {level} drops {dropped}/{total}",
                time=f"{data['time_s']:6.1f}",
                bar=bar,
                occupancy=f"{data['occupancy']:>3}",
                capacity=data["capacity"],
                level=data["quality_level"],
                dropped=data["dropped_frames"],
                total=data["total_frames"],
            )
            err_console.print(escape(line))
        elif kind == "quality_adapted":
            line = _(
                "  -> rung {level} ({width}x{height}, {frames} frames): {reason}",
                level=data["quality_level"],
                width=data["resolution"][0],
                height=data["resolution"][1],
                frames=data["frames"],
                reason=data["reason"],
            )
            err_console.print(escape(line))
        elif kind == "response_measured":
            mark = _("met") if data["met_target"] else _("missed")
            line = _(
                "prompt {number}: first frame after {ms} ms ({mark})",
                number=data["prompt_index"] + 1,
                ms=f"{data['time_to_first_frame_ms']:.0f}",
                mark=mark,
            )
            err_console.print(escape(line))


def _report(metrics, output: Path | None, as_json: bool, database: str) -> None:
    if as_json:
        emit_json({k: v for k, v in metrics.to_dict().items() if k not in ("clips", "frames")})
    else:
        table = Table(title=f"{metrics.stream_id} ({metrics.status})")
        table.add_column(_("figure"))
        table.add_column(_("value"), justify="right")
        for name, value in {**metrics.metrics, **metrics.performance}.items():
            table.add_row(name, fmt(value) if not isinstance(value, list) else ", ".join(fmt(v) for v in value))
        console.print(table)
        for name, reason in metrics.reasons.items():
            console.print(escape(_("{name}: null ({reason})", name=name, reason=reason)))
        if not metrics.performance.get("frame_by_frame", True):
            console.print(
                _(
                    "The pipeline returns every frame of a clip at once: the first frame is displayable only "
                    "when the whole clip is done."
                )
            )
        where = database + (f", {output}/" if output else "")
        console.print(escape(_("Stored in {where} as {benchmark_id}", where=where, benchmark_id=metrics.stream_id)))
    if metrics.status != "completed":
        raise typer.Exit(1)


@app.command()
@app_errors_exit_2
def live(
    model: Annotated[str, typer.Argument(help="Catalog video model name.")],
    prompts: PromptsOption = None,
    prompts_file: PromptsFileOption = None,
    duration: Annotated[float, typer.Option(help="Seconds of back-to-back generation.")] = 60.0,
    target_fps: Annotated[float, typer.Option(help="Frames per second of the playback clock.")] = 15.0,
    adaptive_quality: Annotated[
        bool, typer.Option("--adaptive-quality/--no-adaptive", help="BBA-0 quality ladder, or the top rung throughout.")
    ] = True,
    buffer_size: Annotated[int, typer.Option(help="Frames the playback buffer holds.")] = 30,
    initial_resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT of the top rung.")] = None,
    initial_frames: Annotated[int | None, typer.Option(help="Frames per clip on the top rung.")] = None,
    quality_levels: Annotated[int, typer.Option(help="Rungs of the quality ladder.")] = 4,
    steps: Annotated[int | None, typer.Option("--steps", help="Denoising steps per clip.")] = None,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    output: OutputOption = None,
    as_json: JsonOption = False,
):
    """Generate clips back to back for --duration seconds into a playback buffer drained at --target-fps."""
    from app.streaming.spec import StreamSpec
    from vid_diffusion_bench.streaming import StreamingBenchmark

    spec = StreamSpec(
        mode="live",
        model_name=model,
        prompts=collect_prompts(prompts, prompts_file, None),
        duration_seconds=duration,
        target_fps=target_fps,
        adaptive_quality=adaptive_quality,
        buffer_size=buffer_size,
        initial_resolution=parse_resolution(initial_resolution),
        initial_frames=initial_frames,
        quality_levels=quality_levels,
        num_inference_steps=steps,
        seed=seed,
        device=device,
    )
    bench = StreamingBenchmark(device=device, output_dir=output, on_progress=LiveProgress(as_json))
    spec.check(bench.settings)  # bad input: refused before Ray starts
    _report(bench.run_spec(spec), output, as_json, bench.settings.resolved_database_url)


@app.command()
@app_errors_exit_2
def interactive(
    model: Annotated[str, typer.Argument(help="Catalog video model name.")],
    prompts: PromptsOption = None,
    prompts_file: PromptsFileOption = None,
    response_target: Annotated[str, typer.Option(help="Time-to-first-frame target, e.g. 500ms or 1.5s.")] = "500ms",
    initial_resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT of the clips.")] = None,
    initial_frames: Annotated[int | None, typer.Option(help="Frames per clip.")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Denoising steps per clip.")] = None,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    output: OutputOption = None,
    as_json: JsonOption = False,
):
    """Each prompt once: time from the request to its first displayable frame, against --response-target."""
    from app.streaming.spec import StreamSpec, parse_duration_ms
    from vid_diffusion_bench.streaming import StreamingBenchmark

    spec = StreamSpec(
        mode="interactive",
        model_name=model,
        prompts=collect_prompts(prompts, prompts_file, None),
        response_target_ms=parse_duration_ms(response_target),
        initial_resolution=parse_resolution(initial_resolution),
        initial_frames=initial_frames,
        quality_levels=1,
        num_inference_steps=steps,
        seed=seed,
        device=device,
    )
    bench = StreamingBenchmark(device=device, output_dir=output, on_progress=LiveProgress(as_json))
    spec.check(bench.settings)
    _report(bench.run_spec(spec), output, as_json, bench.settings.resolved_database_url)
