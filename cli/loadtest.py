"""`vid-bench loadtest`: a serving load test against this gateway or any OpenAI-compatible endpoint.

A run writes ``<id>.json`` (with every request's record) and ``<id>.png`` and is stored in the database with its
levels and provenance; ``--list`` and ``show ID`` read the stored runs back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.common import app_errors_exit_2, console, emit_json, fmt

app = typer.Typer()
group = typer.Typer(
    invoke_without_command=True,
    help="Serving load test: run one (--url, --model), list stored ones (--list) or show one (show ID).",
)
app.add_typer(group, name="loadtest")


def _modality(model: str, modality: str) -> str:
    """'auto': the catalog's modality for a model vid-bench knows, else text (an LLM endpoint)."""
    if modality != "auto":
        return modality
    from app.catalog import get_catalog
    from app.errors import ModelNotFoundError

    try:
        return get_catalog().get(model).modality
    except ModelNotFoundError:
        return "text"


def _repository():
    from app.config import get_settings
    from app.storage.database import get_database
    from app.storage.loadtests import LoadTestRepository

    return LoadTestRepository(get_database(get_settings().resolved_database_url))


def _ms(summary: dict, key: str, stat: str) -> str:
    value = (summary.get(key) or {}).get(stat)
    return "-" if value is None else f"{value * 1000:.1f}"


def _ci_ms(summary: dict, key: str) -> str:
    figure = summary.get(key) or {}
    if figure.get("mean") is None:
        return "-"
    if figure.get("ci_low") is None or figure.get("ci_high") is None:
        return f"{figure['mean'] * 1000:.1f}"
    return f"{figure['mean'] * 1000:.1f} [{figure['ci_low'] * 1000:.1f}, {figure['ci_high'] * 1000:.1f}]"


def _print_levels(result: dict[str, Any]) -> None:
    spec = result["spec"]
    text = spec["modality"] == "text"
    table = Table(title=f"{result['id']}: {spec['model']} ({spec['modality']}) at {spec['url']}")
    columns = ["conc", "ok", "err", "429", "503", "req/s", "mean ms [95% CI]", "p50 ms", "p90 ms", "p99 ms"]
    if text:
        columns += ["TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "tok/s"]
    for column in columns:
        table.add_column(column)
    for s in result["levels"]:
        row = [
            str(s["concurrency"]),
            str(s["completed"]),
            str(s["errors"]),
            str(s["status_429"]),
            str(s["status_503"]),
            fmt(s["request_throughput"]),
            _ci_ms(s, "latency_s"),
            _ms(s, "latency_s", "p50"),
            _ms(s, "latency_s", "p90"),
            _ms(s, "latency_s", "p99"),
        ]
        if text:
            row += [
                _ms(s, "ttft_s", "p50"),
                _ms(s, "ttft_s", "p99"),
                _ms(s, "itl_s", "p50"),
                _ms(s, "itl_s", "p99"),
                fmt(s["output_tokens_per_s"]),
            ]
        table.add_row(*row)
    Console(width=max(console.width, 180)).print(table)  # 15 columns for text: never cut them to fit a narrow pipe


def _list(model: str | None, page: int, limit: int, as_json: bool) -> None:
    from app.storage.loadtests import summary

    rows, total = _repository().list(model_name=model, page=page, limit=limit)
    items = [summary(row) for row in rows]
    if as_json:
        emit_json({"load_tests": items, "total": total, "page": page, "limit": limit})
        return
    table = Table(title=f"Stored load tests ({total})")
    for column in ("id", "model", "modality", "url", "concurrency", "requests/level", "started"):
        table.add_column(column)
    for item in items:
        started = item["started_at"] or item["created_at"]
        table.add_row(
            item["id"],
            item["model"],
            item["modality"],
            item["url"],
            " ".join(str(c) for c in item["concurrency"] or []),
            str(item["requests_per_level"]),
            started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
    Console(width=max(console.width, 160)).print(table)


@group.callback()
@app_errors_exit_2
def loadtest(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option(help="Base URL of the endpoint, e.g. http://127.0.0.1:8080")] = None,
    model: Annotated[str | None, typer.Option(help="Model name the endpoint serves (with --list: filter)")] = None,
    concurrency: Annotated[list[int] | None, typer.Option(help="Levels, e.g. --concurrency 1 2 4 8")] = None,
    requests: Annotated[int, typer.Option(help="Requests per concurrency level")] = 32,
    modality: Annotated[str, typer.Option(help="auto | text | image | speech | video")] = "auto",
    max_seconds: Annotated[float, typer.Option(help="No request starts after this long in a level")] = 120.0,
    timeout_s: Annotated[float, typer.Option(help="Timeout of one request")] = 300.0,
    max_tokens: Annotated[int, typer.Option(help="Tokens per text request")] = 64,
    prompt: Annotated[str, typer.Option()] = "Write a short story about a lighthouse keeper.",
    api_key: Annotated[str | None, typer.Option(help="Default: VDB_API_KEY, then OPENAI_API_KEY")] = None,
    output: Annotated[Path, typer.Option(help="Directory for <id>.json and <id>.png")] = Path("results"),
    list_stored: Annotated[bool, typer.Option("--list", help="List stored load tests (newest first)")] = False,
    page: Annotated[int, typer.Option(help="With --list: page number")] = 1,
    limit: Annotated[int, typer.Option(help="With --list: rows per page (1-100)")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """Latency and throughput per concurrency (TTFT, ITL and tokens/s for text), stored with CIs and a plot."""
    if ctx.invoked_subcommand is not None:
        return
    if list_stored:
        _list(model, page, limit, as_json)
        return
    from app.bench.loadtest import LoadTestSpec, plot, run_load_test
    from app.errors import ValidationError

    if not url or not model:
        raise ValidationError(
            "A load test needs --url and --model (or --list, or show ID)", {"url": url, "model": model}
        )
    spec = LoadTestSpec(
        url=url,
        model=model,
        modality=_modality(model, modality),
        concurrency=concurrency or [1, 2, 4, 8, 16],
        requests=requests,
        max_seconds=max_seconds,
        timeout_s=timeout_s,
        prompt=prompt,
        max_tokens=max_tokens,
        api_key=api_key or os.environ.get("VDB_API_KEY") or os.environ.get("OPENAI_API_KEY"),
    )
    spec.check()  # bad input is refused before the database is opened or any request is sent
    repository = _repository()  # opened (its schema brought up to date) before any request: no run is lost to it
    progress = (
        None
        if as_json
        else (
            lambda s: console.print(
                f"c={s['concurrency']}: {s['completed']}/{s['requests']} ok, {fmt(s['request_throughput'])} req/s"
            )
        )
    )
    result = run_load_test(spec, on_level=progress)
    output.mkdir(parents=True, exist_ok=True)
    json_path, png_path = output / f"{result['id']}.json", output / f"{result['id']}.png"
    json_path.write_text(json.dumps(result, indent=2))
    plot(result, png_path)
    repository.save(result, json_path=str(json_path.resolve()), plot_path=str(png_path.resolve()))
    if as_json:
        emit_json({k: v for k, v in result.items() if k != "requests"})
        return
    _print_levels(result)
    console.print(f"stored {result['id']} in the database, {json_path} and {png_path}")


@group.command("show")
@app_errors_exit_2
def show(
    load_test_id: Annotated[str, typer.Argument(help="The id a run printed (load_...)")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """A stored load test: its levels with percentiles and 95% intervals, its spec and provenance."""
    from app.storage.loadtests import full

    repository = _repository()
    row = repository.get(load_test_id)
    result = full(row, repository.levels(load_test_id))
    if as_json:
        emit_json(result)
        return
    _print_levels(result)
    packages = (result["provenance"] or {}).get("packages") or {}
    console.print(
        f"spec hash {result['spec_hash'][:12]}, {len(packages)} package versions recorded; "
        f"records: {result['json_path'] or '-'}; plot: {result['plot_path'] or '-'}"
    )
