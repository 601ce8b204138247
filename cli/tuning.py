"""`vid-bench optimize`: parameter search with Ray Tune + Optuna, every trial a real benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import _, app_errors_exit_2, console, emit_json, fmt

app = typer.Typer()


@app.command()
@app_errors_exit_2
def optimize(
    model: str,
    objective: Annotated[
        str, typer.Option(help="quality | latency | balanced | quality_under_latency | latency_above_quality")
    ] = "quality",
    strategy: Annotated[str, typer.Option(help="bayesian | random | grid | pareto")] = "bayesian",
    max_evaluations: Annotated[int, typer.Option(min=1)] = 20,
    guidance_scale: Annotated[tuple[float, float] | None, typer.Option(help="Range to search, e.g. 1 15")] = None,
    steps: Annotated[list[int] | None, typer.Option("--steps", help="num_inference_steps values; repeat")] = None,
    frames: Annotated[list[int] | None, typer.Option("--frames", help="num_frames values; repeat")] = None,
    scheduler: Annotated[list[str] | None, typer.Option("--scheduler", help="scheduler names; repeat")] = None,
    latency_budget_ms: Annotated[float | None, typer.Option()] = None,
    quality_floor: Annotated[float | None, typer.Option()] = None,
    device: Annotated[str, typer.Option()] = "cpu",
    output: Annotated[Path | None, typer.Option(help="Write the result (JSON) here.")] = None,
):
    """Search generation settings with Ray Tune + Optuna; every trial is a real benchmark."""
    from app.catalog import get_catalog
    from app.errors import ValidationError
    from tuning import AIOptimizationEngine, SearchSpace

    g = get_catalog().get(model).parameters["guidance_scale"]
    if guidance_scale:
        low, high = guidance_scale
    elif g.min is not None and g.max is not None:
        low, high = g.min, g.max
    else:  # the catalog lists guidance_scale choices, not a range
        raise ValidationError(
            f"{model} has no guidance_scale range to search by default: give --guidance-scale",
            {"model_name": model},
        )
    space = SearchSpace(
        continuous_params={"guidance_scale": (low, high)},
        discrete_params={k: v for k, v in {"num_inference_steps": steps, "num_frames": frames}.items() if v},
        categorical_params={"scheduler": scheduler} if scheduler else {},
    )
    result = AIOptimizationEngine().optimize_benchmark_parameters(
        model,
        objective,
        strategy,
        space,
        max_evaluations,
        latency_budget_ms=latency_budget_ms,
        quality_floor=quality_floor,
        device=device,
        verbose=1,
    )
    if output:
        emit_json(result.to_dict(), output)
    table = Table(
        title=_(
            "{strategy} search for {model} ({objective}), {trials} trials, {seconds} s",
            strategy=strategy,
            model=model,
            objective=objective,
            trials=len(result.trials),
            seconds=fmt(round(result.elapsed_time, 1)),
        )
    )
    for column in [_("configuration"), _("score"), _("quality"), _("latency ms"), _("Pareto")]:
        table.add_column(column)
    for trial in sorted(result.trials, key=lambda t: -(t["score"] or float("-inf"))):
        table.add_row(
            json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in trial["config"].items()}),
            fmt(trial["score"]),
            fmt(trial["quality"]),
            fmt(trial["latency_ms"]),
            _("yes") if trial in result.pareto_set else "",
        )
    console.print(table)
    console.print(
        _(
            "best parameters: {parameters} (score {score}); experiment: {path}",
            parameters=result.best_parameters,
            score=fmt(result.best_score),
            path=result.experiment_path,
        )
    )
