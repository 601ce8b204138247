"""How many evaluations TPE and random search need to get close to a known optimum.

The objective is synthetic (no model): a shifted 4-d Rosenbrock-like valley mixed with a
categorical choice, shaped like a generation-settings search (two continuous knobs, a step
count, a scheduler). Both samplers are Optuna's (the ones AIOptimizationEngine uses through
Ray Tune), run side by side over the same seeds. Printed: evaluations until the best value is
within --tolerance of the optimum (median and per seed), or "-" if the budget ran out.

    python benchmarks/search_efficiency.py [--seeds 10] [--budget 200] [--tolerance 0.2 0.05]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import optuna

OPTIMUM = {"guidance_scale": 7.5, "eta": 0.3, "steps": 30, "scheduler": "dpm"}
SCHEDULER_PENALTY = {"ddim": 0.4, "dpm": 0.0, "euler": 0.2, "lms": 0.6}


def objective(trial: optuna.Trial) -> float:
    g = trial.suggest_float("guidance_scale", 1.0, 15.0)
    eta = trial.suggest_float("eta", 0.0, 1.0)
    steps = trial.suggest_int("steps", 10, 50, step=5)
    scheduler = trial.suggest_categorical("scheduler", list(SCHEDULER_PENALTY))
    x, y, z = (g - 7.5) / 7.0, (eta - 0.3), (steps - 30) / 20.0
    return x**2 + 10 * (y - x**2 / 4) ** 2 + z**2 + SCHEDULER_PENALTY[scheduler]


def evaluations_to_reach(sampler: optuna.samplers.BaseSampler, budget: int, tolerance: float) -> int | None:
    study = optuna.create_study(sampler=sampler)
    for n in range(1, budget + 1):
        study.optimize(objective, n_trials=1)
        if study.best_value <= tolerance:  # the optimum's value is 0
            return n
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--tolerance", type=float, nargs="+", default=[0.2, 0.05])
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures: dict = {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for tolerance in args.tolerance:
        rows = {"tpe": [], "random": []}
        for seed in range(args.seeds):
            rows["tpe"].append(evaluations_to_reach(optuna.samplers.TPESampler(seed=seed), args.budget, tolerance))
            rows["random"].append(
                evaluations_to_reach(optuna.samplers.RandomSampler(seed=seed), args.budget, tolerance)
            )
        print(f"evaluations until within {tolerance} of the optimum (budget {args.budget}, {args.seeds} seeds)")
        figures[str(tolerance)] = {"evaluations": rows, "median_random_over_tpe": None}
        for name, counts in rows.items():
            reached = [c for c in counts if c is not None]
            median = statistics.median(reached) if len(reached) == len(counts) else None
            shown = " ".join("-" if c is None else str(c) for c in counts)
            print(
                f"  {name:7s} reached {len(reached):2d}/{len(counts)}  median "
                f"{median if median is not None else 'n/a':>6}   per seed: {shown}"
            )
        paired = [(t, r) for t, r in zip(rows["tpe"], rows["random"], strict=True) if t is not None and r is not None]
        if paired:
            ratio = statistics.median(r / t for t, r in paired)
            print(f"  median random/TPE evaluations over seeds where both reached it: {ratio:.2f}x")
            figures[str(tolerance)]["median_random_over_tpe"] = ratio
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
