"""`vid-bench analytics`: the PDF report and exports (Prometheus text, CSV, Parquet, JSON) of stored results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import _, app_errors_exit_2, console, emit_json

app = typer.Typer(help="Analytics over stored benchmarks: PDF report, exports, period summaries.", no_args_is_help=True)
PeriodOption = Annotated[str | None, typer.Option(help="1h | 24h | 7d | 30d (default: every stored result).")]


def _repo():
    from app.config import get_settings
    from app.storage.analytics import AnalyticsRepository
    from app.storage.database import get_database

    settings = get_settings()
    settings.ensure_dirs()
    return AnalyticsRepository(get_database(settings.resolved_database_url)), settings


@app.command()
@app_errors_exit_2
def report(
    models: Annotated[list[str], typer.Option("--models", help="Model names (or NAME@KEY=VALUE selectors).")],
    output: Annotated[Path, typer.Option(help="The PDF to write.")] = Path("analytics_report.pdf"),
    period: PeriodOption = "30d",
    metric: Annotated[str, typer.Option(help="Quality figure of the Pareto chart and trends.")] = "overall_score",
):
    """Write a PDF: summary with CIs, quality-vs-latency Pareto chart, CI plots, trends, resources, provenance."""
    from app.analytics.report import collect, write_report

    repo, settings = _repo()
    data = collect(repo, models, period, metric, settings.bootstrap_resamples, settings.bootstrap_seed)
    pages = write_report(data, output)
    count = sum(len(b) for b in data["benchmarks"].values())
    console.print(_("Wrote {path} ({pages} pages, {count} benchmarks)", path=str(output), pages=pages, count=count))


@app.command()
@app_errors_exit_2
def export(
    fmt: Annotated[str, typer.Option("--format", help="prometheus | csv | parquet | json")],
    output: Annotated[Path, typer.Option(help="The file to write.")],
    period: PeriodOption = None,
    models: Annotated[list[str] | None, typer.Option("--models", help="Only these models.")] = None,
):
    """Export stored results: Prometheus text per model, or one row per benchmark (CSV, Parquet, JSON)."""
    from app.analytics.export import FORMATS, write_export
    from app.analytics.service import period_window
    from app.errors import ValidationError
    from app.i18n import Message

    if fmt not in FORMATS:
        raise ValidationError(Message("--format must be one of {formats}", formats=list(FORMATS)), {"format": fmt})
    repo, _settings = _repo()
    start, end = period_window(period) if period else (None, None)
    benchmarks = repo.benchmarks(start, end, models or None)
    counts: dict[str, dict[str, int]] = {}
    for b in repo.benchmarks(start, end, models or None, statuses=None):
        counts.setdefault(b["model_name"], {}).setdefault(b["status"], 0)
        counts[b["model_name"]][b["status"]] += 1
    write_export(fmt, benchmarks, counts, output)
    console.print(
        _(
            "Wrote {path} ({format}, {count} completed benchmarks)",
            path=str(output),
            format=fmt,
            count=len(benchmarks),
        )
    )


@app.command()
@app_errors_exit_2
def summary(
    period: Annotated[str, typer.Option(help="1h | 24h | 7d | 30d")] = "24h",
    model_name: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    metric: Annotated[str | None, typer.Option(help="Quality figure (default overall_score).")] = None,
    aggregation: Annotated[str, typer.Option(help="avg | min | max | p95")] = "avg",
):
    """The period summary of GET /api/v1/analytics/benchmarks, as JSON."""
    from app.analytics.service import benchmark_analytics

    repo, _settings = _repo()
    emit_json(benchmark_analytics(repo, period, model_name, metric, aggregation))


@app.command()
@app_errors_exit_2
def compare(
    models: Annotated[list[str], typer.Argument(help="Two or more model names or NAME@KEY=VALUE selectors.")],
    metric: Annotated[str, typer.Option(help="Figure to compare on.")] = "overall_score",
    period: PeriodOption = "30d",
):
    """Rank models with significance tests (GET /api/v1/analytics/models/compare), as JSON."""
    from app.analytics.service import compare_models

    repo, settings = _repo()
    emit_json(compare_models(repo, models, metric, period, settings.bootstrap_resamples, settings.bootstrap_seed))
