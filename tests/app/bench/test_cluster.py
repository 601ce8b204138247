"""The cluster rules that need no running Ray: GPU fractions and where a cluster address comes from."""

import pytest

from app.bench.cluster import cluster_address, gpu_fraction
from app.catalog import get_catalog
from app.config import Settings


@pytest.mark.parametrize(
    ("vram_gb", "gpu_gb", "share"), [(5, 80, 0.25), (24, 80, 0.5), (41, 80, 0.75), (80, 80, 1.0), (120, 80, 1.0)]
)
def test_gpu_fraction_is_the_vram_share_in_quarters(vram_gb, gpu_gb, share):
    model = get_catalog().get("svd-xt").model_copy(deep=True)
    model.requirements.vram_gb = vram_gb
    assert gpu_fraction(model, "cuda", gpu_gb) == share


def test_unknown_sizes_take_a_whole_gpu_and_cpu_takes_none():
    model = get_catalog().get("svd-xt")
    assert gpu_fraction(model, "cuda", None) == 1.0
    assert gpu_fraction(get_catalog().get("tiny-t2v"), "cuda", 80) == 1.0  # no VRAM figure: never oversubscribe
    assert gpu_fraction(model, "cpu", 80) == 0.0


def test_a_ray_job_is_detected_from_ray_address(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cluster_address(Settings()) is None
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")  # what `ray job submit` sets for the driver
    assert cluster_address(Settings()) == "10.0.0.5:6379"
    assert cluster_address(Settings(ray_address="head:6379")) == "head:6379"  # the setting wins
