"""Ray Tune + Optuna parameter search over app.bench.

Not built yet: tracked by the optimization issue.
"""
