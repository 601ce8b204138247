"""Figures the API references report beside a benchmark or a model, computed from what is stored.

- Benchmark progress counts prompts (a prompt is done when all its videos are stored, ok or failed) beside
  the video counts, and estimates the time left from this run's own pace: the wall time from its start to
  its latest stored video, per stored video, times the videos left. Before any video is stored it is null
  with the reason.
- The duration estimated at submission uses the same pace measured on this model's earlier completed
  benchmarks with the same generation parameters (their wall time per video), times this run's videos.
- A gateway task's time left follows its own pace: time running / fraction of steps done, times the
  fraction left (steps of equal cost); null while queued or before its first step.
- A model's performance figures and average scores are the means of the aggregates of its completed
  benchmarks; with none stored they are null with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.catalog.facts import human_bytes
from app.catalog.spec import ModelSpec, resolve_params
from app.storage.repository import TERMINAL, BenchmarkRepository
from app.storage.tables import BenchmarkRow, TaskRow, utcnow

NO_VIDEO_YET = "no video of this benchmark has finished yet"
NO_HISTORY = "no completed benchmark of this model with the same generation parameters is stored"
NO_BENCHMARK = "no completed benchmark of this model is stored"
AVERAGE_SCORES = ("fvd", "inception_score", "clip_similarity", "temporal_consistency", "overall_score")


@dataclass(frozen=True)
class PromptProgress:
    completed_prompts: int
    total_prompts: int
    completed_videos: int
    failed_videos: int
    total_videos: int
    percentage: float
    estimated_remaining: float | None  # seconds
    estimated_remaining_reason: str | None


def prompt_progress(repo: BenchmarkRepository, row: BenchmarkRow) -> PromptProgress:
    prompts = (row.spec or {}).get("prompts")
    per_prompt = max(1, int((row.spec or {}).get("videos_per_prompt", 1)))
    stored, latest = repo.prompt_progress(row.id)
    total_prompts = len(prompts) if isinstance(prompts, list) else -(-row.total_videos // per_prompt)
    completed_prompts = sum(1 for n in stored.values() if n >= per_prompt)
    done = row.completed_videos + row.failed_videos
    remaining, reason = None, None
    if row.status in TERMINAL:
        remaining = 0.0 if row.status == "completed" else None
        reason = None if row.status == "completed" else f"benchmark {row.status}"
    elif done == 0 or latest is None or row.started_at is None:
        reason = NO_VIDEO_YET
    else:
        pace = (latest - row.started_at).total_seconds() / done
        remaining = max(0.0, pace * (row.total_videos - done))
    return PromptProgress(
        completed_prompts=completed_prompts,
        total_prompts=total_prompts,
        completed_videos=row.completed_videos,
        failed_videos=row.failed_videos,
        total_videos=row.total_videos,
        percentage=round(100.0 * done / row.total_videos, 1) if row.total_videos else 100.0,
        estimated_remaining=remaining,
        estimated_remaining_reason=reason,
    )


def estimated_duration(
    repo: BenchmarkRepository, model: ModelSpec, spec: dict[str, Any], total_videos: int
) -> tuple[float | None, str | None]:
    """(seconds, None) from this model's earlier runs with the same resolved parameters, or (None, reason)."""
    wanted = _resolved(model, spec)
    paces = []
    for run in repo.finished_runs(model.name):
        if run.total_videos and _resolved(model, run.spec) == wanted:
            assert run.completed_at is not None and run.started_at is not None  # finished_runs selects only those
            paces.append((run.completed_at - run.started_at).total_seconds() / run.total_videos)
    if wanted is None or not paces:
        return None, NO_HISTORY
    return sum(paces) / len(paces) * total_videos, None


def _resolved(model: ModelSpec, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    try:
        return resolve_params(model, (spec or {}).get("parameters") or {}).model_dump()
    except Exception:  # noqa: BLE001 - a stored spec from an older catalog: not comparable, skipped
        return None


def model_report(summary: dict[str, Any] | None) -> dict[str, Any]:
    """The model's figures from its stored benchmarks (``BenchmarkRepository.model_summaries()[name]``)."""
    if summary is None:
        return {
            "performance_metrics": {
                "average_generation_time": None,
                "gpu_memory_usage": None,
                "success_rate": None,
                "benchmarks": 0,
                "reason": NO_BENCHMARK,
            },
            "benchmarks": {
                "average_scores": {name: None for name in AVERAGE_SCORES},
                "performance": {"avg_latency_ms": None, "throughput_fps": None, "typical_vram_gb": None},
                "count": 0,
                "reason": NO_BENCHMARK,
            },
            "last_benchmark_at": None,
        }
    metric, perf = summary["metric"], summary["performance"]

    def mean(block: dict, name: str) -> float | None:
        return block.get(name, (None, 0))[0]

    latency_ms, vram_gb, success = mean(perf, "avg_latency_ms"), mean(perf, "peak_vram_gb"), mean(perf, "success_rate")
    return {
        "performance_metrics": {
            "average_generation_time": None if latency_ms is None else latency_ms / 1000.0,
            "gpu_memory_usage": None if vram_gb is None else human_bytes(vram_gb * 2**30),
            "success_rate": None if success is None else 100.0 * success,
            "benchmarks": summary["benchmarks"],
            "reason": None if latency_ms is not None else "no latency measured in the stored benchmarks",
        },
        "benchmarks": {
            "average_scores": {name: mean(metric, name) for name in AVERAGE_SCORES},
            "performance": {
                "avg_latency_ms": latency_ms,
                "throughput_fps": mean(perf, "throughput_fps"),
                "typical_vram_gb": vram_gb,
            },
            "count": summary["benchmarks"],
            "reason": None,
        },
        "last_benchmark_at": summary["last_completed_at"],
    }


def task_estimated_remaining(task: TaskRow, now: datetime | None = None) -> tuple[float | None, str | None]:
    """(seconds, None) from the task's own pace (time running / fraction done, times the fraction left), or
    (None, why). Zero once it has ended."""
    if task.status == "completed":
        return 0.0, None
    if task.status in ("failed", "cancelled"):
        return None, f"the task ended {task.status}"
    if task.started_at is None:
        return None, "queued: no step has run yet"
    if task.progress <= 0:
        return None, "running: no step has finished yet"
    elapsed = ((now or utcnow()) - task.started_at).total_seconds()
    return max(0.0, elapsed * (1.0 - task.progress) / task.progress), None
