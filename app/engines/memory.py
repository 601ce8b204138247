"""Memory checks: refuse a model the device cannot hold before loading it, and name an out-of-memory as such.

The catalog's ``requirements.vram_gb`` is what a model needs to be loaded and run. It is compared with the memory
the device has free at load time: ``torch.cuda.mem_get_info`` on a CUDA device, and on the CPU (or with model CPU
offload, where the weights stay in host memory) the system's available RAM from ``psutil``. A requirement of 0
means "small enough for any device" (the built-in tiny models) and is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.catalog.spec import ModelSpec
from app.errors import InsufficientMemoryError

GB = 2**30
CPU_OOM_MARKERS = ("can't allocate memory", "not enough memory")
"""How torch's CPU allocator words a failed allocation (it raises a plain RuntimeError)."""


def free_memory_gb(device: str) -> float:
    """Free memory, in GB, where a model on ``device`` keeps its weights."""
    if str(device).startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return free / GB
    import psutil

    return psutil.virtual_memory().available / GB


def memory_device(device: str, offload: bool) -> str:
    """Where the weights live: model CPU offload keeps them in host memory between uses."""
    return "cpu" if offload or not str(device).startswith("cuda") else str(device)


def check_memory(spec: ModelSpec, device: str, offload: bool = False) -> None:
    """InsufficientMemoryError when the catalog's requirement exceeds the free memory, before any weight is read."""
    required = float(spec.requirements.vram_gb or 0)
    if required <= 0 or str(device) == "remote":
        return
    where = memory_device(device, offload)
    available = free_memory_gb(where)
    if required > available:
        raise InsufficientMemoryError(round(required, 2), round(available, 2), spec.name, where)


def is_out_of_memory(error: BaseException) -> bool:
    import torch

    if isinstance(error, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(error, RuntimeError) and any(marker in str(error) for marker in CPU_OOM_MARKERS)


@contextmanager
def out_of_memory_as_typed(spec: ModelSpec, device: str) -> Iterator[None]:
    """An allocation that fails inside becomes InsufficientMemoryError (the need is unknown, the free memory is
    measured after the failure); other errors pass through unchanged."""
    try:
        yield
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        where = str(device) if str(device).startswith("cuda") else "cpu"
        if where.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
        available = round(free_memory_gb(where), 2)
        raise InsufficientMemoryError(
            None,
            available,
            spec.name,
            where,
            message=f"Model '{spec.name}' ran out of memory on {where} while generating "
            f"({available} GB free afterwards): {str(exc).splitlines()[0][:300]}",
        ) from exc
