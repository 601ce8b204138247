"""From per-video records to a benchmark's aggregate rows: one way, for the runner and for search trials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.bench.profiler import summarize_performance
from app.bench.spec import BenchmarkSpec
from app.config import Settings
from app.metrics import fvd
from app.metrics.evaluator import aggregate
from app.metrics.weights import verified_path

NOT_MEASURABLE = "not measurable on this hardware"


def aggregate_rows(
    records: list[dict[str, Any]], spec: BenchmarkSpec, unavailable: dict[str, str], settings: Settings
) -> list[dict[str, Any]]:
    """Metric rows (with bootstrap CIs) then performance rows, success rate included, for ``spec``'s items.

    ``records`` are per-video records as the worker returns them and the repository stores them;
    failed ones count against the success rate only. ``unavailable`` names the evaluators whose
    weights are missing (their metrics are null with that reason).
    """
    ok = [r for r in records if r["status"] == "ok"]
    rows = []
    if spec.metric_names():
        scored = [
            {
                "metrics": r.get("metrics") or {},
                "metric_reasons": r.get("metric_reasons") or {},
                "features": r.get("features") or {},
            }
            for r in ok
        ]
        rows = aggregate(
            scored,
            spec.metric_names(),
            unavailable,
            settings.bootstrap_resamples,
            settings.bootstrap_seed,
            _fvd_reference(spec, unavailable, settings),
        )
    performance = summarize_performance(
        [
            {"latency_s": r.get("latency_s"), "num_frames": r.get("num_frames"), **(r.get("measurement") or {})}
            for r in ok
        ]
    )
    if spec.batch_size > 1:
        performance.update(batch_performance(ok, spec.batch_size))
    total = len(spec.work_items())
    performance["success_rate"] = len(ok) / total if total else None
    rows.extend(
        {
            "kind": "performance",
            "name": name,
            "value": value,
            "ci_low": None,
            "ci_high": None,
            "n": len(ok),
            "reason": None if value is not None else NOT_MEASURABLE,
            "details": None,
        }
        for name, value in performance.items()
    )
    return rows


def batch_performance(ok: list[dict[str, Any]], batch_size: int) -> dict[str, Any]:
    """Per pipeline call of a batched benchmark: its mean latency (each call counted once: a call of n videos
    contributes n records of 1/n of a call) and the batch size asked for; per-video figures stay in the rest."""
    calls = sum(1 / (r.get("measurement") or {}).get("batch_size", 1) for r in ok)
    total = sum(
        (r.get("measurement") or {}).get("batch_latency_s", r.get("latency_s") or 0.0)
        / (r.get("measurement") or {}).get("batch_size", 1)
        for r in ok
    )
    return {"batch_size": float(batch_size), "avg_batch_latency_ms": total / calls * 1000 if calls else None}


def _fvd_reference(spec: BenchmarkSpec, unavailable: dict[str, str], settings: Settings) -> np.ndarray | None:
    """I3D features of the spec's reference videos, when FVD is asked for against a reference set."""
    directory = spec.metric_settings.fvd_reference_dir
    if not directory or "fvd" not in spec.metric_names() or "i3d" in unavailable:
        return None
    path, _ = verified_path("i3d", settings.resolved_weights_dir)
    return fvd.reference_features(Path(directory), fvd.I3DFeatures(path))
