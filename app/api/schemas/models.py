"""Bodies of the /models routes: catalog entries, download requests and download status."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.api.schemas.base import RequestBody
from app.catalog.downloads import REPO_ID_PATTERN, URL_PATTERN, Source
from app.catalog.spec import Modality, ModelSpec, Task
from app.storage.tables import DownloadRow


class ModelView(BaseModel):
    """A catalog entry: the union of both references' model fields."""

    id: str
    name: str
    display_name: str
    type: Modality
    task: Task
    description: str
    version: str
    architecture: str
    status: Literal["available", "not_deployed"]
    source: dict[str, Any]
    requirements: dict[str, Any]
    supported_resolutions: list[str]
    max_frames: int | None
    parameters: dict[str, dict[str, Any]]
    supported_languages: list[str]
    voices: list[str]
    max_context_length: int | None
    license: str | None
    paper_url: str | None
    huggingface_url: str | None

    @classmethod
    def from_spec(cls, spec: ModelSpec, deployed: set[str]) -> ModelView:
        return cls(
            id=spec.name, name=spec.name, display_name=spec.display_name, type=spec.modality, task=spec.task,
            description=spec.description, version=spec.version, architecture=spec.architecture,
            status="available" if spec.name in deployed else "not_deployed",
            source=spec.source.model_dump(exclude_none=True), requirements=spec.requirements.model_dump(),
            supported_resolutions=spec.resolutions, max_frames=spec.max_frames,
            parameters={name: limits.model_dump(exclude_none=True) for name, limits in spec.parameters.items()},
            supported_languages=spec.languages, voices=spec.voices, max_context_length=spec.max_context_length,
            license=spec.license, paper_url=spec.paper_url, huggingface_url=spec.huggingface_url)


class ModelList(BaseModel):
    models: list[ModelView]
    total: int
    limit: int
    offset: int


class _Download(RequestBody):

    model_name: str = Field(min_length=1, max_length=100, pattern=REPO_ID_PATTERN,
                            description="Model identifier or Hub repo id; names the directory it lands in.")
    priority: Literal["low", "normal", "high"] = "normal"
    auto_assign: bool = False


class HubDownload(_Download):
    source: Literal["huggingface"] = "huggingface"
    location: str | None = Field(default=None, max_length=200, pattern=REPO_ID_PATTERN,
                                 description="Hub repo id; default: model_name.")


class LocalDownload(_Download):
    source: Literal["local"]
    location: str = Field(min_length=1, max_length=2000, description="A path under VDB_LOCAL_MODEL_ROOTS.")


class HttpDownload(_Download):
    source: Literal["http"]
    location: str = Field(max_length=2000, pattern=URL_PATTERN, description="An http(s) URL of one file.")


DownloadRequest = HubDownload | LocalDownload | HttpDownload


class DownloadStatus(BaseModel):
    download_id: str
    model_name: str
    source: Source
    location: str
    status: str = Field(description="downloading, completed or failed")
    progress: float | None = Field(description="0-100; null while the total size is unknown")
    downloaded_bytes: int
    total_bytes: int | None
    download_speed_bytes_per_s: float | None
    estimated_remaining_s: float | None
    target: str
    error: str | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_download(cls, download: DownloadRow) -> DownloadStatus:
        elapsed = ((download.completed_at or download.updated_at) - download.created_at).total_seconds()
        speed = download.downloaded_bytes / elapsed if elapsed > 0 else None
        progress = 100.0 * download.downloaded_bytes / download.total_bytes if download.total_bytes else None
        remaining = ((download.total_bytes - download.downloaded_bytes) / speed
                     if speed and download.total_bytes and download.status == "downloading" else None)
        return cls(download_id=download.id, model_name=download.model_name, source=download.source,
                   location=download.location, status=download.status,
                   progress=100.0 if download.status == "completed" else progress,
                   downloaded_bytes=download.downloaded_bytes, total_bytes=download.total_bytes,
                   download_speed_bytes_per_s=speed, estimated_remaining_s=remaining, target=download.target,
                   error=download.error, started_at=download.created_at, updated_at=download.updated_at,
                   completed_at=download.completed_at)
