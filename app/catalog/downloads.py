"""Downloading models into the models directory, with real byte progress.

Sources: a Hugging Face repo (``huggingface_hub.snapshot_download``), a local
path (file or directory, copied), or an HTTP(S) URL (streamed). Everything is
written under ``<models>/downloads/<name>``; a name that is not a plain
identifier, or that would resolve outside that directory, is refused before
anything happens. A download lands in a staging directory and is renamed into
place when complete, so a failed one never leaves a half model under its name.

Downloads wait in a priority queue (high, normal, low; first come within one) for one of a few slots. A finished
download is registered in the catalog (a YAML entry under ``<models>/catalog``, which every process's
``get_catalog`` reads), so the model is usable by name at once; with ``auto_assign`` it is also deployed.
"""

from __future__ import annotations

import heapq
import itertools
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from app.errors import (
    DownloadConflictError,
    LocalSourceNotFoundError,
    PermissionDeniedError,
    ValidationError,
    VidBenchError,
)
from app.i18n import Message

Source = Literal["huggingface", "local", "http"]
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
REPO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$"  # 'gpt2' or 'owner/name'
REPO_ID = re.compile(REPO_ID_PATTERN)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_NO_SPACE = r"[^ \t\n\r\f\v\x00-\x1f\x7f"  # explicit: \s differs between regex engines
URL_PATTERN = (
    rf"^https?://(?:{_NO_SPACE}/@]+@)?{_LABEL}(?:\.{_LABEL})*\.?(?::{_PORT})?"
    rf"(?:[/?#]{_NO_SPACE}]*)?$"
)
"""An http(s) URL whose host is a DNS name (ASCII or punycode labels) with an optional valid port, and no spaces or
control characters: the same rule in the OpenAPI schema, pydantic and :func:`check_url`."""


def check_url(location: str) -> None:
    """Refuse a URL the download thread could only fail on, before the download is accepted."""
    if not re.match(URL_PATTERN, location):
        raise ValidationError(
            "an http source needs an http:// or https:// URL with a valid host name and port",
            {"location": location[:200]},
        )


def safe_target(models_dir: Path, name: str) -> Path:
    """<models>/downloads/<name>, or ValidationError when the name could escape it."""
    root = (Path(models_dir) / "downloads").resolve()
    if not NAME.match(name or "") or name in (".", ".."):
        raise ValidationError(
            "model_name must be letters, digits, '.', '_' or '-' (at most 100), not a path", {"model_name": name}
        )
    target = (root / name).resolve()
    if target.parent != root:
        raise ValidationError("model_name resolves outside the models directory", {"model_name": name})
    return target


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


class DownloadStore(Protocol):
    """Where downloads are recorded (``app.storage.downloads.DownloadRepository``): the catalog issues no SQL."""

    def add(
        self,
        model_name: str,
        source: str,
        location: str,
        target: str,
        total_bytes: int | None = None,
        priority: str = "normal",
        auto_assign: bool = False,
    ) -> Any: ...

    def start(self, download_id: str) -> None: ...

    def get(self, download_id: str) -> Any: ...

    def update(self, download_id: str, **fields: Any) -> None: ...

    def finish(self, download_id: str, status: str, **fields: Any) -> None: ...

    def measured_speed(self, source: str) -> float | None: ...


Priority = Literal["low", "normal", "high"]
PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}
OnReady = Callable[[str], str]
"""Called with the registered model's name when a download with auto_assign completes; returns what was done."""


def estimated_seconds(total_bytes: int | None, speed: float | None) -> float | None:
    return total_bytes / speed if total_bytes and speed else None


class DownloadManager:
    """Starts downloads in priority order, at most ``slots`` at once; a finished download is registered in the
    catalog (usable by name) and, with ``auto_assign``, handed to ``on_ready`` to deploy.

    The queue is this process's: priorities order the downloads one gateway process accepted.
    """

    def __init__(
        self,
        store: DownloadStore,
        models_dir: Path,
        local_roots: list[Path] | None = None,
        slots: int = 2,
        catalog_dir: Path | None = None,
        on_ready: OnReady | None = None,
    ):
        from app.catalog.spec import registered_dir

        self.store = store
        self.models_dir = Path(models_dir)
        self.local_roots = [Path(r).expanduser().resolve() for r in (local_roots or [])]
        self.slots = max(1, int(slots))
        self.catalog_dir = Path(catalog_dir) if catalog_dir is not None else registered_dir(self.models_dir)
        self.on_ready = on_ready
        self._queue: list[tuple[int, int, tuple]] = []
        self._order = itertools.count()
        self._running = 0
        self._lock = threading.Lock()

    def _check_local(self, location: str) -> None:
        """A local source must lie inside one of the configured roots: the API cannot copy arbitrary server files."""
        path = Path(location).expanduser().resolve()
        if not any(path == root or root in path.parents for root in self.local_roots):
            raise PermissionDeniedError(
                "local sources must lie under VDB_LOCAL_MODEL_ROOTS",
                {"location": location, "allowed_roots": [str(r) for r in self.local_roots]},
            )
        if not path.exists():
            raise LocalSourceNotFoundError(
                Message("local path {location} does not exist", location=location), {"location": location}
            )

    def start(
        self,
        model_name: str,
        source: Source,
        location: str | None,
        priority: Priority = "normal",
        auto_assign: bool = False,
    ) -> Any:
        """Queue a download; it starts at once when a slot is free, else after the queued ones of higher priority.

        ``model_name`` may be a Hub repo id ('owner/name'): it then lands in 'owner--name'. A catalog model's name
        or alias with no location downloads that model's own checkpoint (its Hub repo).
        """
        if priority not in PRIORITY_RANK:
            raise ValidationError(
                f"priority must be one of {list(PRIORITY_RANK)}",
                {"parameter": "priority", "value": priority, "allowed": list(PRIORITY_RANK)},
            )
        if auto_assign and self.on_ready is None:
            raise ValidationError(
                "auto_assign needs a gateway that deploys models; here a download is only registered in the catalog",
                {"parameter": "auto_assign"},
            )
        catalog_model = self._catalog_model(model_name)
        if catalog_model is not None and location is None and source == "huggingface":
            if catalog_model.source.kind != "huggingface":
                raise ValidationError(
                    f"'{catalog_model.name}' is a {catalog_model.source.kind} model: nothing to download",
                    {"model_name": model_name},
                )
            model_name, location = catalog_model.name, catalog_model.source.repo_id
        target = safe_target(self.models_dir, model_name.replace("/", "--"))
        location = location or model_name
        if source == "huggingface" and not REPO_ID.match(location):
            raise ValidationError("a Hugging Face source needs a repo id like 'owner/name'", {"location": location})
        if source == "local":
            self._check_local(location)
        if source == "http":
            check_url(location)
        if target.exists():
            raise DownloadConflictError(
                Message("{name} already exists; choose another model_name", name=target.name),
                {"model_name": model_name},
            )
        total = self._size_before(source, location)
        row = self.store.add(
            model_name, source, location, str(target), total_bytes=total, priority=priority, auto_assign=auto_assign
        )
        job = (row.id, source, location, target, model_name)
        with self._lock:
            now = not self._queue and self._running < self.slots
            if now:
                self._running += 1
            else:
                heapq.heappush(self._queue, (PRIORITY_RANK[priority], next(self._order), job))
        if not now:
            return self.store.get(row.id)  # queued, as accepted
        self.store.start(row.id)
        accepted = self.store.get(row.id)  # downloading, nothing moved yet: what the caller is answered
        threading.Thread(target=self._run_then_next, args=job, daemon=True).start()
        return accepted

    def get(self, download_id: str) -> Any:
        return self.store.get(download_id)

    def estimated_speed(self, source: str) -> float | None:
        """Bytes/s measured on this installation's finished downloads from this kind of source."""
        return self.store.measured_speed(source)

    @staticmethod
    def _catalog_model(name: str):
        from app.catalog.spec import get_catalog

        try:
            return get_catalog().get(name)
        except VidBenchError:
            return None

    def _size_before(self, source: Source, location: str) -> int | None:
        """The size known before any byte moves: a local tree's, an HTTP Content-Length, the Hub's file sizes;
        None when the source does not say (the download then reports it once known)."""
        if source == "local":
            return _tree_size(Path(location).expanduser())
        try:
            if source == "http":
                import httpx

                response = httpx.head(location, follow_redirects=True, timeout=5)
                length = response.headers.get("Content-Length")
                return int(length) if response.is_success and length else None
            from huggingface_hub import HfApi

            info = HfApi().model_info(location, files_metadata=True, timeout=5)
            return sum(s.size or 0 for s in info.siblings or []) or None
        except Exception:  # noqa: BLE001 - unknown until the download itself asks (and reports any failure)
            return None

    def _pump(self) -> None:
        """Start queued downloads while slots are free, highest priority first (first come within a priority)."""
        with self._lock:
            ready = []
            while self._queue and self._running < self.slots:
                ready.append(heapq.heappop(self._queue)[2])
                self._running += 1
        for job in ready:
            self.store.start(job[0])
            threading.Thread(target=self._run_then_next, args=job, daemon=True).start()

    def _run_then_next(self, download_id: str, source: Source, location: str, target: Path, model_name: str) -> None:
        try:
            self._run(download_id, source, location, target, model_name)
        finally:
            with self._lock:
                self._running -= 1
            self._pump()

    def _run(self, download_id: str, source: Source, location: str, target: Path, model_name: str) -> None:
        staging = target.with_name(f".{target.name}.{download_id}")
        staging.mkdir(parents=True, exist_ok=True)
        try:
            if source == "http":
                self._http(download_id, location, staging)
            elif source == "local":
                self._local(download_id, Path(location).expanduser(), staging)
            else:
                self._huggingface(download_id, location, staging)
            staging.rename(target)
        except Exception as exc:  # noqa: BLE001 - recorded on the row: the status endpoint reports it
            shutil.rmtree(staging, ignore_errors=True)
            self.store.finish(download_id, "failed", error=f"{type(exc).__name__}: {exc}")
            return
        fields: dict[str, Any] = {"downloaded_bytes": _tree_size(target)}
        try:
            fields["registered_as"] = register_checkpoint(model_name, target, source, location, self.catalog_dir)
        except VidBenchError as exc:
            fields["assignment"] = f"not registered: {exc.message}"
        self.store.finish(download_id, "completed", **fields)
        if fields.get("registered_as") and self.store.get(download_id).auto_assign and self.on_ready is not None:
            try:
                outcome = self.on_ready(fields["registered_as"])
            except Exception as exc:  # noqa: BLE001 - the download stands; why the deployment failed is reported
                outcome = f"not deployed: {type(exc).__name__}: {exc}"
            self.store.update(download_id, assignment=outcome)

    def _http(self, download_id: str, url: str, staging: Path) -> None:
        import httpx

        name = Path(httpx.URL(url).path).name or "download.bin"
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            total = int(response.headers["Content-Length"]) if "Content-Length" in response.headers else None
            self.store.update(download_id, total_bytes=total)
            done, last = 0, 0.0
            with (staging / name).open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if time.monotonic() - last > 0.2:
                        self.store.update(download_id, downloaded_bytes=done)
                        last = time.monotonic()

    def _local(self, download_id: str, source: Path, staging: Path) -> None:
        files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        self.store.update(download_id, total_bytes=sum(f.stat().st_size for f in files))
        done = 0
        for file in files:
            relative = file.name if source.is_file() else file.relative_to(source)
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, destination)
            done += file.stat().st_size
            self.store.update(download_id, downloaded_bytes=done)

    def _huggingface(self, download_id: str, repo_id: str, staging: Path) -> None:
        """snapshot_download honours HF_ENDPOINT, so a Hub mirror on the local network serves it too."""
        from huggingface_hub import HfApi, snapshot_download

        info = HfApi().model_info(repo_id, files_metadata=True)
        self.store.update(download_id, total_bytes=sum(s.size or 0 for s in info.siblings or []))
        finished = threading.Event()

        def watch():  # progress = bytes on disk in the staging directory
            while not finished.wait(0.5):
                self.store.update(download_id, downloaded_bytes=_tree_size(staging))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            snapshot_download(repo_id, local_dir=staging)
        finally:
            finished.set()


# -- registration: a downloaded checkpoint becomes a catalog model ---------------------------------------------

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf")


def _weights_gb(path: Path) -> float:
    files = [p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES]
    return round(sum(p.stat().st_size for p in files) / 2**30, 6)


def checkpoint_class(path: Path) -> str | None:
    """The loading class a checkpoint names: diffusers' model_index.json or transformers' config.json."""
    import json

    index = path / "model_index.json"
    if index.is_file():
        return json.loads(index.read_text()).get("_class_name")
    config = path / "config.json"
    if config.is_file():
        architectures = json.loads(config.read_text()).get("architectures") or []
        return architectures[0] if architectures else None
    return None


def _template(model_name: str, path: Path):
    """The catalog entry whose ranges and task a checkpoint takes: the catalog model of that name, else the
    built-in model it is a copy of, else a model of the same loading class (a hub model before a built-in one)."""
    import json

    from app.catalog.spec import get_catalog
    from app.catalog.tiny import _MARKER

    catalog = get_catalog()
    if model_name in catalog.names() or model_name in catalog.aliases():
        return catalog.get(model_name)
    marker = path / _MARKER
    if marker.is_file():
        builder = json.loads(marker.read_text()).get("builder")
        for spec in catalog.list():
            if spec.source.kind == "builtin" and spec.source.builder == builder:
                return spec
    loading_class = checkpoint_class(path)
    if loading_class is None:
        return None
    if loading_class.endswith("ForCausalLM"):
        loading_class = "AutoModelForCausalLM"
    matches = [spec for spec in catalog.list() if spec.pipeline_class == loading_class]
    matches.sort(key=lambda spec: spec.source.kind == "builtin")
    return matches[0] if matches else None


def register_checkpoint(model_name: str, path: Path, source: str, location: str, catalog_dir: Path) -> str:
    """Write the catalog entry of a downloaded checkpoint; returns its catalog name.

    The entry copies its template's task, ranges and loading class, loads from ``path``, and requires as much
    memory as its weight files take on disk (a lower bound: activations come on top).
    """
    from app.catalog.spec import ModelSpec, Requirements

    name = model_name.replace("/", "--")
    template = _template(model_name, path)
    if template is None:
        raise ValidationError(
            f"cannot tell what kind of model {path.name} is (no catalog model of that name, no "
            f"model_index.json or config.json naming a class the catalog knows)",
            {"model_name": model_name, "class": checkpoint_class(path)},
        )
    replaces = template.name == name or name in template.aliases
    entry = template.model_copy(
        update={
            "name": template.name if replaces else name,
            "display_name": template.display_name if replaces else f"{name} (downloaded)",
            "description": f"Downloaded from {source} {location}; task, ranges and loading class of catalog model "
            f"'{template.name}'.",
            "source": template.source.model_copy(
                update={"kind": "local", "path": str(path), "repo_id": None, "builder": None, "variant": None}
            ),
            "aliases": template.aliases if replaces else [],
            "requirements": Requirements(**{**template.requirements.model_dump(), "vram_gb": _weights_gb(path)}),
        }
    )
    entry = ModelSpec(**entry.model_dump())  # validated like a packaged entry
    catalog_dir.mkdir(parents=True, exist_ok=True)
    staging = catalog_dir / f".{entry.name}.yaml.tmp"
    staging.write_text(yaml.safe_dump(entry.model_dump(mode="json", exclude_defaults=True), sort_keys=False))
    staging.rename(catalog_dir / f"{entry.name}.yaml")  # readers see the whole entry or none
    return entry.name
