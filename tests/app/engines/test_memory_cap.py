"""gpu_memory_fraction on CUDA: torch's per-process cap, so an allocation beyond it fails instead of crowding others."""

from __future__ import annotations

import pytest
import torch

from app.engines.optimization import cap_cuda_memory


def test_nothing_to_cap_on_the_cpu_or_at_the_whole_gpu():
    assert cap_cuda_memory("cpu", 0.5) is None
    assert cap_cuda_memory("cuda", 1.0) is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_an_allocation_beyond_the_cap_fails():
    total = torch.cuda.get_device_properties(0).total_memory
    try:
        assert cap_cuda_memory("cuda:0", 0.1) == 0.1
        small = torch.empty(int(total * 0.05), dtype=torch.uint8, device="cuda:0")
        with pytest.raises(torch.OutOfMemoryError):
            torch.empty(int(total * 0.2), dtype=torch.uint8, device="cuda:0")
        del small
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, 0)
        torch.cuda.empty_cache()
