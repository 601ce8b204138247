"""Parameter search over generation settings with Ray Tune + Optuna.

Each trial is a real benchmark: the model generates the same fixed prompts with
the same fixed seeds under the trial's settings, and is scored with the
registered metrics and the profiler. Strategies: ``bayesian`` (Optuna TPE),
``random``, ``grid``, and ``pareto`` (Optuna NSGA-II on quality and latency,
returning the non-dominated set). The Tune experiment lives under
``<data>/tune/<name>``: a search interrupted part-way resumes with
``Tuner.restore`` and runs only the trials that had not finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from app.bench.spec import BenchmarkSpec
from app.catalog import VideoParameters, get_catalog
from app.config import Settings, get_settings
from app.errors import ValidationError
from tuning.space import SearchSpace

if TYPE_CHECKING:
    from app.bench.pool import TrialWorker
    from app.bench.worker import BenchmarkWorker
    from app.catalog.spec import ModelSpec

STRATEGIES = ("bayesian", "random", "grid", "pareto")
GENERATION_KEYS = tuple(VideoParameters.model_fields)  # the trial config's keys that are generation parameters


class OptimizationObjective(str, Enum):  # noqa: UP042 - str() and JSON of the members stay as published
    MAXIMIZE_QUALITY = "quality"
    MINIMIZE_LATENCY = "latency"
    QUALITY_UNDER_LATENCY = "quality_under_latency"  # best quality whose latency is within the budget
    LATENCY_ABOVE_QUALITY = "latency_above_quality"  # fastest settings whose quality is above the floor
    BALANCED = "balanced"  # quality per second


@dataclass
class OptimizationResult:
    best_parameters: dict[str, Any] | None
    best_score: float | None
    trials: list[dict[str, Any]]
    pareto_set: list[dict[str, Any]]
    elapsed_time: float
    experiment_path: str
    objective: str
    strategy: str
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_of(
    objective: OptimizationObjective,
    quality: float | None,
    latency_ms: float,
    latency_budget_ms: float | None,
    quality_floor: float | None,
) -> float:
    """Higher is better for every objective; infeasible trials score -inf-like (-1e9) and say why."""
    q = quality if quality is not None else float("nan")
    if objective is OptimizationObjective.MAXIMIZE_QUALITY:
        return q
    if objective is OptimizationObjective.MINIMIZE_LATENCY:
        return -latency_ms
    if objective is OptimizationObjective.QUALITY_UNDER_LATENCY:
        if latency_budget_ms is None:
            raise ValidationError("this objective needs latency_budget_ms", {"objective": objective.value})
        return q if latency_ms <= latency_budget_ms else -1e9
    if objective is OptimizationObjective.LATENCY_ABOVE_QUALITY:
        if quality_floor is None:
            raise ValidationError("this objective needs quality_floor", {"objective": objective.value})
        return -latency_ms if quality is not None and quality >= quality_floor else -1e9
    return q / (latency_ms / 1000.0)


def run_trial(
    config: dict[str, Any],
    template: dict[str, Any],
    settings_json: dict[str, Any],
    objective: str,
    quality_metric: str,
    latency_budget_ms: float | None,
    quality_floor: float | None,
) -> None:
    """One Tune trial: a benchmark under ``config``, reported to Tune.

    On a CPU cluster the trial leases a warm worker from the pool (app.bench.pool.TrialWorker), so only the
    first trial of a model pays its load; otherwise (pool off, GPU) the worker is loaded in the trial process.
    """
    import ray
    from ray import tune

    from app.bench.aggregates import aggregate_rows
    from app.bench.worker import BenchmarkWorker

    parameters = {**template["parameters"], **{k: v for k, v in config.items() if k in GENERATION_KEYS}}
    spec = BenchmarkSpec(
        **{
            **template,
            "parameters": parameters,
            "optimization_profile": ({"precision": config["precision"]} if "precision" in config else None),
        }
    )
    settings = Settings(**settings_json)
    pooled = (
        settings.worker_pool_idle_s > 0
        and ray.is_initialized()
        and spec.device in ("cpu", "auto")
        and ray.cluster_resources().get("GPU", 0) == 0
    )
    pool: TrialWorker | None = None
    worker: TrialWorker | BenchmarkWorker
    if pooled:  # a warm worker from the cluster's pool: trials after the first skip the model load
        from app.bench.pool import TrialWorker

        worker = pool = TrialWorker(spec.model_dump(mode="json"), settings_json)
        unavailable = pool.info["unavailable_evaluators"]
    else:
        local = BenchmarkWorker(spec.model_dump(mode="json"), settings_json)
        worker, unavailable = local, local.evaluator.unavailable
    try:
        worker.warm_up()
        records = [worker.run("search", *item) for item in spec.work_items()]
    except BaseException:
        if pool is not None:
            pool.stop()  # never pool a worker whose trial failed midway
        raise
    if pool is not None:
        pool.release()
    ok = [r for r in records if r["status"] == "ok"]
    if not ok:
        raise ValidationError(f"every video failed under {config}: {records[0].get('error')}", {"config": config})
    values = {(row["kind"], row["name"]): row["value"] for row in aggregate_rows(records, spec, unavailable, settings)}
    quality = values["metric", quality_metric]
    latency = values["performance", "avg_latency_ms"]
    tune.report(
        {
            "score": score_of(OptimizationObjective(objective), quality, latency, latency_budget_ms, quality_floor),
            "quality": quality if quality is not None else float("nan"),
            "latency_ms": latency,
            "throughput_fps": values["performance", "throughput_fps"],
            "videos": len(ok),
        }
    )


def _default_space(model: ModelSpec) -> SearchSpace:
    """The search space when none is given: the model's guidance_scale range."""
    guidance = model.parameters.get("guidance_scale")
    if guidance is None or guidance.min is None or guidance.max is None:
        raise ValidationError(
            f"{model.name} has no guidance_scale range to search by default: give a search space",
            {"model_name": model.name},
        )
    return SearchSpace(continuous_params={"guidance_scale": (guidance.min, guidance.max)})


class AIOptimizationEngine:
    def __init__(self, suite=None, settings: Settings | None = None):
        self.settings = settings or (suite.settings if suite is not None else get_settings())

    def optimize_benchmark_parameters(
        self,
        model_name: str,
        objective: OptimizationObjective | str = OptimizationObjective.MAXIMIZE_QUALITY,
        strategy: str = "bayesian",
        search_space: SearchSpace | None = None,
        max_evaluations: int = 20,
        prompts: list[str] | None = None,
        seeds: int = 1,
        base_parameters: VideoParameters | dict[str, Any] | None = None,
        quality_metric: str = "temporal_consistency",
        latency_budget_ms: float | None = None,
        quality_floor: float | None = None,
        grid_points: int = 3,
        device: str = "cpu",
        seed: int = 0,
        experiment_name: str | None = None,
        resume: bool = True,
        max_concurrent_trials: int = 1,
        verbose: int = 0,
    ) -> OptimizationResult:
        import optuna
        from ray import tune

        from app.bench.cluster import ensure_ray, gpu_fraction, gpu_memory_gb
        from app.bench.compare import pareto_frontier

        # -- everything is checked before any trial runs
        objective = OptimizationObjective(objective)
        if strategy not in STRATEGIES:
            raise ValidationError(f"Unknown strategy '{strategy}'", {"allowed": list(STRATEGIES)})
        if max_evaluations < 1:
            raise ValidationError("max_evaluations must be at least 1", {"max_evaluations": max_evaluations})
        if objective is OptimizationObjective.QUALITY_UNDER_LATENCY and not latency_budget_ms:
            raise ValidationError("this objective needs latency_budget_ms", {"objective": objective.value})
        if objective is OptimizationObjective.LATENCY_ABOVE_QUALITY and quality_floor is None:
            raise ValidationError("this objective needs quality_floor", {"objective": objective.value})
        from app.metrics.registry import canonical, get_metric

        if get_metric(canonical(quality_metric)).higher_is_better is not True:
            raise ValidationError(
                f"quality_metric '{quality_metric}' is not a higher-is-better quality metric: the search maximises it",
                {"quality_metric": quality_metric},
            )
        model = get_catalog().get(model_name)
        space = search_space or _default_space(model)
        space.validate(model, device)
        template = BenchmarkSpec(
            model_name=model_name,
            prompts=prompts or ["A red fox trotting across a snowy meadow"],
            videos_per_prompt=seeds,
            parameters=base_parameters or {},
            device=device,
            metric_settings={"metrics": [quality_metric]},
        )
        template.check()
        settings_json = self.settings.portable()

        # -- the Tune experiment, restorable
        name = (
            experiment_name
            or "search-"
            + hashlib.sha256(
                json.dumps(
                    [
                        model_name,
                        objective.value,
                        strategy,
                        asdict(space),
                        max_evaluations,
                        template.model_dump(mode="json"),
                    ],
                    sort_keys=True,
                    default=str,
                ).encode()
            ).hexdigest()[:12]
        )
        storage = self.settings.data_dir / "tune"
        path = storage / name
        trainable = tune.with_resources(
            tune.with_parameters(
                run_trial,
                template=template.model_dump(mode="json"),
                settings_json=settings_json,
                objective=objective.value,
                quality_metric=quality_metric,
                latency_budget_ms=latency_budget_ms,
                quality_floor=quality_floor,
            ),
            {
                "cpu": self.settings.torch_threads_per_actor,
                "gpu": gpu_fraction(model, device, gpu_memory_gb(self.settings), self.settings.gpu_memory_fraction),
            },
        )
        ensure_ray(self.settings)
        started = time.perf_counter()
        if resume and tune.Tuner.can_restore(str(path)):
            tuner = tune.Tuner.restore(str(path), trainable=trainable, resume_unfinished=True, resume_errored=True)
        else:
            tuner = tune.Tuner(
                trainable,
                param_space=space.to_tune(grid_points if strategy == "grid" else None),
                tune_config=self._tune_config(
                    strategy, space, max_evaluations, grid_points, seed, max_concurrent_trials
                ),
                run_config=tune.RunConfig(name=name, storage_path=str(storage), verbose=verbose),
            )
        grid = tuner.fit()
        elapsed = time.perf_counter() - started

        trials: list[dict[str, Any]] = []
        for result in grid:
            metrics = result.metrics or {}
            trials.append(
                {
                    "trial_id": metrics.get("trial_id"),
                    "config": dict(result.config or {}),
                    "score": metrics.get("score"),
                    "quality": metrics.get("quality"),
                    "latency_ms": metrics.get("latency_ms"),
                    "throughput_fps": metrics.get("throughput_fps"),
                    "error": str(result.error).splitlines()[0] if result.error else None,
                }
            )
        done = [t for t in trials if t["error"] is None and t["score"] is not None and t["score"] == t["score"]]
        feasible = [t for t in done if t["score"] > -1e9]
        best = max(feasible, key=lambda t: t["score"]) if feasible else None
        scored = {
            str(i): {"quality": t["quality"], "latency_ms": t["latency_ms"]}
            for i, t in enumerate(done)
            if t["quality"] == t["quality"]
        }
        front = pareto_frontier(scored, {"quality": True, "latency_ms": False})["frontier"] if scored else []
        result = OptimizationResult(
            best_parameters=best["config"] if best else None,
            best_score=best["score"] if best else None,
            trials=trials,
            pareto_set=[done[int(i)] for i in front],
            elapsed_time=elapsed,
            experiment_path=str(path),
            objective=objective.value,
            strategy=strategy,
            provenance={
                "model": model_name,
                "prompts": template.prompts,
                "seeds": template.seeds(),
                "quality_metric": quality_metric,
                "search_space": asdict(space),
                "optuna": optuna.__version__,
            },
        )
        (path / "vid_bench_result.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
        from app.bench.provenance import package_versions
        from app.storage.database import get_database
        from app.storage.searches import SearchRepository

        result.provenance["packages"] = package_versions()
        SearchRepository(get_database(self.settings.resolved_database_url)).save(
            name,
            model_name,
            objective.value,
            strategy,
            json.loads(json.dumps(result.to_dict(), default=str)),
            result.provenance,
        )
        return result

    @staticmethod
    def _tune_config(
        strategy: str, space: SearchSpace, max_evaluations: int, grid_points: int, seed: int, max_concurrent: int
    ):
        import optuna
        from ray import tune
        from ray.tune.search import ConcurrencyLimiter
        from ray.tune.search.optuna import OptunaSearch

        if strategy == "grid":
            return tune.TuneConfig(
                metric="score", mode="max", num_samples=1, max_concurrent_trials=max_concurrent, reuse_actors=True
            )
        if strategy == "random":
            from ray.tune.search.basic_variant import BasicVariantGenerator

            return tune.TuneConfig(
                metric="score",
                mode="max",
                num_samples=max_evaluations,
                search_alg=BasicVariantGenerator(random_state=seed, max_concurrent=max_concurrent),
                reuse_actors=True,
            )
        if strategy == "pareto":
            from tuning.samplers import CheckpointableNSGAIISampler

            search = OptunaSearch(
                metric=["quality", "latency_ms"],
                mode=["max", "min"],
                sampler=CheckpointableNSGAIISampler(seed=seed, population_size=max(2, min(max_evaluations // 2, 50))),
            )
            return tune.TuneConfig(
                search_alg=ConcurrencyLimiter(search, max_concurrent=max_concurrent),
                num_samples=max_evaluations,
                reuse_actors=True,
            )
        search = OptunaSearch(
            metric="score",
            mode="max",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, max(1, max_evaluations // 3))),
        )
        return tune.TuneConfig(
            search_alg=ConcurrencyLimiter(search, max_concurrent=max_concurrent),
            num_samples=max_evaluations,
            reuse_actors=True,
        )
