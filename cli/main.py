"""`vid-bench`: the command line. Thin: parse, call app, print.

Errors of the app print as one line `error: CODE: message` and exit 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Benchmark (and serve) video generation models on Ray.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
models_app = typer.Typer(help="The model catalog.", no_args_is_help=True)
metrics_app = typer.Typer(help="Quality metrics and their evaluator weights.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(metrics_app, name="metrics")
auth_app = typer.Typer(help="API keys and users: locally on the data directory, or through a gateway with --url.",
                       no_args_is_help=True)
app.add_typer(auth_app, name="auth")
console = Console()
err_console = Console(stderr=True)


def _fail(error: Exception) -> None:
    from app.errors import VidBenchError

    if isinstance(error, VidBenchError):
        err_console.print(f"[red]error:[/red] {error.code}: {error.message}", soft_wrap=True)
        raise typer.Exit(2)
    raise error


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _collect_prompts(prompts: list[str] | None, prompts_file: Path | None, prompt_set: str | None) -> list[str]:
    from app.bench.prompts import StandardPrompts, read_prompt_file
    from app.errors import ValidationError

    collected = list(prompts or [])
    if prompts_file:
        collected += read_prompt_file(prompts_file)
    if prompt_set:
        try:
            collected += getattr(StandardPrompts, prompt_set.upper())
        except AttributeError:
            raise ValidationError(f"Unknown prompt set '{prompt_set}'", {"available": StandardPrompts.available()}) from None
    if not collected:
        raise ValidationError("Give prompts with --prompts, --prompts-file or --prompt-set", {})
    return collected


def _progress_printer(label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=False)
    tasks: dict[str, int] = {}

    def on_progress(event: dict) -> None:
        key = event["benchmark_id"]
        if key not in tasks:
            tasks[key] = progress.add_task(f"{label} {event['model_name']}", total=event["total"])
        progress.update(tasks[key], completed=event["completed"])
        if event["type"] == "benchmark_error":
            err_console.print(f"[red]{event['model_name']} failed:[/red] {event.get('error')}")
    return progress, on_progress


def _result_table(result) -> Table:
    table = Table(title=f"{result.model_name} - {result.benchmark_id} ({result.status})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("n / note")
    for name, detail in result.metric_details.items():
        ci = detail.get("ci95")
        if detail.get("value") is None:
            note = detail.get("reason") or ""
        elif detail.get("used"):
            note = "from " + ", ".join(detail["used"])
        else:
            note = f"n={detail.get('n')}"
        if detail.get("warning"):
            note += f" ({detail['warning']})"
        table.add_row(name, _fmt(detail["value"]), f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "", note)
    for name, value in result.performance.items():
        table.add_row(name, _fmt(value), "", "" if value is not None else "not measurable on this hardware")
    table.add_row("success_rate", _fmt(result.success_rate), "", "")
    return table


@app.command()
def benchmark(
    model: Annotated[str, typer.Argument(help="Catalog model name (see `vid-bench models list`).")],
    prompts: Annotated[Optional[list[str]], typer.Option("--prompts", "-p", help="A prompt; repeat for more.")] = None,
    prompts_file: Annotated[Optional[Path], typer.Option(help="Text file, one prompt per line.")] = None,
    prompt_set: Annotated[Optional[str], typer.Option(help="A standard set, e.g. DIVERSE_SET_V2.")] = None,
    num_prompts: Annotated[Optional[int], typer.Option(help="Use only the first N prompts.", min=1)] = None,
    num_frames: Annotated[Optional[int], typer.Option()] = None,
    fps: Annotated[Optional[int], typer.Option()] = None,
    num_inference_steps: Annotated[Optional[int], typer.Option()] = None,
    guidance_scale: Annotated[Optional[float], typer.Option()] = None,
    resolution: Annotated[Optional[str], typer.Option(help="WIDTHxHEIGHT")] = None,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    videos_per_prompt: Annotated[int, typer.Option(min=1)] = 1,
    metrics: Annotated[Optional[list[str]], typer.Option("--metrics", help="Metric names (aliases: is, clip_score); default all.")] = None,
    optimization_level: Annotated[str, typer.Option(help="baseline | balanced | performance")] = "baseline",
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    save_videos: Annotated[bool, typer.Option("--save-videos")] = False,
    output: Annotated[Optional[Path], typer.Option(help="Directory for results JSON and Parquet.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
):
    """Benchmark one model: generate, time and score videos; store every result."""
    try:
        from app.bench.suite import BenchmarkSuite

        chosen = _collect_prompts(prompts, prompts_file, prompt_set)[: num_prompts or None]
        progress, on_progress = _progress_printer("benchmark")
        suite = BenchmarkSuite(device=device, output_dir=output, on_progress=on_progress, metrics=metrics)
        with progress:
            result = suite.evaluate_model(model, chosen, num_frames=num_frames, fps=fps,
                                          num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                                          resolution=resolution, seed=seed, videos_per_prompt=videos_per_prompt,
                                          save_videos=save_videos, optimization_level=optimization_level)
        if output:
            from app.storage.export import export_parquet

            export_parquet(suite.runner.repo, [result.benchmark_id], output / f"{result.benchmark_id}.parquet")
    except Exception as exc:  # typed errors become one line; others propagate
        _fail(exc)
    if as_json:
        print(json.dumps(result.to_dict(per_video=False), indent=2))
        return
    console.print(_result_table(result))
    where = f" and {output}/" if output else ""
    console.print(f"Stored in {suite.settings.resolved_database_url}{where} as {result.benchmark_id}")
    if result.status != "completed":
        raise typer.Exit(1)


@app.command()
def compare(
    models: Annotated[list[str], typer.Argument(help="Two or more catalog model names.")],
    prompts: Annotated[Optional[list[str]], typer.Option("--prompts", "-p")] = None,
    prompts_file: Annotated[Optional[Path], typer.Option()] = None,
    prompt_set: Annotated[Optional[str], typer.Option()] = None,
    num_prompts: Annotated[Optional[int], typer.Option(min=1)] = None,
    metrics: Annotated[Optional[list[str]], typer.Option("--metrics")] = None,
    objectives: Annotated[Optional[list[str]], typer.Option("--objective",
                          help="Pareto objective (metric or performance figure); repeat.")] = None,
    max_workers: Annotated[int, typer.Option(min=1)] = 1,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    device: Annotated[str, typer.Option()] = "auto",
    output: Annotated[Optional[Path], typer.Option(help="Write the comparison report (JSON) here.")] = None,
):
    """Benchmark several models on the same prompts; rank them and print the Pareto frontier."""
    try:
        from app.bench.suite import BenchmarkSuite
        from app.errors import ValidationError

        if len(models) < 2:
            raise ValidationError("compare needs at least two models", {"models": models})
        chosen = _collect_prompts(prompts, prompts_file, prompt_set)[: num_prompts or None]
        progress, on_progress = _progress_printer("compare")
        suite = BenchmarkSuite(device=device, on_progress=on_progress, metrics=metrics)
        with progress:
            results = suite.evaluate_multiple_models(models, chosen, max_workers=max_workers, seed=seed)
        report = suite.compare_models(results, objectives)
    except Exception as exc:
        _fail(exc)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2))
    table = Table(title=f"Ranking by {report['rank_by']}")
    for column in ["rank", "model", *report["pareto_objectives"], "pareto"]:
        table.add_column(column)
    for entry in report["ranking"]:
        name = entry["model_name"]
        values = [_fmt(report["models"][name].get(o)) for o in report["pareto_objectives"]]
        table.add_row(_fmt(entry["rank"]), name, *values, "yes" if name in report["pareto_frontier"] else "")
    console.print(table)
    if report["skipped_objectives"]:
        console.print(f"Objectives left out (null for some model): {', '.join(report['skipped_objectives'])}")
    console.print(f"Pareto frontier: {', '.join(report['pareto_frontier'])}")


@models_app.command("list")
def models_list(modality: Annotated[Optional[str], typer.Option(help="video | image | text | speech")] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False):
    """List catalog models."""
    from app.catalog import get_catalog

    specs = get_catalog().list(modality)
    if as_json:
        print(json.dumps([s.public_dict() for s in specs], indent=2))
        return
    table = Table(title="Models")
    for column in ["name", "task", "source", "VRAM GB", "precision", "max frames", "resolutions"]:
        table.add_column(column)
    for s in specs:
        table.add_row(s.name, s.task, s.source.kind, _fmt(s.requirements.vram_gb), s.requirements.precision,
                      _fmt(s.max_frames), ", ".join(s.resolutions))
    console.print(table)


@models_app.command("info")
def models_info(model: str):
    """Everything the catalog knows about one model (JSON)."""
    from app.catalog import get_catalog

    try:
        print(json.dumps(get_catalog().get(model).public_dict(), indent=2))
    except Exception as exc:
        _fail(exc)


@models_app.command("health-check")
def models_health_check(model: str, device: Annotated[str, typer.Option()] = "auto"):
    """Load the model and time one generation with its smallest settings."""
    import time

    from app.catalog import get_catalog
    from app.engines.video import VideoEngine

    try:
        spec = get_catalog().get(model)
        engine = VideoEngine(spec, device)
        load_s = engine.load()
        params = {"num_frames": int(spec.parameters["num_frames"].min or spec.parameters["num_frames"].default),
                  "num_inference_steps": 1}
        started = time.perf_counter()
        result = engine.generate("health check: a calm lake", params, seed=0)
        generation_s = time.perf_counter() - started
    except Exception as exc:
        _fail(exc)
    print(json.dumps({"model_name": model, "status": "healthy", "device": engine.device,
                      "load_time_ms": load_s * 1000, "test_generation_ms": generation_s * 1000,
                      "frames": result.num_frames}, indent=2))


@metrics_app.command("list")
def metrics_list(as_json: Annotated[bool, typer.Option("--json")] = False):
    """Every metric with its direction and whether its evaluator weights are installed."""
    from app.config import get_settings
    from app.metrics.registry import METRICS
    from app.metrics.weights import status

    weights_dir = get_settings().resolved_weights_dir
    rows = []
    for spec in METRICS.values():
        available, reason = (True, None) if spec.evaluator is None else status(spec.evaluator, weights_dir)
        rows.append({**spec.to_dict(), "available": available, "missing": reason})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Metrics (weights directory: {weights_dir})")
    for column in ["name", "better", "level", "evaluator", "status"]:
        table.add_column(column)
    for r in rows:
        table.add_row(r["name"], "higher" if r["higher_is_better"] else "lower", r["level"], r["evaluator"] or "-",
                      "available" if r["available"] else f"unavailable: {r['missing']}")
    console.print(table)


@metrics_app.command("fetch")
def metrics_fetch(
    evaluator: Annotated[str, typer.Argument(help="i3d | inception | clip")],
    source: Annotated[Optional[Path], typer.Option("--from", help="Install from a local file or directory.")] = None,
    sha256: Annotated[Optional[str], typer.Option(help="Expected sha256; refuse anything else.")] = None,
):
    """Install evaluator weights: download from the public source, or copy --from a local path."""
    from app.config import get_settings
    from app.errors import WeightsError
    from app.metrics.weights import EVALUATORS, download, install

    weights_dir = get_settings().resolved_weights_dir
    try:
        if evaluator not in EVALUATORS:
            raise WeightsError(f"Unknown evaluator '{evaluator}'", {"known": sorted(EVALUATORS)})
        if source:
            entry = install(evaluator, source, weights_dir, sha256)
        else:
            try:
                entry = download(evaluator, weights_dir, sha256)
            except WeightsError:
                raise
            except Exception as exc:  # no network, HTTP error: say so and how to install offline
                raise WeightsError(f"Download of {evaluator} failed ({type(exc).__name__}: {exc}); on a machine "
                                   f"without network, copy the file here with --from PATH", {}) from exc
    except Exception as exc:
        _fail(exc)
    console.print(f"installed {evaluator} in {weights_dir / EVALUATORS[evaluator].path} sha256={entry['sha256']}")


@app.command()
def profile(
    model: str,
    optimization_levels: Annotated[list[str], typer.Option("--optimization-levels",
                                   help="Levels to compare: baseline balanced performance.")] = ["baseline"],
    test_prompts: Annotated[int, typer.Option(min=1, help="How many DIVERSE_SET_V2 prompts to use.")] = 3,
    detailed: Annotated[bool, typer.Option("--detailed", help="Also print per-phase timings.")] = False,
    device: Annotated[str, typer.Option()] = "auto",
    output: Annotated[Optional[Path], typer.Option(help="Write the report (JSON) here.")] = None,
):
    """Run the same prompts under each optimization level: latency, frames/s, phases, memory, energy, quality."""
    try:
        from app.bench.prompts import StandardPrompts
        from app.bench.suite import BenchmarkSuite

        progress, on_progress = _progress_printer("profile")
        suite = BenchmarkSuite(device=device, on_progress=on_progress)
        with progress:
            report = suite.profile_model(model, optimization_levels, StandardPrompts.DIVERSE_SET_V2[:test_prompts])
    except Exception as exc:
        _fail(exc)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2))
    table = Table(title=f"Optimization levels: {model}")
    columns = ["level", "latency ms", "frames/s", "peak VRAM GB", "peak RSS MB", "energy J", "temporal_consistency"]
    if detailed:
        columns += ["encode s", "denoise s", "decode s"]
    for column in columns:
        table.add_column(column)
    for level, entry in report["levels"].items():
        if entry["status"] == "unsupported":
            continue
        perf = entry["performance"]
        row = [level, _fmt(perf["avg_latency_ms"]), _fmt(perf["throughput_fps"]), _fmt(perf["peak_vram_gb"]),
               _fmt(perf["peak_rss_mb"]), _fmt(perf["total_energy_j"]), _fmt(entry["metrics"].get("temporal_consistency"))]
        if detailed:
            row += [_fmt(entry["phases_mean"][p]) for p in ("encode_s", "denoise_s", "decode_s")]
        table.add_row(*row)
    console.print(table)
    for level, entry in report["levels"].items():
        if entry["status"] == "unsupported":
            console.print(f"{level}: not run here ({entry['reason']})")


@app.command()
def optimize(
    model: str,
    objective: Annotated[str, typer.Option(help="quality | latency | balanced | quality_under_latency | "
                                                "latency_above_quality")] = "quality",
    strategy: Annotated[str, typer.Option(help="bayesian | random | grid | pareto")] = "bayesian",
    max_evaluations: Annotated[int, typer.Option(min=1)] = 20,
    guidance_scale: Annotated[Optional[tuple[float, float]], typer.Option(help="Range to search, e.g. 1 15")] = None,
    steps: Annotated[Optional[list[int]], typer.Option("--steps", help="num_inference_steps values; repeat")] = None,
    frames: Annotated[Optional[list[int]], typer.Option("--frames", help="num_frames values; repeat")] = None,
    scheduler: Annotated[Optional[list[str]], typer.Option("--scheduler", help="scheduler names; repeat")] = None,
    latency_budget_ms: Annotated[Optional[float], typer.Option()] = None,
    quality_floor: Annotated[Optional[float], typer.Option()] = None,
    device: Annotated[str, typer.Option()] = "cpu",
    output: Annotated[Optional[Path], typer.Option(help="Write the result (JSON) here.")] = None,
):
    """Search generation settings with Ray Tune + Optuna; every trial is a real benchmark."""
    try:
        from tuning import AIOptimizationEngine, SearchSpace

        spec = __import__("app.catalog", fromlist=["get_catalog"]).get_catalog().get(model)
        g = spec.parameters["guidance_scale"]
        space = SearchSpace(continuous_params={"guidance_scale": tuple(guidance_scale) if guidance_scale
                                               else (g.min, g.max)},
                            discrete_params={k: v for k, v in {"num_inference_steps": steps, "num_frames": frames}.items()
                                             if v},
                            categorical_params={"scheduler": scheduler} if scheduler else {})
        result = AIOptimizationEngine().optimize_benchmark_parameters(
            model, objective, strategy, space, max_evaluations, latency_budget_ms=latency_budget_ms,
            quality_floor=quality_floor, device=device, verbose=1)
    except Exception as exc:
        _fail(exc)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result.to_dict(), indent=2, default=str))
    table = Table(title=f"{strategy} search for {model} ({objective}), {len(result.trials)} trials, "
                        f"{result.elapsed_time:.1f}s")
    for column in ["config", "score", "quality", "latency ms", "pareto"]:
        table.add_column(column)
    for trial in sorted(result.trials, key=lambda t: -(t["score"] or float("-inf"))):
        table.add_row(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in trial["config"].items()}),
                      _fmt(trial["score"]), _fmt(trial["quality"]), _fmt(trial["latency_ms"]),
                      "yes" if trial in result.pareto_set else "")
    console.print(table)
    console.print(f"best parameters: {result.best_parameters} (score {_fmt(result.best_score)}); "
                  f"experiment: {result.experiment_path}")


@app.command()
def serve(
    config: Annotated[Path, typer.Option(help="Serve config file (applications with deployments.app:build_app).")] =
        Path(__file__).resolve().parents[1] / "deployments" / "serve.yaml",
    host: Annotated[Optional[str], typer.Option(help="Override the config's HTTP host.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Override the config's HTTP port.")] = None,
):
    """Start Ray and Ray Serve with the gateway (default: tiny models on CPU at 127.0.0.1:8080)."""
    import threading

    import yaml

    try:
        from app.errors import ValidationError

        if not config.is_file():
            raise ValidationError(f"Serve config {config} does not exist", {"path": str(config)})
        data = yaml.safe_load(config.read_text())
        http = {**data.get("http_options", {}), **({"host": host} if host else {}), **({"port": port} if port else {})}
        from ray import serve as ray_serve

        from app.bench.runner import ensure_ray
        from deployments.app import build_app

        from app.config import get_settings
        from app.security.bootstrap import ensure_admin_key

        key_file, created = ensure_admin_key(get_settings())
        ensure_ray()
        ray_serve.start(http_options=http)
        for application in data["applications"]:
            ray_serve.run(build_app(application.get("args", {})), name=application["name"],
                          route_prefix=application.get("route_prefix", "/"))
    except Exception as exc:
        _fail(exc)
    url = f"http://{http.get('host', '127.0.0.1')}:{http.get('port', 8000)}"
    print(f"vid-bench gateway at {url}  (API {url}/api/v1, docs {url}/docs); Ctrl-C stops it", flush=True)
    print(f"admin API key {'created in' if created else 'in'} {key_file} (readable by you only); "
          f"send it as 'X-API-Key: <key>' or run: export VDB_API_KEY=$(cat {key_file})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        ray_serve.shutdown()


UrlOption = Annotated[Optional[str], typer.Option("--url", envvar="VDB_URL",
                                                 help="A gateway to manage instead of the local data directory.")]
ApiKeyOption = Annotated[Optional[str], typer.Option("--api-key", envvar="VDB_API_KEY",
                                                     help="Admin key for --url (default: VDB_API_KEY).")]


def _local_authenticator():
    from app.config import get_settings
    from app.security.auth import Authenticator
    from app.storage.repository import BenchmarkRepository

    settings = get_settings()
    settings.ensure_dirs()
    return Authenticator(settings, BenchmarkRepository(settings.resolved_database_url))


def _key_row(view: dict) -> list[str]:
    return [view["key_id"], view["name"], view["prefix"] + "...", ",".join(view["permissions"]), view["tier"],
            view["status"], str(view.get("expires_at") or "-"), str(view.get("last_used_at") or "-")]


@auth_app.command("create-key")
def auth_create_key(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    permission: Annotated[list[str], typer.Option("--permission", "-p", help="A scope; repeat for several.")],
    tier: Annotated[str, typer.Option(help="free | pro | enterprise")] = "free",
    expires_in_days: Annotated[Optional[int], typer.Option(min=1, help="Days until the key stops working.")] = None,
    url: UrlOption = None, api_key: ApiKeyOption = None,
):
    """Create an API key and print it (the only time it is shown)."""
    from datetime import timedelta

    try:
        if url:
            from vid_diffusion_bench.client import VidBenchClient

            with VidBenchClient(url, api_key=api_key) as client:
                created = client.create_api_key(name, permission, tier, expires_in_days)
            key_id, key = created["key_id"], created["key"]
        else:
            from app.storage.tables import utcnow

            expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
            row, key = _local_authenticator().keys.create(name, permission, tier, expires, created_by="cli")
            key_id = row.id
    except Exception as exc:
        _fail(exc)
    err_console.print(f"created {key_id}; store the key now, it is not shown again:")
    print(key)


@auth_app.command("list-keys")
def auth_list_keys(include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
                   url: UrlOption = None, api_key: ApiKeyOption = None):
    """List API keys (never the keys themselves: only their first characters)."""
    try:
        if url:
            from vid_diffusion_bench.client import VidBenchClient

            with VidBenchClient(url, api_key=api_key) as client:
                views = client.list_api_keys(include_revoked)["api_keys"]
        else:
            from app.api.schemas.auth import ApiKeyView

            rows = _local_authenticator().store.list_keys(include_revoked=include_revoked)
            views = [ApiKeyView.from_key(r).model_dump(mode="json") for r in rows]
    except Exception as exc:
        _fail(exc)
    table = Table("id", "name", "key", "permissions", "tier", "status", "expires", "last used")
    for view in views:
        table.add_row(*_key_row(view))
    console.print(table)


@auth_app.command("revoke-key")
def auth_revoke_key(key_id: str, url: UrlOption = None, api_key: ApiKeyOption = None):
    """Revoke an API key; requests with it are refused from now on."""
    try:
        if url:
            from vid_diffusion_bench.client import VidBenchClient

            with VidBenchClient(url, api_key=api_key) as client:
                client.revoke_api_key(key_id)
        else:
            _local_authenticator().store.revoke_key(key_id)
    except Exception as exc:
        _fail(exc)
    console.print(f"revoked {key_id}")


@auth_app.command("create-user")
def auth_create_user(
    username: Annotated[str, typer.Option(help="Login name.")],
    permission: Annotated[list[str], typer.Option("--permission", "-p", help="A scope; repeat for several.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          envvar="VDB_NEW_USER_PASSWORD", help="At least 12 characters.")],
    tier: Annotated[str, typer.Option(help="free | pro | enterprise")] = "free",
):
    """Create a user who logs in at POST /api/v1/auth/login (on the local data directory)."""
    try:
        row = _local_authenticator().users.create(username, password, permission, tier)
    except Exception as exc:
        _fail(exc)
    console.print(f"created user {row.username} ({row.id})")


@app.command()
def export(benchmark_ids: list[str], output: Annotated[Path, typer.Option(help="Parquet file to write.")]):
    """Export stored per-video results to Parquet."""
    from app.config import get_settings
    from app.storage.export import export_parquet
    from app.storage.repository import BenchmarkRepository

    try:
        path = export_parquet(BenchmarkRepository(get_settings().resolved_database_url), benchmark_ids, output)
    except Exception as exc:
        _fail(exc)
    console.print(f"wrote {path}")


MULTI_VALUE_OPTIONS = {"--prompts", "-p", "--metrics", "--objective", "--optimization-levels", "--steps", "--frames",
                       "--scheduler"}


def expand_multi_value_options(argv: list[str]) -> list[str]:
    """Accept the reference's `--prompts "A" "B"` form: values up to the next option repeat the option."""
    out: list[str] = []
    current: str | None = None
    for token in argv:
        if token.startswith("-"):
            current = token if token in MULTI_VALUE_OPTIONS else None
            out.append(token)
        elif current is not None and out[-1] != current:
            out.extend([current, token])
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app(args=expand_multi_value_options(list(sys.argv[1:] if argv is None else argv)), prog_name="vid-bench")


if __name__ == "__main__":
    sys.exit(main())
