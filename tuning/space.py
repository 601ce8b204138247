"""SearchSpace: which generation settings a search may vary, checked before any trial runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.catalog.spec import SCHEDULERS, ModelSpec
from app.errors import ValidationError

CONTINUOUS = {"guidance_scale", "eta"}
DISCRETE = {"num_inference_steps", "num_frames", "fps"}
CATEGORICAL = {"scheduler", "precision"}
PRECISIONS = ("fp32", "fp16", "bf16")


@dataclass
class SearchSpace:
    continuous_params: dict[str, tuple[float, float]] = field(default_factory=dict)
    discrete_params: dict[str, list[int]] = field(default_factory=dict)
    categorical_params: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [*self.continuous_params, *self.discrete_params, *self.categorical_params]

    def validate(self, model: ModelSpec, device: str) -> None:
        """Refuse, before any trial: empty or inverted ranges, values outside the model's ranges,
        unknown schedulers, precisions the device cannot run."""
        if not self.names():
            raise ValidationError("The search space is empty", {})
        for name, bounds in self.continuous_params.items():
            if name not in CONTINUOUS:
                raise ValidationError(f"'{name}' is not a continuous parameter", {"allowed": sorted(CONTINUOUS)})
            low, high = bounds
            if not low < high:
                raise ValidationError(f"{name}: empty range ({low}, {high})", {"parameter": name})
            limit = (0.0, 1.0) if name == "eta" else (model.parameters[name].min, model.parameters[name].max)
            if low < limit[0] or high > limit[1]:
                raise ValidationError(f"{name} range ({low}, {high}) exceeds what {model.name} supports: {limit}",
                                      {"parameter": name, "allowed": {"min": limit[0], "max": limit[1]}})
        for name, values in self.discrete_params.items():
            if name not in DISCRETE:
                raise ValidationError(f"'{name}' is not a discrete parameter", {"allowed": sorted(DISCRETE)})
            if not values:
                raise ValidationError(f"{name}: no values to try", {"parameter": name})
            param = model.parameters[name]
            maximum = min(param.max, model.max_frames) if name == "num_frames" and model.max_frames else param.max
            bad = [v for v in values if isinstance(v, bool) or int(v) != v or not param.min <= v <= maximum]
            if bad:
                raise ValidationError(f"{name} values {bad} are outside what {model.name} supports "
                                      f"({param.min}..{maximum})", {"parameter": name, "invalid": bad})
        for name, values in self.categorical_params.items():
            if name not in CATEGORICAL:
                raise ValidationError(f"'{name}' is not a categorical parameter", {"allowed": sorted(CATEGORICAL)})
            if not values:
                raise ValidationError(f"{name}: no values to try", {"parameter": name})
            allowed = list(SCHEDULERS) if name == "scheduler" else list(PRECISIONS)
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ValidationError(f"unknown {name} {unknown}", {"parameter": name, "allowed": allowed})
            if name == "precision" and device == "cpu" and any(v != "fp32" for v in values):
                raise ValidationError("half precision cannot run on the CPU", {"parameter": name, "device": device})

    def to_tune(self, grid_points: int | None = None) -> dict[str, Any]:
        """Ray Tune search space; with grid_points every parameter becomes a grid axis."""
        from ray import tune

        space: dict[str, Any] = {}
        for name, (low, high) in self.continuous_params.items():
            space[name] = (tune.grid_search([float(x) for x in np.linspace(low, high, grid_points)])
                           if grid_points else tune.uniform(low, high))
        for name, values in {**self.discrete_params, **self.categorical_params}.items():
            space[name] = tune.grid_search(list(values)) if grid_points else tune.choice(list(values))
        return space

    def grid_size(self, grid_points: int) -> int:
        size = grid_points ** len(self.continuous_params)
        for values in [*self.discrete_params.values(), *self.categorical_params.values()]:
            size *= len(values)
        return size
