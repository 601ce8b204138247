"""Downloading models into the models directory, with real byte progress.

Sources: a Hugging Face repo (``huggingface_hub.snapshot_download``), a local
path (file or directory, copied), or an HTTP(S) URL (streamed). Everything is
written under ``<models>/downloads/<name>``; a name that is not a plain
identifier, or that would resolve outside that directory, is refused before
anything happens. A download lands in a staging directory and is renamed into
place when complete, so a failed one never leaves a half model under its name.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Literal, Protocol

from app.errors import DownloadConflictError, LocalSourceNotFoundError, PermissionDeniedError, ValidationError

Source = Literal["huggingface", "local", "http"]
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
REPO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$"  # 'gpt2' or 'owner/name'
REPO_ID = re.compile(REPO_ID_PATTERN)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_NO_SPACE = r"[^ \t\n\r\f\v\x00-\x1f\x7f"  # explicit: \s differs between regex engines
URL_PATTERN = (rf"^https?://(?:{_NO_SPACE}/@]+@)?{_LABEL}(?:\.{_LABEL})*\.?(?::{_PORT})?"
               rf"(?:[/?#]{_NO_SPACE}]*)?$")
"""An http(s) URL whose host is a DNS name (ASCII or punycode labels) with an optional valid port, and no spaces or
control characters: the same rule in the OpenAPI schema, pydantic and :func:`check_url`."""


def check_url(location: str) -> None:
    """Refuse a URL the download thread could only fail on, before the download is accepted."""
    if not re.match(URL_PATTERN, location):
        raise ValidationError("an http source needs an http:// or https:// URL with a valid host name and port",
                              {"location": location[:200]})


def safe_target(models_dir: Path, name: str) -> Path:
    """<models>/downloads/<name>, or ValidationError when the name could escape it."""
    root = (Path(models_dir) / "downloads").resolve()
    if not NAME.match(name or "") or name in (".", ".."):
        raise ValidationError("model_name must be letters, digits, '.', '_' or '-' (at most 100), not a path",
                              {"model_name": name})
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

    def add(self, model_name: str, source: str, location: str, target: str) -> Any: ...

    def get(self, download_id: str) -> Any: ...

    def update(self, download_id: str, **fields: Any) -> None: ...

    def finish(self, download_id: str, status: str, **fields: Any) -> None: ...


class DownloadManager:
    def __init__(self, store: DownloadStore, models_dir: Path, local_roots: list[Path] | None = None):
        self.store = store
        self.models_dir = Path(models_dir)
        self.local_roots = [Path(r).expanduser().resolve() for r in (local_roots or [])]

    def _check_local(self, location: str) -> None:
        """A local source must lie inside one of the configured roots: the API cannot copy arbitrary server files."""
        path = Path(location).expanduser().resolve()
        if not any(path == root or root in path.parents for root in self.local_roots):
            raise PermissionDeniedError("local sources must lie under VDB_LOCAL_MODEL_ROOTS",
                                        {"location": location, "allowed_roots": [str(r) for r in self.local_roots]})
        if not path.exists():
            raise LocalSourceNotFoundError(f"local path {location} does not exist", {"location": location})

    def start(self, model_name: str, source: Source, location: str | None) -> Any:
        """``model_name`` may be a Hub repo id ('owner/name'): it then lands in 'owner--name'."""
        target = safe_target(self.models_dir, model_name.replace("/", "--"))
        location = location or model_name
        if source == "huggingface" and not REPO_ID.match(location):
            raise ValidationError("a Hugging Face source needs a repo id like 'owner/name'", {"location": location})
        if source == "local":
            self._check_local(location)
        if source == "http":
            check_url(location)
        if target.exists():
            raise DownloadConflictError(f"{target.name} already exists; choose another model_name",
                                        {"model_name": model_name})
        row = self.store.add(model_name, source, location, str(target))
        threading.Thread(target=self._run, args=(row.id, source, location, target), daemon=True).start()
        return row

    def get(self, download_id: str) -> Any:
        return self.store.get(download_id)

    def _run(self, download_id: str, source: Source, location: str, target: Path) -> None:
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
            self.store.finish(download_id, "completed", downloaded_bytes=_tree_size(target))
        except Exception as exc:  # noqa: BLE001 - recorded on the row: the status endpoint reports it
            shutil.rmtree(staging, ignore_errors=True)
            self.store.finish(download_id, "failed", error=f"{type(exc).__name__}: {exc}")

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
