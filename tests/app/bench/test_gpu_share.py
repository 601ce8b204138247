"""GPU shares of benchmark actors with gpu_memory_fraction: sized on the usable part of each GPU, capped to it."""

from __future__ import annotations

from types import SimpleNamespace

from app.bench.cluster import cap_to_gpu_share, gpu_fraction
from app.config import Settings


def model(vram_gb: float):
    return SimpleNamespace(requirements=SimpleNamespace(vram_gb=vram_gb))


def test_share_is_sized_on_the_usable_memory():
    assert gpu_fraction(model(18), "cuda", 80) == 0.25  # 18 of 80 GB: a quarter
    assert gpu_fraction(model(18), "cuda", 80, memory_fraction=0.8) == 0.5  # a quarter of 80% is 16 GB: too small
    assert gpu_fraction(model(18), "cuda", 80, memory_fraction=0.9) == 0.25  # 18 GB: fits
    assert gpu_fraction(model(70), "cuda", 80, memory_fraction=0.5) == 1.0  # never more than one GPU
    assert gpu_fraction(model(18), "cpu", 80, memory_fraction=0.5) == 0.0


def test_no_cap_on_the_cpu():
    assert cap_to_gpu_share("cpu", Settings(gpu_memory_fraction=0.5)) is None
