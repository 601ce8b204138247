"""Optuna samplers whose state survives Ray Tune's searcher checkpoints.

Tune pickles the searcher (and with it the Optuna study and its sampler) on a clock while a search
runs, and again when a search is restored. Optuna's genetic-algorithm base class holds a
``threading.Lock``, which cannot be pickled, so a plain ``NSGAIISampler`` crashes any Pareto search
that lives long enough to reach a checkpoint. Imported lazily: it pulls in optuna.
"""

from __future__ import annotations

import threading
from typing import Any

from optuna.samplers import NSGAIISampler


class CheckpointableNSGAIISampler(NSGAIISampler):
    """NSGA-II that pickles: the lock is left out of the state and a fresh one is made on restore.

    The lock only serialises the sampler's generation cache between threads of one process; a restored
    sampler rebuilds that cache from the study's trials, so nothing of the search is lost with it.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()


# Optuna keys the generation cache in the study's system attributes by the sampler's class name; keep
# NSGA-II's own keys, so a study reads the same whichever of the two classes wrote it.
CheckpointableNSGAIISampler._GENERATION_KEY = NSGAIISampler._GENERATION_KEY
CheckpointableNSGAIISampler._PARENT_CACHE_KEY_PREFIX = NSGAIISampler._PARENT_CACHE_KEY_PREFIX
