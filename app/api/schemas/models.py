"""Bodies of the /models routes: catalog entries, download requests and download status."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.api.schemas.base import RequestBody
from app.bench.reports import model_report
from app.catalog.downloads import REPO_ID_PATTERN, URL_PATTERN, Source, estimated_seconds
from app.catalog.facts import capabilities, cuda_capability, human_bytes, human_duration, local_files
from app.catalog.spec import Modality, ModelSpec, Task
from app.storage.tables import DownloadRow

ModelStatus = Literal["available", "not_deployed", "loading", "error"]


class Resolution(BaseModel):
    width: int
    height: int


class ModelView(BaseModel):
    """A catalog entry: the union of both references' model fields (and OpenAI's model object)."""

    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="OpenAI: Unix time of created_at; 0 when the files are not on this machine")
    owned_by: str = "vid-bench"
    name: str
    display_name: str
    type: Modality
    task: Task
    description: str
    version: str
    architecture: str
    status: ModelStatus = Field(
        description="available (deployed and healthy), loading (its deployment is "
        "starting or updating), error (its deployment failed), not_deployed"
    )
    status_reason: str | None = None
    source: dict[str, Any]
    requirements: dict[str, Any]
    supported_resolutions: list[str]
    resolutions: list[Resolution] = Field(description="supported_resolutions as {width, height} objects")
    max_frames: int | None
    parameters: dict[str, dict[str, Any]] = Field(
        description="Per parameter {min, max, default} or {choices, default}; under 'supported' the benchmark "
        "reference's view: choices as lists, ranges as {min, max, default}, and the resolutions"
    )
    supported_languages: list[str]
    voices: list[str]
    max_context_length: int | None
    license: str | None
    paper_url: str | None
    huggingface_url: str | None
    capabilities: list[str]
    size: str | None = Field(description="The checkpoint's files on this machine, e.g. 6.9 GB")
    size_bytes: int | None
    created_at: datetime | None = Field(description="Oldest modification time of the checkpoint's files here")
    updated_at: datetime | None = Field(description="Newest modification time of the checkpoint's files here")
    files_reason: str | None = Field(description="Why size and the dates are null")
    performance_metrics: dict[str, Any] = Field(description="Means over this model's completed benchmarks")
    benchmarks: dict[str, Any] = Field(description="average_scores and performance over its completed benchmarks")
    last_updated: datetime | None = Field(description="The later of updated_at and its latest completed benchmark")

    @classmethod
    def from_spec(
        cls, spec: ModelSpec, states: dict[str, dict[str, Any]], summary: dict[str, Any] | None, models_dir: Path
    ) -> ModelView:
        state = states.get(spec.name, {"status": "not_deployed", "message": None})
        files = local_files(spec, models_dir)
        report = model_report(summary)
        parameters = {name: limits.model_dump(exclude_none=True) for name, limits in spec.parameters.items()}
        supported: dict[str, Any] = {
            name: limits.choices
            if limits.choices is not None
            else {"min": limits.min, "max": limits.max, "default": limits.default}
            for name, limits in spec.parameters.items()
        }
        if spec.resolutions:
            supported["resolution"] = list(spec.resolutions)
            sizes = [tuple(int(x) for x in r.split("x")) for r in spec.resolutions]
            width, height = spec.default_resolution()
            # the gateway reference's {options, default} for the size (the pairs allowed are the resolutions)
            parameters.setdefault("width", {"options": sorted({w for w, _ in sizes}), "default": width})
            parameters.setdefault("height", {"options": sorted({h for _, h in sizes}), "default": height})
        stamps = [t for t in (files.updated_at, report["last_benchmark_at"]) if t is not None]
        return cls(
            id=spec.name,
            created=int(files.created_at.timestamp()) if files.created_at else 0,
            name=spec.name,
            display_name=spec.display_name,
            type=spec.modality,
            task=spec.task,
            description=spec.description,
            version=spec.version,
            architecture=spec.architecture,
            status=state["status"],
            status_reason=state.get("message"),
            source=spec.source.model_dump(exclude_none=True),
            requirements={**spec.requirements.model_dump(), "cuda_capability": cuda_capability(spec)},
            supported_resolutions=spec.resolutions,
            resolutions=[Resolution(width=int(w), height=int(h)) for w, h in (r.split("x") for r in spec.resolutions)],
            max_frames=spec.max_frames,
            parameters={**parameters, "supported": supported},
            supported_languages=spec.languages,
            voices=spec.voices,
            max_context_length=spec.max_context_length,
            license=spec.license,
            paper_url=spec.paper_url,
            huggingface_url=spec.huggingface_url,
            capabilities=capabilities(spec),
            size=human_bytes(files.size_bytes),
            size_bytes=files.size_bytes,
            created_at=files.created_at,
            updated_at=files.updated_at,
            files_reason=files.reason,
            performance_metrics=report["performance_metrics"],
            benchmarks=report["benchmarks"],
            last_updated=max(stamps) if stamps else None,
        )


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "vid-bench"
    modality: Modality


class ModelList(BaseModel):
    """One answer for both clients: OpenAI's list (object, data: the models callable now) and the references'
    catalog page (models, total, limit, offset, page), filters applied to the latter."""

    object: Literal["list"] = "list"
    data: list[OpenAIModel]
    models: list[ModelView]
    total: int
    limit: int
    offset: int
    page: int = Field(description="1-based page of this offset and limit")


class _Download(RequestBody):
    model_name: str = Field(
        min_length=1,
        max_length=100,
        pattern=REPO_ID_PATTERN,
        description="Model identifier or Hub repo id; names the directory it lands in.",
    )
    priority: Literal["low", "normal", "high"] = Field(
        default="normal", description="Order among downloads waiting for a slot (VDB_DOWNLOAD_SLOTS at once)."
    )
    auto_assign: bool = Field(
        default=False,
        description="Deploy the model on this gateway once it is downloaded "
        "and registered; refused where the gateway cannot deploy.",
    )


class HubDownload(_Download):
    source: Literal["huggingface"] = "huggingface"
    location: str | None = Field(
        default=None, max_length=200, pattern=REPO_ID_PATTERN, description="Hub repo id; default: model_name."
    )


class LocalDownload(_Download):
    source: Literal["local"]
    location: str = Field(min_length=1, max_length=2000, description="A path under VDB_LOCAL_MODEL_ROOTS.")


class HttpDownload(_Download):
    source: Literal["http"]
    location: str = Field(max_length=2000, pattern=URL_PATTERN, description="An http(s) URL of one file.")


DownloadRequest = HubDownload | LocalDownload | HttpDownload


class DownloadStatus(BaseModel):
    """A download as both references show it: the byte counts, and the gateway reference's readable fields beside
    them (decimal units: 1 GB = 10^9 bytes). Speeds and times are measured, or null with the reason."""

    download_id: str
    model_name: str
    source: Source
    location: str
    status: str = Field(description="queued (waiting for a download slot), downloading, completed or failed")
    priority: Literal["low", "normal", "high"]
    auto_assign: bool
    progress: float | None = Field(description="0-100; 0 before any byte moved; null while the total is unknown")
    downloaded_bytes: int
    total_bytes: int | None
    download_speed_bytes_per_s: float | None
    estimated_remaining_s: float | None
    estimated_size_bytes: int | None = Field(description="The size known when the download was accepted.")
    estimated_time_s: float | None = Field(
        description="The size over the speed measured on this installation's finished downloads of this source "
        "kind; null with estimated_time_reason when either is unknown."
    )
    estimated_time_reason: str | None
    estimated_size: str | None = Field(description="estimated_size_bytes, readable ('25.6 GB').")
    estimated_time: str | None = Field(description="estimated_time_s, readable ('15m').")
    downloaded_size: str
    total_size: str | None
    download_speed: str | None = Field(description="'45.2 MB/s'")
    estimated_remaining: str | None = Field(description="'4m 20s'")
    registered_as: str | None = Field(description="The catalog name the model is usable by once downloaded.")
    assignment: str | None = Field(
        description="With auto_assign: 'deployed', or why not; also why a finished download is not registered."
    )
    target: str
    error: str | None
    created_at: datetime
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_download(cls, download: DownloadRow, measured_speed: float | None = None) -> DownloadStatus:
        """``measured_speed``: bytes/s of earlier downloads of this source kind (for estimated_time)."""
        began = download.started_at or download.created_at
        elapsed = ((download.completed_at or download.updated_at) - began).total_seconds()
        moving = download.status != "queued"
        speed = download.downloaded_bytes / elapsed if moving and elapsed > 0 and download.downloaded_bytes else None
        progress: float | None
        if download.status == "completed":
            progress = 100.0
        elif download.downloaded_bytes == 0:
            progress = 0.0
        else:
            progress = 100.0 * download.downloaded_bytes / download.total_bytes if download.total_bytes else None
        remaining = (
            (download.total_bytes - download.downloaded_bytes) / speed
            if speed and download.total_bytes and download.status == "downloading"
            else None
        )
        estimate = estimated_seconds(download.total_bytes, measured_speed)
        reason = None
        if estimate is None:
            reason = (
                "the size is not known before the download"
                if not download.total_bytes
                else f"no finished {download.source} download has been measured yet"
            )
        return cls(
            download_id=download.id,
            model_name=download.model_name,
            source=download.source,
            location=download.location,
            status=download.status,
            priority=download.priority or "normal",
            auto_assign=bool(download.auto_assign),
            progress=progress,
            downloaded_bytes=download.downloaded_bytes,
            total_bytes=download.total_bytes,
            download_speed_bytes_per_s=speed,
            estimated_remaining_s=remaining,
            estimated_size_bytes=download.total_bytes,
            estimated_time_s=estimate,
            estimated_time_reason=reason,
            estimated_size=human_bytes(download.total_bytes),
            estimated_time=human_duration(estimate),
            downloaded_size=human_bytes(download.downloaded_bytes),
            total_size=human_bytes(download.total_bytes),
            download_speed=None if speed is None else f"{human_bytes(speed)}/s",
            estimated_remaining=human_duration(remaining),
            registered_as=download.registered_as,
            assignment=download.assignment,
            target=download.target,
            error=download.error,
            created_at=download.created_at,
            started_at=began,
            updated_at=download.updated_at,
            completed_at=download.completed_at,
        )
