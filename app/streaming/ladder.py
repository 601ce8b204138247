"""The quality ladder: rungs of (resolution, frames per clip) from the requested top down to the model's minimum.

Every rung is checked against the catalog (resolution listed, frame count in range), so a ladder the model
cannot reach is refused before any work. Rung 0 is the top (best) quality; higher levels are cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.catalog.spec import ModelSpec, resolve_params
from app.errors import ValidationError
from app.i18n import Message


@dataclass(frozen=True)
class Rung:
    level: int  # 0 = top quality
    width: int
    height: int
    num_frames: int
    quality: float  # pixels per frame relative to the top rung, in (0, 1]

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "resolution": [self.width, self.height],
            "frames": self.num_frames,
            "quality": self.quality,
        }


def _frame_bounds(model: ModelSpec) -> tuple[int, int]:
    param = model.parameters.get("num_frames")
    if param is None:
        raise ValidationError(
            Message(
                "'{model_name}' has no num_frames range in the catalog; it cannot stream clips", model_name=model.name
            ),
            {"model_name": model.name},
        )
    if param.choices is not None:
        low, high = int(min(param.choices)), int(max(param.choices))
    elif param.min is not None and param.max is not None:
        low, high = int(param.min), int(param.max)
    else:  # the catalog refuses a parameter with neither choices nor min and max
        raise ValueError(f"{model.name}: num_frames has neither choices nor min and max")
    return low, min(high, model.max_frames or high)


def _nearest_frames(model: ModelSpec, wanted: float, low: int) -> int:
    param = model.parameters["num_frames"]
    if param.choices is not None:  # the largest allowed count not above the wanted one
        return int(max([c for c in param.choices if c <= wanted + 1e-9] or [low]))
    return max(low, int(round(wanted)))


def build_ladder(
    model: ModelSpec,
    initial_resolution: tuple[int, int] | None,
    initial_frames: int | None,
    levels: int,
    num_inference_steps: int | None = None,
) -> list[Rung]:
    """``levels`` distinct rungs, resolution (same aspect ratio, listed in the catalog) and frames stepping down
    together from the top to the smallest listed resolution and the model's minimum frame count."""
    width, height = initial_resolution or model.default_resolution()
    low, high = _frame_bounds(model)
    frames = int(initial_frames if initial_frames is not None else (model.default("num_frames") or high))
    if f"{width}x{height}" not in model.resolutions:
        raise ValidationError(
            Message(
                "initial_resolution {width}x{height} is not supported by {model_name}: {resolutions}",
                width=width,
                height=height,
                model_name=model.name,
                resolutions=model.resolutions,
            ),
            {"parameter": "initial_resolution", "value": [width, height], "allowed": model.resolutions},
        )
    if not low <= frames <= high:
        raise ValidationError(
            Message(
                "initial_frames={frames} is outside the range {model_name} supports: {low}-{high}",
                frames=frames,
                model_name=model.name,
                low=low,
                high=high,
            ),
            {"parameter": "initial_frames", "value": frames, "allowed": {"min": low, "max": high}},
        )
    sizes = sorted(
        {
            tuple(int(x) for x in r.split("x"))
            for r in model.resolutions
            if int(r.split("x")[0]) * height == int(r.split("x")[1]) * width and int(r.split("x")[0]) <= width
        },
        key=lambda wh: -wh[0] * wh[1],
    )
    rungs: list[Rung] = []
    for level in range(levels):
        t = level / (levels - 1) if levels > 1 else 0.0
        w, h = sizes[round(t * (len(sizes) - 1))]
        count = _nearest_frames(model, frames - t * (frames - low), low)
        rung = Rung(level, w, h, count, (w * h) / (width * height))
        if rungs and (rung.width, rung.height, rung.num_frames) == (
            rungs[-1].width,
            rungs[-1].height,
            rungs[-1].num_frames,
        ):
            raise ValidationError(
                Message(
                    "{model_name} cannot reach {levels} distinct quality levels from {width}x{height} with {frames} "
                    "frames (resolutions {resolutions}, frames down to {low}); ask for fewer quality_levels or a "
                    "higher start",
                    model_name=model.name,
                    levels=levels,
                    width=width,
                    height=height,
                    frames=frames,
                    resolutions=[f"{a}x{b}" for a, b in sizes],
                    low=low,
                ),
                {"parameter": "quality_levels", "value": levels, "model_name": model.name},
            )
        params = {"resolution": rung.resolution, "num_frames": rung.num_frames}
        if num_inference_steps is not None:
            params["num_inference_steps"] = num_inference_steps
        resolve_params(model, params)  # the catalog's own check of every rung
        rungs.append(rung)
    return rungs
