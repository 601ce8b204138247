"""Figures of a finished stream, from its per-frame and per-clip records (definitions: docs/metrics.md)."""

from __future__ import annotations

import statistics
from typing import Any


def live_metrics(
    frames: list[dict[str, Any]],
    clips: list[dict[str, Any]],
    levels: int,
    utilization: float | None,
    startup_s: float | None,
) -> dict[str, Any]:
    """``metrics``, ``performance`` and ``reasons`` (why a figure is null) of a live stream."""
    reasons: dict[str, str] = {}
    total = len(frames)
    shown = [f for f in frames if not f["dropped"]]
    if not total:
        reasons["all"] = "no clip finished before the stream ended"
    latency = statistics.fmean(f["generation_latency_ms"] for f in frames) if total else None
    drop_rate = (total - len(shown)) / total if total else None
    if shown and levels > 1:
        spread = statistics.pstdev([f["quality_level"] for f in shown])
        consistency = 1.0 - spread / ((levels - 1) / 2)
    elif shown:
        consistency = 1.0
    else:
        consistency = None
        reasons.setdefault("quality_consistency", "no frame was displayed")
    quality = sum(f["quality"] for f in shown) / total if total else None
    rates = [c["throughput_fps"] for c in clips]
    if len(rates) >= 2 and statistics.fmean(rates) > 0:
        stability = max(0.0, 1.0 - statistics.pstdev(rates) / statistics.fmean(rates))
    else:
        stability = None
        reasons["throughput_stability"] = f"needs at least two clips; {len(rates)} finished"
    if utilization is None:
        reasons["buffer_utilization"] = "playback never started"
    switches = sum(1 for a, b in zip(clips, clips[1:], strict=False) if a["quality_level"] != b["quality_level"])
    metrics = {
        "avg_frame_latency_ms": latency,
        "frame_drop_rate": drop_rate,
        "quality_consistency": consistency,
        "adaptive_quality_score": quality,
        "buffer_utilization": utilization,
        "throughput_stability": stability,
    }
    performance = {
        "total_frames_generated": total,
        "successful_frames": len(shown),
        "dropped_frames": total - len(shown),
        "quality_adaptations": switches,
        "clips": len(clips),
        "average_resolution": [
            statistics.fmean(f["width"] for f in frames),
            statistics.fmean(f["height"] for f in frames),
        ]
        if total
        else None,
        "average_frame_count": statistics.fmean(c["num_frames"] for c in clips) if clips else None,
        "startup_delay_ms": None if startup_s is None else startup_s * 1000.0,
        "generation_fps": (sum(c["num_frames"] for c in clips) / sum(c["latency_s"] for c in clips) if clips else None),
    }
    return {"metrics": metrics, "performance": performance, "reasons": reasons}


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def interactive_metrics(responses: list[dict[str, Any]], target_ms: float) -> dict[str, Any]:
    times = [r["time_to_first_frame_ms"] for r in responses]
    met = [t <= target_ms for t in times]
    metrics = {
        "response_target_ms": target_ms,
        "share_meeting_target": sum(met) / len(met) if met else None,
        "p50_time_to_first_frame_ms": percentile(times, 50),
        "p95_time_to_first_frame_ms": percentile(times, 95),
        "mean_time_to_first_frame_ms": statistics.fmean(times) if times else None,
    }
    performance = {
        "prompts": len(responses),
        "met_target": sum(met),
        "frame_by_frame": any(r.get("frame_by_frame") for r in responses),
    }
    return {"metrics": metrics, "performance": performance, "reasons": {} if times else {"all": "no prompt finished"}}
