"""What can be said about a catalog model beyond its YAML entry, from its task and the files on this machine.

The references ask for a model's capabilities, its size, when it arrived and when it changed, and the
minimum CUDA compute capability. None of these is invented: capabilities follow from the task (what the
gateway really serves for it), the size and dates are read from the checkpoint's files when they are on
disk (null with the reason otherwise), and the compute capability follows from the catalog precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.catalog.spec import ModelSpec
from app.catalog.tiny import builtin_path

CAPABILITIES: dict[str, list[str]] = {
    # what the gateway serves for each task (routes in app/api/routes/inference.py and openai_compat.py)
    "t2v": ["text-to-video"],
    "i2v": ["image-to-video"],
    "t2i": ["text-to-image"],
    "text": ["text-generation", "conversation", "streaming"],
    "tts": ["text-to-speech"],
}

MIN_CUDA_CAPABILITY: dict[str, str] = {
    # the oldest compute capability on which PyTorch's CUDA 12 builds run the precision natively:
    # fp32 on any supported GPU (sm_50), fp16 arithmetic from sm_53, bf16 from Ampere (sm_80)
    "fp32": "5.0",
    "fp16": "5.3",
    "bf16": "8.0",
}


def capabilities(spec: ModelSpec) -> list[str]:
    return list(CAPABILITIES[spec.task])


def cuda_capability(spec: ModelSpec) -> str | None:
    """The minimum CUDA compute capability for the catalog precision; None for a remote endpoint (no local GPU)."""
    if spec.source.kind == "remote":
        return None
    return MIN_CUDA_CAPABILITY.get(spec.requirements.precision)


@dataclass(frozen=True)
class LocalFiles:
    """The checkpoint's files on this machine: total bytes and the oldest and newest modification times."""

    path: Path | None
    size_bytes: int | None
    created_at: datetime | None
    updated_at: datetime | None
    reason: str | None  # why the figures are null


def checkpoint_dir(spec: ModelSpec, models_dir: Path) -> Path | None:
    """Where this model's files are (or would be) on this machine; None when it has none (a remote endpoint)."""
    source = spec.source
    if source.kind == "builtin":
        return builtin_path(models_dir, spec.name)
    if source.kind == "local" and source.path:
        return Path(source.path).expanduser()
    if source.kind == "huggingface" and source.repo_id:
        # the Hugging Face cache layout under <models_dir>/hub (the cache_dir the loaders pass)
        return models_dir / "hub" / f"models--{source.repo_id.replace('/', '--')}"
    return None


def local_files(spec: ModelSpec, models_dir: Path) -> LocalFiles:
    directory = checkpoint_dir(spec, models_dir)
    if directory is None:
        return LocalFiles(None, None, None, None, f"{spec.source.kind} model: no files on this machine")
    if not directory.is_dir():
        return LocalFiles(directory, None, None, None, "not downloaded (or built) on this machine yet")
    size, oldest, newest = 0, None, None
    for path in directory.rglob("*"):
        if path.is_symlink() or not path.is_file():  # the hub cache links snapshots to blobs: count blobs once
            continue
        stat = path.stat()
        size += stat.st_size
        oldest = stat.st_mtime if oldest is None else min(oldest, stat.st_mtime)
        newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
    if oldest is None or newest is None:  # both are set by the first file
        return LocalFiles(directory, None, None, None, "the checkpoint directory is empty")
    return LocalFiles(directory, size, datetime.fromtimestamp(oldest, UTC), datetime.fromtimestamp(newest, UTC), None)


def human_bytes(size: int | float | None) -> str | None:
    """1.5 GB style (powers of 1024, as nvidia-smi and the references print memory)."""
    if size is None:
        return None
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return None  # unreachable


def human_duration(seconds: float | None) -> str | None:
    """7d 4h 23m / 4m 20s / 2.5s: the references' way of writing durations."""
    if seconds is None:
        return None
    if seconds < 60:
        return f"{seconds:.1f}s"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def dependency_problems(spec: ModelSpec) -> list[str]:
    """The catalog's requirement strings (e.g. diffusers>=0.30) this Python environment does not satisfy."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    problems = []
    for text in spec.requirements.dependencies:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            problems.append(f"{text}: not a valid requirement")
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            problems.append(f"{text}: not installed")
            continue
        if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
            problems.append(f"{text}: {installed} installed")
    return problems
