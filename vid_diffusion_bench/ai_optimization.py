"""AI-driven optimization: Ray Tune + Optuna search over generation settings."""

from tuning import AIOptimizationEngine, OptimizationObjective, OptimizationResult, SearchSpace

__all__ = ["AIOptimizationEngine", "OptimizationObjective", "OptimizationResult", "SearchSpace"]
