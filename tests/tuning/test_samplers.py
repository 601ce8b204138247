"""The Pareto search's NSGA-II sampler survives Tune's searcher checkpoints (no Ray needed: the searcher is saved
and restored exactly as Tune does it, through ``Searcher.save`` / ``restore``)."""

import optuna
import pytest
from ray import tune
from ray.tune.search.optuna import OptunaSearch

from tuning.samplers import CheckpointableNSGAIISampler

SPACE = {"guidance_scale": tune.uniform(1.0, 15.0), "num_inference_steps": tune.choice([1, 2, 3])}


def _searcher() -> OptunaSearch:
    search = OptunaSearch(
        metric=["quality", "latency_ms"],
        mode=["max", "min"],
        sampler=CheckpointableNSGAIISampler(seed=3, population_size=2),
    )
    search.set_search_properties(None, None, SPACE)
    return search


def _trial(search: OptunaSearch, number: int) -> dict:
    config = search.suggest(f"trial-{number}")
    # a deterministic two-objective answer, so that NSGA-II's later generations depend on the earlier ones
    search.on_trial_complete(
        f"trial-{number}",
        {
            "quality": config["guidance_scale"] / config["num_inference_steps"],
            "latency_ms": 10.0 * config["num_inference_steps"],
        },
    )
    return config


def test_optunas_own_nsga2_cannot_be_checkpointed(tmp_path):
    """The defect this sampler exists for: if optuna ever drops the lock, this fails and the subclass can go."""
    search = OptunaSearch(
        metric=["quality", "latency_ms"],
        mode=["max", "min"],
        sampler=optuna.samplers.NSGAIISampler(seed=3, population_size=2),
    )
    search.set_search_properties(None, None, SPACE)
    _trial(search, 0)
    with pytest.raises(TypeError, match="pickle"):
        search.save(str(tmp_path / "searcher.pkl"))


def test_a_checkpointed_search_resumes_where_it_stopped(tmp_path):
    straight = _searcher()
    uninterrupted = [_trial(straight, n) for n in range(8)]

    first = _searcher()
    before = [_trial(first, n) for n in range(4)]
    first.save(str(tmp_path / "searcher.pkl"))
    resumed = _searcher()
    resumed.restore(str(tmp_path / "searcher.pkl"))
    after = [_trial(resumed, n) for n in range(4, 8)]

    assert before + after == uninterrupted  # same sampler state, same study: the same suggestions
    assert len(resumed._ot_study.trials) == 8
    assert resumed._ot_study.sampler._thread_lock is not first._ot_study.sampler._thread_lock  # a fresh lock


def test_the_generation_cache_keeps_nsga2s_keys():
    assert CheckpointableNSGAIISampler._get_generation_key() == optuna.samplers.NSGAIISampler._get_generation_key()
