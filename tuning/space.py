"""SearchSpace: which generation settings a search may vary, checked before any trial runs.

The axes are VideoParameters' fields (floats continuous, integers discrete, names categorical) plus the
precision; every value is checked by the same resolve_params a benchmark runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.catalog.params import field_types
from app.catalog.spec import ModelSpec, resolve_params
from app.errors import ValidationError

PRECISIONS = ("fp32", "fp16", "bf16")
AXIS_KINDS = {float: "continuous", int: "discrete", str: "categorical"}


def searchable() -> dict[str, set[str]]:
    """The names each kind of axis may vary: VideoParameters' fields by value type, and the precision."""
    kinds: dict[str, set[str]] = {"continuous": set(), "discrete": set(), "categorical": {"precision"}}
    for name, value_type in field_types().items():
        kinds[AXIS_KINDS[value_type]].add(name)
    return kinds


def refusal(model: ModelSpec, name: str, value: Any) -> ValidationError | None:
    """Why ``model`` refuses ``name=value`` (the benchmark's own check, every other setting at its default)."""
    try:
        resolve_params(model, {name: value})
    except ValidationError as error:
        return error
    return None


@dataclass
class SearchSpace:
    continuous_params: dict[str, tuple[float, float]] = field(default_factory=dict)
    discrete_params: dict[str, list[int]] = field(default_factory=dict)
    categorical_params: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [*self.continuous_params, *self.discrete_params, *self.categorical_params]

    def validate(self, model: ModelSpec, device: str) -> None:
        """Refuse, before any trial: empty or inverted ranges, values the model refuses (the same check a
        benchmark makes), precisions the device cannot run."""
        if not self.names():
            raise ValidationError("The search space is empty", {})
        allowed = searchable()
        for kind, axes in (
            ("continuous", self.continuous_params),
            ("discrete", self.discrete_params),
            ("categorical", self.categorical_params),
        ):
            for name, values in axes.items():
                if name not in allowed[kind]:
                    raise ValidationError(f"'{name}' is not a {kind} parameter", {"allowed": sorted(allowed[kind])})
                if not values:
                    raise ValidationError(f"{name}: no values to try", {"parameter": name})
        for name, (low, high) in self.continuous_params.items():
            if not low < high:
                raise ValidationError(f"{name}: empty range ({low}, {high})", {"parameter": name})
            error = refusal(model, name, low) or refusal(model, name, high)
            if error:
                raise ValidationError(
                    f"{name} range ({low}, {high}) exceeds what {model.name} supports: {error.message}",
                    {**error.details, "parameter": name},
                )
        for name, values in self.discrete_params.items():
            refused = [(value, error) for value in values if (error := refusal(model, name, value))]
            if refused:
                raise ValidationError(
                    f"{name} values {[v for v, _ in refused]} are outside what {model.name} "
                    f"supports: {refused[0][1].message}",
                    {"parameter": name, "invalid": [v for v, _ in refused]},
                )
        for name, values in self.categorical_params.items():
            if name == "precision":
                unknown = [v for v in values if v not in PRECISIONS]
                if unknown:
                    raise ValidationError(f"unknown {name} {unknown}", {"parameter": name, "allowed": list(PRECISIONS)})
                if device == "cpu" and any(v != "fp32" for v in values):
                    raise ValidationError("half precision cannot run on the CPU", {"parameter": name, "device": device})
                continue
            refused_choices = [(value, error) for value in values if (error := refusal(model, name, value))]
            if refused_choices:
                raise ValidationError(
                    f"unknown {name} {[v for v, _ in refused_choices]}: {refused_choices[0][1].message}",
                    {"parameter": name, "invalid": [v for v, _ in refused_choices]},
                )

    def to_tune(self, grid_points: int | None = None) -> dict[str, Any]:
        """Ray Tune search space; with grid_points every parameter becomes a grid axis."""
        from ray import tune

        space: dict[str, Any] = {}
        for name, (low, high) in self.continuous_params.items():
            space[name] = (
                tune.grid_search([float(x) for x in np.linspace(low, high, grid_points)])
                if grid_points
                else tune.uniform(low, high)
            )
        choices: dict[str, list[int] | list[str]] = {**self.discrete_params, **self.categorical_params}
        for name, values in choices.items():
            space[name] = tune.grid_search(list(values)) if grid_points else tune.choice(list(values))
        return space

    def grid_size(self, grid_points: int) -> int:
        size = grid_points ** len(self.continuous_params)
        axes: list[list[int] | list[str]] = [*self.discrete_params.values(), *self.categorical_params.values()]
        for values in axes:
            size *= len(values)
        return size
