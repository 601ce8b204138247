"""`vid-bench distributed`: a Ray cluster by hand (coordinator = head + gateway, worker = node) and batch jobs
through Ray's Jobs SDK (submit, status, logs, stop).

Token authentication is on: the coordinator creates the cluster's token (``ray get-auth-token``
keeps it in ~/.ray/auth_token) and every node and job client must hold the same one, from that
file or RAY_AUTH_TOKEN. The token is never printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer

from cli.common import _, app_errors_exit_2, collect_prompts, console, emit_json

app = typer.Typer(
    help="Run on a Ray cluster: start a coordinator or a worker node, submit and follow batch jobs.",
    no_args_is_help=True,
)

GCS_PORT = 6379
DASHBOARD_PORT = 8265


def _ray() -> str:
    return str(Path(sys.executable).with_name("ray"))


def _token_env() -> dict[str, str]:
    """The environment for Ray with token authentication, the token taken from where Ray keeps it."""
    from app.errors import ValidationError

    env = dict(os.environ)
    if (
        not env.get("RAY_AUTH_TOKEN")
        and not Path(env.get("RAY_AUTH_TOKEN_PATH", "~/.ray/auth_token")).expanduser().is_file()
    ):
        raise ValidationError(
            "No Ray authentication token: copy the coordinator's ~/.ray/auth_token to this "
            "machine (or set RAY_AUTH_TOKEN)",
            {"setting": "RAY_AUTH_TOKEN"},
        )
    env["RAY_AUTH_MODE"] = "token"
    return env


def _host(coordinator: str) -> str:
    """The coordinator's host from `http://host:8080`, `host:6379` or `host`."""
    parsed = urlparse(coordinator if "://" in coordinator else f"//{coordinator}")
    if not parsed.hostname:
        from app.errors import ValidationError

        raise ValidationError(f"Cannot read a host from --coordinator {coordinator!r}", {"coordinator": coordinator})
    return parsed.hostname


def _run(command: list[str], env: dict[str, str]) -> None:
    from app.errors import VidBenchError

    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise VidBenchError(f"{Path(command[0]).name} {command[1]} failed: {tail[0]}", {"command": command[:2]})


def _shared_state_or_refuse() -> None:
    """A node of a cluster must reach the shared database (refused early, not found out as 401s later)."""
    from app.config import get_settings
    from app.errors import ClusterConfigurationError

    url = get_settings().resolved_database_url
    if url.startswith("sqlite"):
        raise ClusterConfigurationError(
            "A cluster node must reach the shared database: set VDB_DATABASE_URL to the PostgreSQL URL the "
            "coordinator uses (and VDB_RATE_LIMIT_STORAGE to its Redis) before starting the node",
            {"database_url": url, "setting": "VDB_DATABASE_URL"},
        )


@app.command()
@app_errors_exit_2
def coordinator(
    port: Annotated[int, typer.Option(help="Gateway HTTP port.")] = 8080,
    host: Annotated[str, typer.Option(help="Address the gateway and dashboard listen on.")] = "0.0.0.0",
    node_ip: Annotated[str | None, typer.Option(help="This node's IP as other nodes reach it.")] = None,
    ray_port: Annotated[int, typer.Option(help="Ray GCS port workers join on.")] = GCS_PORT,
    dashboard_port: Annotated[int, typer.Option(help="Dashboard and job server port.")] = DASHBOARD_PORT,
    config: Annotated[Path | None, typer.Option(help="Serve config (default deployments/serve.yaml).")] = None,
    num_cpus: Annotated[float | None, typer.Option(help="CPUs the head offers to work (0: none).")] = None,
    max_workers: Annotated[int | None, typer.Option(help="Refused: see the message.")] = None,
    auto_scaling: Annotated[bool, typer.Option("--auto-scaling", help="Refused: see the message.")] = False,
):
    """Start a Ray head (dashboard, job server, token authentication), then deploy the gateway on it."""
    from app.errors import ValidationError

    if max_workers is not None or auto_scaling:
        raise ValidationError(
            "--max-workers/--auto-scaling: adding and removing nodes is the Ray autoscaler's job "
            "(`ray up cluster.yaml`, where max_workers is set per node type); a head started by "
            "hand has the nodes that join it. Serve replicas autoscale per deployments/serve.yaml.",
            {"options": ["--max-workers", "--auto-scaling"]},
        )
    _shared_state_or_refuse()
    env = dict(os.environ, RAY_AUTH_MODE="token")
    if not env.get("RAY_AUTH_TOKEN"):
        _run([_ray(), "get-auth-token", "--generate"], env)  # creates ~/.ray/auth_token once; prints nothing here
    command = [
        _ray(),
        "start",
        "--head",
        f"--port={ray_port}",
        f"--dashboard-host={host}",
        f"--dashboard-port={dashboard_port}",
    ]
    command += [f"--node-ip-address={node_ip}"] if node_ip else []
    command += [f"--num-cpus={num_cpus}"] if num_cpus is not None else []
    _run(command, env)
    address = f"{node_ip or '127.0.0.1'}:{ray_port}"
    serve_command = [
        str(Path(sys.executable).with_name("vid-bench")),
        "serve",
        "--detach",
        "--host",
        host,
        "--port",
        str(port),
    ] + (["--config", str(config)] if config else [])
    _run(serve_command, {**env, "RAY_ADDRESS": address})
    console.print(
        _(
            "coordinator up: Ray at {address}, jobs at {jobs}, gateway at {gateway}",
            address=address,
            jobs=f"http://{node_ip or '127.0.0.1'}:{dashboard_port}",
            gateway=f"http://{host}:{port}",
        )
    )
    join = f"`vid-bench distributed worker --coordinator {node_ip or '<this host>'}`"
    console.print(
        _(
            "workers: copy ~/.ray/auth_token to each node, set VDB_DATABASE_URL / VDB_RATE_LIMIT_STORAGE, "
            "then {command}",
            command=join,
        )
    )


@app.command()
@app_errors_exit_2
def worker(
    coordinator: Annotated[str, typer.Option(help="The coordinator: http://host:8080, host:6379 or host.")],
    gpu_count: Annotated[int | None, typer.Option(help="GPUs this node offers (default: all it has).", min=0)] = None,
    worker_id: Annotated[str | None, typer.Option(help="A label for this node (Ray node label worker-id).")] = None,
    ray_port: Annotated[int, typer.Option(help="The coordinator's Ray GCS port.")] = GCS_PORT,
    num_cpus: Annotated[float | None, typer.Option(help="CPUs this node offers.")] = None,
    node_ip: Annotated[str | None, typer.Option(help="This node's IP as other nodes reach it.")] = None,
    block: Annotated[bool, typer.Option("--block", help="Stay in the foreground until stopped.")] = False,
):
    """Join this machine to the coordinator's cluster as a worker node."""
    _shared_state_or_refuse()
    command = [_ray(), "start", f"--address={_host(coordinator)}:{ray_port}"]
    command += [f"--num-gpus={gpu_count}"] if gpu_count is not None else []
    command += [f"--num-cpus={num_cpus}"] if num_cpus is not None else []
    command += [f"--labels=worker-id={worker_id}"] if worker_id else []
    command += [f"--node-ip-address={node_ip}"] if node_ip else []
    if block:
        os.execvpe(command[0], [*command, "--block"], _token_env())
    _run(command, _token_env())
    where = f"{_host(coordinator)}:{ray_port}"
    console.print(
        _("joined {where} as {worker_id}", where=where, worker_id=worker_id)
        if worker_id
        else _("joined {where}", where=where)
    )


def _jobs(coordinator: str, dashboard_port: int):
    from ray.job_submission import JobSubmissionClient

    os.environ.update({k: v for k, v in _token_env().items() if k.startswith("RAY_AUTH")})
    return JobSubmissionClient(f"http://{_host(coordinator)}:{dashboard_port}")


CoordinatorOption = Annotated[
    str, typer.Option(envvar="VDB_COORDINATOR", help="The coordinator: http://host:8080, host:6379 or host.")
]
DashboardPortOption = Annotated[int, typer.Option(help="The coordinator's job server port.")]


@app.command()
@app_errors_exit_2
def submit(
    coordinator: CoordinatorOption,
    models: Annotated[list[str], typer.Option("--models", help="Catalog models; repeat or list them.")],
    prompts: Annotated[list[str] | None, typer.Option("--prompts", "-p", help="A prompt; repeat for more.")] = None,
    prompts_file: Annotated[Path | None, typer.Option(help="Text file, one prompt per line.")] = None,
    prompt_set: Annotated[str | None, typer.Option(help="A standard set, e.g. DIVERSE_SET_V2.")] = None,
    videos_per_prompt: Annotated[int, typer.Option(min=1, max=100)] = 1,
    max_workers: Annotated[int, typer.Option(min=1, max=64, help="Models benchmarked at once.")] = 1,
    parquet: Annotated[str | None, typer.Option(help="Also write per-video rows here (path or s3://, gs://).")] = None,
    priority: Annotated[str | None, typer.Option(help="Refused: see the message.")] = None,
    dashboard_port: DashboardPortOption = DASHBOARD_PORT,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """Submit a batch benchmark as a Ray job (Jobs SDK); prints the job id."""
    import yaml

    from app.bench.batch import BatchSpec
    from app.errors import ValidationError

    if priority is not None:
        raise ValidationError(
            "--priority is not supported: Ray's job server starts jobs in the order they are "
            "submitted and has no priorities, so a priority would be accepted and ignored",
            {"option": "--priority"},
        )
    spec = BatchSpec(
        models=models,
        prompts=collect_prompts(prompts, prompts_file, prompt_set),
        videos_per_prompt=videos_per_prompt,
        max_workers=max_workers,
        parquet=parquet,
    )
    spec.benchmark_specs()  # refuse a bad model or prompt here, before anything reaches the cluster
    package = Path(tempfile.mkdtemp(prefix="vdb-job-"))
    try:
        (package / "batch.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json", exclude_none=True)))
        job_id = _jobs(coordinator, dashboard_port).submit_job(
            entrypoint="vid-bench batch batch.yaml",
            runtime_env={"working_dir": str(package)},
            metadata={"models": ",".join(models), "submitted_by": "vid-bench distributed submit"},
        )
    finally:
        shutil.rmtree(package, ignore_errors=True)
    if as_json:
        emit_json({"job_id": job_id})
    else:
        print(job_id)


@app.command()
@app_errors_exit_2
def status(
    job_id: str,
    coordinator: CoordinatorOption,
    dashboard_port: DashboardPortOption = DASHBOARD_PORT,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """A job's status and message."""
    info = _jobs(coordinator, dashboard_port).get_job_info(job_id)
    data = {
        "job_id": job_id,
        "status": str(info.status.value if hasattr(info.status, "value") else info.status),
        "message": info.message,
        "entrypoint": info.entrypoint,
        "start_time": info.start_time,
        "end_time": info.end_time,
    }
    if as_json:
        emit_json(data)
    else:
        console.print(f"{job_id}: {data['status']}" + (f" ({info.message})" if info.message else ""))


@app.command()
@app_errors_exit_2
def logs(job_id: str, coordinator: CoordinatorOption, dashboard_port: DashboardPortOption = DASHBOARD_PORT):
    """A job's output so far."""
    print(_jobs(coordinator, dashboard_port).get_job_logs(job_id), end="")


@app.command()
@app_errors_exit_2
def stop(job_id: str, coordinator: CoordinatorOption, dashboard_port: DashboardPortOption = DASHBOARD_PORT):
    """Stop a running job."""
    stopped = _jobs(coordinator, dashboard_port).stop_job(job_id)
    console.print(f"{job_id}: " + (_("stopping") if stopped else _("already finished")))
