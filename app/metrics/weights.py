"""Evaluator networks: where their weights live, and how they are verified.

Weights are read only from the local weights directory (VDB_WEIGHTS_DIR). A
manifest (``manifest.json``) records the sha256 of each installed evaluator;
every load recomputes it and refuses a file that does not match, and the hash
goes into each result's provenance. Upstream publishes no checksums for these
files, so the registry pins none; a user may pin one with ``--sha256``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from app.errors import WeightsError

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class EvaluatorSpec:
    key: str
    kind: Literal["file", "dir"]
    path: str  # relative to the weights directory
    variant: str
    source_url: str | None = None
    hf_repo: str | None = None
    pinned_sha256: str | None = None


EVALUATORS: dict[str, EvaluatorSpec] = {
    "i3d": EvaluatorSpec(
        "i3d",
        "file",
        "i3d_torchscript.pt",
        "I3D Kinetics-400 TorchScript (StyleGAN-V / common FVD release), 400-d logits",
        source_url="https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1",
    ),
    "inception": EvaluatorSpec(
        "inception",
        "file",
        "inception-2015-12-05.pt",
        "InceptionV3 TorchScript with TF 2015-12-05 weights (StyleGAN2-ADA release), 1008 classes",
        source_url="https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt",
    ),
    "clip": EvaluatorSpec(
        "clip",
        "dir",
        "clip-vit-base-patch32",
        "OpenAI CLIP ViT-B/32 (transformers format)",
        hf_repo="openai/clip-vit-base-patch32",
    ),
}


def sha256_of(path: Path) -> str:
    """sha256 of a file, or of a directory's files (relative names and contents, sorted)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _manifest(weights_dir: Path) -> dict[str, Any]:
    path = weights_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def _write_manifest(weights_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = weights_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    tmp.replace(weights_dir / MANIFEST)


def status(key: str, weights_dir: Path) -> tuple[bool, str | None]:
    """(available, reason when not). Cheap: checks presence, not the hash."""
    spec = EVALUATORS[key]
    target = weights_dir / spec.path
    if not target.exists():
        return False, f"missing {target} (install: vid-bench metrics fetch {key} [--from PATH])"
    return True, None


def verified_path(key: str, weights_dir: Path) -> tuple[Path, str]:
    """Path and sha256 of an installed evaluator; WeightsError if absent or altered."""
    spec = EVALUATORS[key]
    _, reason = status(key, weights_dir)
    if reason is not None:  # there is a reason exactly when the evaluator is not available
        raise WeightsError(reason, {"evaluator": key, "path": str(weights_dir / spec.path)})
    target = weights_dir / spec.path
    actual = sha256_of(target)
    expected = _manifest(weights_dir).get(key, {}).get("sha256") or spec.pinned_sha256
    if expected and actual != expected:
        raise WeightsError(
            f"{target} has sha256 {actual}, expected {expected}: the file is corrupt or was replaced; reinstall it",
            {"evaluator": key, "path": str(target), "sha256": actual, "expected_sha256": expected},
        )
    return target, actual


def install(
    key: str, source: Path, weights_dir: Path, expected_sha256: str | None = None, origin: str | None = None
) -> dict[str, Any]:
    """Copy an evaluator's weights into place, verify, and record them in the manifest."""
    if key not in EVALUATORS:
        raise WeightsError(f"Unknown evaluator '{key}'", {"known": sorted(EVALUATORS)})
    spec = EVALUATORS[key]
    source = Path(source).expanduser()
    if spec.kind == "file" and not source.is_file():
        raise WeightsError(f"{key} needs a file; {source} is not one", {"source": str(source)})
    if spec.kind == "dir" and not source.is_dir():
        raise WeightsError(
            f"{key} needs a directory (save_pretrained format); {source} is not one", {"source": str(source)}
        )
    digest = sha256_of(source)
    expected = expected_sha256 or spec.pinned_sha256
    if expected and digest != expected:
        raise WeightsError(
            f"{source} has sha256 {digest}, expected {expected}; not installed",
            {"sha256": digest, "expected_sha256": expected},
        )
    weights_dir.mkdir(parents=True, exist_ok=True)
    target = weights_dir / spec.path
    staging = weights_dir / f".{spec.path}.installing"
    if staging.exists():
        shutil.rmtree(staging) if staging.is_dir() else staging.unlink()
    shutil.copytree(source, staging) if spec.kind == "dir" else shutil.copyfile(source, staging)
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    staging.rename(target)
    manifest = _manifest(weights_dir)
    manifest[key] = {
        "sha256": digest,
        "path": spec.path,
        "origin": origin or str(source),
        "installed_at": datetime.now(UTC).isoformat(),
    }
    _write_manifest(weights_dir, manifest)
    return manifest[key]


def download(key: str, weights_dir: Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """Fetch an evaluator from its public source (needs a network), then install it."""
    import tempfile

    spec = EVALUATORS[key]
    with tempfile.TemporaryDirectory() as tmp:
        if spec.hf_repo:
            from huggingface_hub import snapshot_download

            local = Path(
                snapshot_download(
                    spec.hf_repo, local_dir=Path(tmp) / "repo", allow_patterns=["*.json", "*.txt", "*.safetensors"]
                )
            )
        else:
            import httpx

            if spec.source_url is None:
                raise WeightsError(f"Evaluator {key} names no source to download from", {"evaluator": key})
            local = Path(tmp) / spec.path
            with httpx.stream("GET", spec.source_url, follow_redirects=True, timeout=60) as response:
                response.raise_for_status()
                with local.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
        return install(key, local, weights_dir, expected_sha256, origin=spec.source_url or spec.hf_repo)
