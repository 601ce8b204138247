"""The analytics report: a PDF (matplotlib PdfPages) over the benchmarks of a period.

Pages, in order:
1. summary table: per model, the mean of each figure over its videos with the 95% CI and n;
2. Pareto chart: quality (``metric``) against mean latency, the non-dominated models marked;
3. per-metric CI plots: one panel per figure, each model's mean with its 95% CI;
4. trends: each benchmark's figure over time, one line per model;
5. resource timelines (only when some benchmark was monitored): CPU and RSS over time, GPU when measured;
6. provenance: every benchmark included, with its spec hash, device, software versions and time.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.analytics.service import _item_values, check_figure, compare_models, period_window
from app.errors import ValidationError
from app.metrics.figures import LATENCY_MS, direction, pareto_frontier
from app.metrics.statistics import mean_interval
from app.storage.analytics import AnalyticsRepository

CI_FIGURES = ["temporal_consistency", "consecutive_ssim", "clip_similarity", "clipscore", LATENCY_MS]
PAGE = (11.69, 8.27)  # A4 landscape, inches


def _summary(values: dict[Any, float], resamples: int, seed: int) -> dict[str, Any] | None:
    data = list(values.values())
    if not data:
        return None
    interval = mean_interval(data, resamples=resamples, seed=seed)
    return {
        "mean": interval.mean,
        "low": interval.low,
        "high": interval.high,
        "n": len(data),
        "method": interval.method,
    }


def collect(
    repo: AnalyticsRepository,
    models: list[str],
    period: str | None,
    metric: str,
    resamples: int = 1000,
    seed: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the report shows, computed from the database (also what tests check against the pages)."""
    models = list(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not models:
        raise ValidationError("Name at least one model for the report", {"models": models})
    check_figure(metric)
    start, end = period_window(period, now) if period else (None, None)
    per_figure: dict[str, dict[str, dict[str, Any] | None]] = {}
    chosen: dict[str, list[dict]] = {}
    for name in dict.fromkeys([*CI_FIGURES, metric]):
        values, chosen, _unit = _item_values(repo, models, name, start, end)
        per_figure[name] = {m: _summary(v, resamples, seed) for m, v in values.items()}
    figures = [f for f in per_figure if any(per_figure[f][m] for m in models)]
    benches = {m: chosen[m] for m in models}
    if not any(benches.values()):
        raise ValidationError(
            "No completed benchmark of these models in the period", {"models": models, "period": period}
        )

    def mean_of(model: str, name: str) -> float | None:
        stored = [(b["figures"].get(name) or {}).get("value") for b in benches[model]]
        vals = [v for v in stored if v is not None]
        return sum(vals) / len(vals) if vals else None

    points = {
        m: {metric: mean_of(m, metric), "avg_latency_ms": mean_of(m, "avg_latency_ms")} for m in models if benches[m]
    }
    front = pareto_frontier(points, {metric: direction(metric), "avg_latency_ms": False})
    pairwise = compare_models(repo, models, metric, period, resamples, seed, now)["pairwise"] if len(models) > 1 else []
    return {
        "pairwise": pairwise,
        "models": models,
        "period": period,
        "metric": metric,
        "window": [start, end],
        "figures": figures,
        "per_figure": per_figure,
        "benchmarks": benches,
        "points": points,
        "pareto": front,
        "monitored": [b for m in models for b in benches[m] if (b.get("monitoring") or {}).get("samples")],
    }


def expected_pages(data: dict[str, Any]) -> int:
    return 5 + (1 if data["monitored"] else 0)


def write_report(data: dict[str, Any], output: Path) -> int:
    """Write the PDF; returns its page count."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages

    output.parent.mkdir(parents=True, exist_ok=True)
    pages = 0
    with PdfPages(output, metadata={"Title": "vid-bench analytics report", "Creator": "vid-bench"}) as pdf:
        for draw in (_summary_page, _pareto_page, _ci_page, _trend_page, _monitoring_page, _provenance_page):
            fig = draw(data)
            if fig is None:
                continue
            pdf.savefig(fig)
            matplotlib.pyplot.close(fig)
            pages += 1
    return pages


def _fmt(value: float | None) -> str:
    return "null" if value is None else f"{value:.4g}"


def _title(fig, data: dict[str, Any], heading: str) -> None:
    window = data["window"]
    span = f"{data['period']} to {window[1]:%Y-%m-%d %H:%M} UTC" if window[1] else "all stored results"
    fig.suptitle(f"{heading}\n{', '.join(data['models'])}  ({span})", fontsize=11)


def _summary_page(data: dict[str, Any]):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=PAGE)
    _title(fig, data, "vid-bench analytics report: summary (mean over videos, 95% CI, n)")
    ax.axis("off")
    header = ["model", "benchmarks", *data["figures"]]
    cells = []
    for model in data["models"]:
        row = [model, str(len(data["benchmarks"][model]))]
        for name in data["figures"]:
            s = data["per_figure"][name][model]
            row.append("-" if s is None else f"{_fmt(s['mean'])}\n[{_fmt(s['low'])}, {_fmt(s['high'])}] n={s['n']}")
        cells.append(row)
    table = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 3)
    table.auto_set_column_width([0])
    if data["pairwise"]:
        rows = []
        for p in data["pairwise"]:
            effect = p["effect_size"] or {}
            ci = effect.get("mean_difference_ci95") or [None, None]
            verdict = {True: "yes", False: "no"}.get(p["significant"], p["reason"] or "-")
            rows.append(
                [
                    f"{p['model_a']}\nvs {p['model_b']}",
                    p["test"] + (" (paired)" if p["paired"] else ""),
                    _fmt(p["p_value"]),
                    f"{_fmt(p['p_value_adjusted'])} ({p['correction']})",
                    verdict,
                    f"{_fmt(effect.get('mean_difference'))} [{_fmt(ci[0])}, {_fmt(ci[1])}]",
                    _fmt(effect.get("rank_biserial")),
                ]
            )
        labels = [
            f"pair ({data['metric']})",
            "test",
            "p",
            "p adjusted",
            "p < 0.05",
            "mean diff. [95% CI]",
            "rank-biserial",
        ]
        height = 0.09 * (len(rows) + 1)
        tests = ax.table(
            cellText=rows,
            colLabels=labels,
            cellLoc="center",
            bbox=(0.0, 0.55 - height, 1.0, height),
            colWidths=[0.3, 0.18, 0.08, 0.12, 0.06, 0.18, 0.08],
        )
        tests.auto_set_font_size(False)
        tests.set_fontsize(7)
    notes = (
        f"Quality metric: {data['metric']}. Intervals: Student-t below 30 values, BCa bootstrap from 30, Wilson "
        "for proportions (docs/metrics.md). latency_ms is per video. Pareto front on "
        f"{', '.join(data['pareto']['objectives']) or 'no complete objective'}: "
        f"{', '.join(data['pareto']['frontier'])}."
    )
    ax.text(0.0, 0.02, "\n".join(textwrap.wrap(notes, 160)), fontsize=8, transform=ax.transAxes)
    return fig


def _pareto_page(data: dict[str, Any]):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=PAGE)
    _title(fig, data, "Quality against latency (Pareto front marked)")
    metric, front = data["metric"], set(data["pareto"]["frontier"])
    for model, point in data["points"].items():
        if point[metric] is None or point["avg_latency_ms"] is None:
            continue
        on_front = model in front
        ax.scatter(
            point["avg_latency_ms"],
            point[metric],
            s=120 if on_front else 60,
            marker="*" if on_front else "o",
            label=f"{model}{' (Pareto)' if on_front else ''}",
        )
        ax.annotate(model, (point["avg_latency_ms"], point[metric]), textcoords="offset points", xytext=(6, 6))
    ax.set_xlabel("mean latency per video (ms, lower is better)")
    ax.set_ylabel(f"{metric} ({'higher' if direction(metric) else 'lower'} is better)")
    ax.grid(alpha=0.3)
    if ax.collections:
        ax.legend()
    else:
        ax.text(0.5, 0.5, f"no model has both {metric} and latency", ha="center", transform=ax.transAxes)
    return fig


def _ci_page(data: dict[str, Any]):
    import matplotlib.pyplot as plt

    names = data["figures"]
    cols = min(3, max(1, len(names)))
    rows = (len(names) + cols - 1) // cols or 1
    fig, axes = plt.subplots(rows, cols, figsize=PAGE, squeeze=False)
    _title(fig, data, "Per-metric means with 95% confidence intervals")
    for ax, name in zip(axes.flat, names, strict=False):
        for i, model in enumerate(data["models"]):
            s = data["per_figure"][name][model]
            if s is None:
                continue
            err = None
            if s["low"] is not None:
                err = [[s["mean"] - s["low"]], [s["high"] - s["mean"]]]
            ax.errorbar([i], [s["mean"]], yerr=err, fmt="o", capsize=6)
        ax.set_xticks(range(len(data["models"])), data["models"], rotation=15, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _trend_page(data: dict[str, Any]):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=PAGE)
    _title(fig, data, "Trends: each benchmark's figure by the time it ran")
    for ax, name in zip(axes, [data["metric"], "avg_latency_ms"], strict=True):
        for model in data["models"]:
            points = [(b["created_at"], (b["figures"].get(name) or {}).get("value")) for b in data["benchmarks"][model]]
            points = [(t, v) for t, v in points if v is not None]
            if points:
                ax.plot([t for t, _ in points], [v for _, v in points], marker="o", label=model)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", rotation=20, labelsize=8)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _monitoring_page(data: dict[str, Any]):
    import matplotlib.pyplot as plt

    if not data["monitored"]:
        return None
    fig, axes = plt.subplots(1, 3, figsize=PAGE)
    _title(fig, data, "Resource timelines of monitored benchmarks")
    reasons = set()
    for bench in data["monitored"][:8]:
        timeline = bench["monitoring"]
        t = [s["t_s"] for s in timeline["samples"]]
        label = f"{bench['model_name']} {bench['benchmark_id'][-6:]}"
        axes[0].plot(t, [s["cpu_percent"] for s in timeline["samples"]], label=label)
        axes[1].plot(t, [s["rss_mb"] for s in timeline["samples"]], label=label)
        if timeline.get("gpu_available"):
            axes[2].plot(
                t, [sum(g["memory_used_mb"] for g in s.get("gpu", [])) for s in timeline["samples"]], label=label
            )
        else:
            reasons.add(timeline.get("gpu_unavailable_reason") or "not measured")
    for ax, title in zip(axes, ["node CPU (%)", "RSS: driver + workers (MiB)", "GPU memory used (MiB)"], strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("seconds since start")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    if not axes[2].lines:
        axes[2].text(
            0.5,
            0.5,
            "no GPU series:\n" + "\n".join(textwrap.fill(r, 40) for r in sorted(reasons)),
            ha="center",
            va="center",
            transform=axes[2].transAxes,
            fontsize=8,
        )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _provenance_page(data: dict[str, Any]):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=PAGE)
    _title(fig, data, "Provenance of the runs included")
    ax.axis("off")
    cells = []
    for model in data["models"]:
        for b in data["benchmarks"][model][:40]:
            prov = b.get("provenance") or {}
            packages = prov.get("packages") or {}
            device = (prov.get("worker") or {}).get("device") or {}
            params = (b.get("spec") or {}).get("parameters") or {}
            cells.append(
                [
                    b["benchmark_id"],
                    model,
                    f"{b['created_at']:%Y-%m-%d %H:%M}",
                    (b["spec_hash"] or "")[:12],
                    f"{device.get('device', '?')} {device.get('gpu_name') or device.get('cpu') or ''}".strip(),
                    f"steps={params.get('num_inference_steps')} frames={params.get('num_frames')}",
                    f"{b['completed_videos']}/{b['total_videos']}",
                    f"torch {packages.get('torch')}, diffusers {packages.get('diffusers')}, "
                    f"vid-bench {packages.get('vid-diffusion-bench')}",
                ]
            )
    header = ["benchmark", "model", "created (UTC)", "spec hash", "device", "parameters", "videos ok", "software"]
    table = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.auto_set_column_width(list(range(len(header))))
    ax.text(
        0.0,
        0.0,
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by vid-bench analytics report.",
        fontsize=8,
        transform=ax.transAxes,
    )
    return fig
