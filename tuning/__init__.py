"""Ray Tune + Optuna parameter search over generation settings (app.bench does the measuring)."""

from tuning.search import AIOptimizationEngine, OptimizationObjective, OptimizationResult
from tuning.space import SearchSpace

__all__ = ["AIOptimizationEngine", "OptimizationObjective", "OptimizationResult", "SearchSpace"]
