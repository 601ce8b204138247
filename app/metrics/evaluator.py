"""Scores generated videos: per-video metrics on the worker, set-level metrics at the end.

``VideoEvaluator.evaluate`` runs where the video was generated (a Ray actor)
and returns per-video scores plus the evaluator features that set-level
metrics need (I3D logits for FVD, Inception probabilities for IS), so frames
never travel. ``aggregate`` turns stored per-video records into the
benchmark's aggregate rows, each with a seeded bootstrap 95% CI.
A metric that cannot be computed is null with the reason; nothing is estimated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.metrics import clip as clip_family
from app.metrics import fvd as fvd_family
from app.metrics import inception as inception_family
from app.metrics.overall import overall_score
from app.metrics.registry import METRICS, canonical, get_metric
from app.metrics.statistics import bootstrap_ci
from app.metrics.temporal import temporal_metrics
from app.metrics.weights import EVALUATORS, status, verified_path

TEMPORAL = [name for name, spec in METRICS.items() if spec.evaluator is None and spec.level == "video"]


def resolve_metric_names(names: list[str] | None) -> list[str]:
    if not names:
        return list(METRICS)
    resolved = [get_metric(canonical(n)).name for n in names]
    return list(dict.fromkeys(resolved))


class VideoEvaluator:
    def __init__(self, metric_names: list[str] | None, weights_dir: Path, device: str = "cpu"):
        self.names = resolve_metric_names(metric_names)
        self.device = device
        self.weights_dir = Path(weights_dir)
        self.unavailable: dict[str, str] = {}   # evaluator key -> reason
        self.provenance: dict[str, Any] = {}    # evaluator key -> sha256 and variant
        self._clip = self._i3d = self._inception = None
        needed = {METRICS[n].evaluator for n in self.names if METRICS[n].evaluator}
        for key in sorted(needed):
            available, reason = status(key, self.weights_dir)
            if not available:
                self.unavailable[key] = reason
                continue
            path, digest = verified_path(key, self.weights_dir)  # wrong hash -> WeightsError, before any work
            self.provenance[key] = {"sha256": digest, "variant": EVALUATORS[key].variant, "path": str(path)}
            if key == "clip":
                self._clip = clip_family.ClipSimilarity(path, device)
            elif key == "i3d":
                self._i3d = fvd_family.I3DFeatures(path, device)
            elif key == "inception":
                self._inception = inception_family.InceptionProbabilities(path, device)

    def reason(self, metric: str) -> str | None:
        key = METRICS[metric].evaluator
        return self.unavailable.get(key) if key else None

    def evaluate(self, frames: np.ndarray, prompt: str) -> dict[str, Any]:
        metrics: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        features: dict[str, Any] = {}
        wanted = set(self.names)
        if wanted & set(TEMPORAL):
            scores = temporal_metrics(frames)
            for name in TEMPORAL:
                if name in wanted:
                    metrics[name] = scores[name]
                    if scores[name] is None:
                        reasons[name] = ("all consecutive frames identical: PSNR unbounded" if name == "consecutive_psnr"
                                         else "no unoccluded pixels between consecutive frames")
        if "clip_similarity" in wanted:
            if self._clip is None:
                metrics["clip_similarity"], reasons["clip_similarity"] = None, self.reason("clip_similarity")
            else:
                metrics["clip_similarity"] = self._clip(frames, prompt)
        if "fvd" in wanted and self._i3d is not None:
            if len(frames) >= fvd_family.MIN_FRAMES:
                features["i3d"] = self._i3d(frames).tolist()
            else:
                reasons["fvd"] = f"video has {len(frames)} frames; FVD's I3D needs at least {fvd_family.MIN_FRAMES}"
        if "inception_score" in wanted and self._inception is not None:
            features["inception"] = self._inception(frames).tolist()
        return {"metrics": metrics, "reasons": reasons, "features": features}


def _row(name: str, value=None, low=None, high=None, n=None, reason=None, details=None, kind="metric") -> dict:
    return {"kind": kind, "name": name, "value": value, "ci_low": low, "ci_high": high, "n": n, "reason": reason,
            "details": details}


def aggregate(records: list[dict[str, Any]], metric_names: list[str], unavailable: dict[str, str],
              resamples: int = 1000, seed: int = 0, reference_i3d: np.ndarray | None = None) -> list[dict]:
    """Aggregate rows for every requested metric from per-video records (status ok)."""
    names = resolve_metric_names(metric_names)
    rows: list[dict] = []
    values_for_overall: dict[str, float | None] = {}
    for name in names:
        spec = METRICS[name]
        if spec.level == "video":
            values = [r["metrics"].get(name) for r in records if r["metrics"].get(name) is not None]
            if values:
                mean, low, high = bootstrap_ci(values, resamples, seed)
                rows.append(_row(name, mean, low, high, len(values), details={"per_video_n": len(values)}))
            else:
                reasons = [r.get("metric_reasons", {}).get(name) for r in records]
                reason = next((x for x in reasons if x), None) or unavailable.get(spec.evaluator or "") or "no videos"
                rows.append(_row(name, reason=reason))
            values_for_overall[name] = rows[-1]["value"]
    if "fvd" in names:
        rows.append(_fvd_row(records, unavailable, reference_i3d))
        values_for_overall["fvd"] = rows[-1]["value"]
    if "inception_score" in names:
        rows.append(_is_row(records, unavailable))
        values_for_overall["inception_score"] = rows[-1]["value"]
    if "overall_score" in names:
        overall = overall_score(values_for_overall)
        rows.append(_row("overall_score", overall["value"], reason=overall.get("reason"),
                         details={"used": overall["used"], "version": overall["version"]}))
    return rows


def _fvd_row(records, unavailable, reference_i3d) -> dict:
    if "i3d" in unavailable:
        return _row("fvd", reason=unavailable["i3d"])
    feats = [r["features"]["i3d"] for r in records if r.get("features", {}).get("i3d") is not None]
    if not feats:
        reason = next((r.get("metric_reasons", {}).get("fvd") for r in records if r.get("metric_reasons", {}).get("fvd")),
                      "no video with I3D features")
        return _row("fvd", reason=reason)
    if reference_i3d is None:
        return _row("fvd", n=len(feats), reason="no reference set: give metric_settings.fvd_reference_dir, "
                                                  "or compare two models' outputs with compare_models")
    result = fvd_family.fvd(np.asarray(feats), reference_i3d)
    return _row("fvd", result["value"], n=len(feats), reason=result.get("reason"),
                details={k: v for k, v in result.items() if k != "value"})


def _is_row(records, unavailable) -> dict:
    if "inception" in unavailable:
        return _row("inception_score", reason=unavailable["inception"])
    probs = [p for r in records for p in r.get("features", {}).get("inception") or []]
    if not probs:
        return _row("inception_score", reason="no frames scored")
    result = inception_family.inception_score(np.asarray(probs))
    return _row("inception_score", result["value"], n=result["n"], reason=result.get("reason"),
                details={k: v for k, v in result.items() if k not in ("value", "reason")})
