"""`vid-bench federated`: create a session on a coordinator, join one as a participant, follow it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import _, app_errors_exit_2, console, emit_json, fmt

app = typer.Typer(help="Federated benchmarks across organisations, with differential privacy.", no_args_is_help=True)

CoordinatorOption = Annotated[
    str | None, typer.Option("--coordinator", help="Coordinator (gateway) URL; default VDB_FEDERATED_COORDINATOR_URL.")
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="VDB_API_KEY", help="API key for the coordinator (default: VDB_API_KEY)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _read_spec(path: Path) -> dict:
    from app.errors import ValidationError
    from app.i18n import Message

    if not path.is_file():
        raise ValidationError(Message("Spec file {path} does not exist", path=str(path)), {"path": str(path)})
    try:
        spec = json.loads(path.read_text())
    except ValueError as exc:
        raise ValidationError(
            Message("Spec file {path} is not JSON: {error}", path=str(path), error=str(exc)), {"path": str(path)}
        ) from None
    if not isinstance(spec, dict):
        raise ValidationError(
            Message("The spec file holds the benchmark_spec object (models, prompts, parameters)"), {"path": str(path)}
        )
    return spec.get("benchmark_spec", spec)


@app.command()
@app_errors_exit_2
def create(
    session_id: Annotated[str, typer.Option("--session-id", help="The session's id.")],
    participants: Annotated[list[str], typer.Option("--participants", help="Participant ids (space separated).")],
    spec: Annotated[Path, typer.Option("--spec", help="JSON file: benchmark_spec (models, prompts, parameters).")],
    privacy_level: Annotated[str, typer.Option("--privacy-level", help="none | differential")] = "differential",
    epsilon: Annotated[float | None, typer.Option(help="Privacy budget per participant (default 1.0).")] = None,
    delta: Annotated[float | None, typer.Option(help="Delta, for the Gaussian mechanism.")] = None,
    mechanism: Annotated[str | None, typer.Option(help="laplace | gaussian (default from delta).")] = None,
    consensus_threshold: Annotated[
        float, typer.Option(help="Share of participants whose reports trigger the aggregate.")
    ] = 1.0,
    timeout_minutes: Annotated[int, typer.Option(help="Deadline; the aggregate is built then at the latest.")] = 120,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate", help="Also run every participant here, each a Ray actor with its own data directory."
        ),
    ] = False,
    coordinator: CoordinatorOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
):
    """Create a federated session (checked completely before anything is stored)."""
    from app.config import get_settings
    from app.federated.spec import SessionSpec
    from vid_diffusion_bench.federated import create_federated_session

    grid = _read_spec(spec)
    privacy = {
        k: v
        for k, v in {"privacy_level": privacy_level, "epsilon": epsilon, "delta": delta, "mechanism": mechanism}.items()
        if v is not None
    }
    fields: dict[str, Any] = {  # plain JSON values: SessionSpec checks them and builds its nested models
        "session_id": session_id,
        "participants": participants,
        "benchmark_spec": grid,
        "privacy_config": privacy,
        "consensus_threshold": consensus_threshold,
        "timeout_minutes": timeout_minutes,
    }
    SessionSpec(**fields).tasks(get_settings())
    session = asyncio.run(
        create_federated_session(
            session_id=session_id,
            participants=participants,
            benchmark_spec=grid,
            privacy_level=privacy_level,
            epsilon=epsilon,
            delta=delta,
            mechanism=mechanism,
            consensus_threshold=consensus_threshold,
            timeout_minutes=timeout_minutes,
            coordinator_endpoint=coordinator,
            api_key=api_key,
            simulate=simulate,
        )
    )
    if as_json:
        emit_json(
            {
                **session.details,
                "status": session.status,
                "participants": session.participants,
                "results": session.results,
            }
        )
        return
    console.print(
        escape(
            _(
                "Federated session {session_id} {status}: {participants} participants, {tasks} tasks, "
                "coordinator {coordinator}",
                session_id=session.session_id,
                status=session.status,
                participants=session.participant_count,
                tasks=session.details.get("tasks_total"),
                coordinator=session.coordinator_endpoint,
            )
        )
    )
    if session.results is not None:
        _print_results(session.results)


@app.command()
@app_errors_exit_2
def join(
    session_id: Annotated[str, typer.Option("--session-id", help="The session to join.")],
    participant_id: Annotated[str, typer.Option("--participant-id", help="Your id, as the session names it.")],
    coordinator: CoordinatorOption = None,
    api_key: ApiKeyOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where your raw results, key and ledger stay (default <data_dir>/federated/SESSION/PARTICIPANT)."
        ),
    ] = None,
    key_type: Annotated[str, typer.Option(help="ed25519 | ecdsa-p256 (a new key only).")] = "ed25519",
    wait_minutes: Annotated[float | None, typer.Option(help="Give up waiting for the start after this long.")] = None,
    as_json: JsonOption = False,
):
    """Join, run your tasks locally (a Ray actor on your Ray), post signed privatised aggregates. Resumable."""
    from vid_diffusion_bench.federated import join_federated_session

    result = asyncio.run(
        join_federated_session(
            participant_id=participant_id,
            session_id=session_id,
            coordinator_endpoint=coordinator,
            api_key=api_key,
            data_dir=data_dir,
            key_type=key_type,
            wait_minutes=wait_minutes,
        )
    )
    if as_json:
        emit_json(result.__dict__)
        return
    spent = _("n/a") if result.local_epsilon_spent is None else fmt(result.local_epsilon_spent, digits=6)
    console.print(
        escape(
            _(
                "{participant_id}: {posted}/{total} tasks reported to {session_id} (session phase {phase}; "
                "epsilon spent {spent})",
                participant_id=participant_id,
                posted=result.tasks_posted,
                total=result.tasks_total,
                session_id=session_id,
                phase=result.phase,
                spent=spent,
            )
        )
    )


@app.command()
@app_errors_exit_2
def status(
    session_id: Annotated[str, typer.Option("--session-id", help="The session.")],
    coordinator: CoordinatorOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
):
    """Phase, participants, task progress and privacy budget of a session."""
    from vid_diffusion_bench.federated import session_status

    data = session_status(session_id, coordinator, api_key)
    if as_json:
        emit_json(data)
        return
    parts, progress, budget = data["participants"], data["progress"], data["privacy_budget"]
    console.print(
        escape(
            _(
                "{session_id}: {status} (phase {phase})",
                session_id=data["session_id"],
                status=data["status"],
                phase=data["phase"],
            )
        )
    )
    console.print(
        _(
            "participants: {joined}/{total} joined, {completed} completed; tasks {tasks_completed}/{tasks_total} "
            "({percentage}%)",
            joined=parts["joined"],
            total=parts["total"],
            completed=parts["completed"],
            tasks_completed=progress["tasks_completed"],
            tasks_total=progress["tasks_total"],
            percentage=fmt(progress["percentage"]),
        )
    )
    if budget.get("epsilon_total") is not None:
        console.print(
            _(
                "privacy: epsilon {spent} of {total} spent ({mechanism})",
                spent=fmt(budget["epsilon_spent"], digits=6),
                total=fmt(budget["epsilon_total"]),
                mechanism=budget["mechanism"],
            )
        )


@app.command()
@app_errors_exit_2
def results(
    session_id: Annotated[str, typer.Option("--session-id", help="The session.")],
    coordinator: CoordinatorOption = None,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
):
    """The published aggregate, with how many participants it covers and the noise."""
    from vid_diffusion_bench.federated import session_results

    data = session_results(session_id, coordinator, api_key)
    if as_json:
        emit_json(data)
        return
    _print_results(data)


def _print_results(data: dict) -> None:
    from rich.table import Table

    console.print(
        escape(
            _(
                "aggregate of {count}/{total} participants ({trigger}), privacy {level} {mechanism}",
                count=data["participant_count"],
                total=data["participants_total"],
                trigger=data["trigger"],
                level=data["privacy"]["privacy_level"],
                mechanism=data["privacy"].get("mechanism") or "",
            ).rstrip()
        )
    )
    table = Table(
        _("task"), _("model"), _("parameters"), _("metric"), _("value"), _("95% CI"), _("noise sd"), _("videos")
    )
    for task in data["tasks"]:
        for metric, figure in task["metrics"].items():
            ci = figure.get("ci95")
            table.add_row(
                task["task_id"],
                task["model_name"],
                json.dumps(task["parameters"]),
                metric,
                fmt(figure["value"]),
                "" if ci is None else f"[{fmt(ci[0])}, {fmt(ci[1])}]",
                "" if figure.get("noise_sd") is None else fmt(figure["noise_sd"], digits=3),
                str(figure["videos"]),
            )
    console.print(table)
