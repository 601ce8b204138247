"""INSUFFICIENT_MEMORY: a requirement above this machine's memory is refused before loading; a failed allocation
during generation is named as such. Real memory figures, no mocks."""

import psutil
import pytest

from app.catalog import get_catalog
from app.engines.image import ImageEngine
from app.engines.memory import check_memory, free_memory_gb, out_of_memory_as_typed
from app.engines.speech import SpeechEngine
from app.engines.text import TextEngine
from app.engines.video import VideoEngine
from app.errors import InsufficientMemoryError

ABOVE_THIS_MACHINE_GB = round(psutil.virtual_memory().total / 2**30 * 4 + 1, 1)


def needing_more_than_the_machine(name: str):
    spec = get_catalog().get(name)
    return spec.model_copy(
        update={"requirements": spec.requirements.model_copy(update={"vram_gb": ABOVE_THIS_MACHINE_GB})}
    )


@pytest.mark.parametrize(
    ("engine_cls", "name"),
    [(VideoEngine, "tiny-t2v"), (ImageEngine, "tiny-t2i"), (SpeechEngine, "tiny-tts"), (TextEngine, "tiny-text")],
)
def test_a_model_larger_than_the_free_memory_is_refused_before_loading(settings, engine_cls, name):
    engine = engine_cls(needing_more_than_the_machine(name), device="cpu")
    with pytest.raises(InsufficientMemoryError) as raised:
        engine.load()
    error = raised.value
    assert error.code == "INSUFFICIENT_MEMORY" and error.http_status == 422
    assert error.required_gb == ABOVE_THIS_MACHINE_GB
    assert 0 < error.available_gb < ABOVE_THIS_MACHINE_GB  # psutil's available RAM, as measured
    assert error.details["device"] == "cpu" and error.details["model_name"] == name
    assert engine.load_s is None  # nothing was loaded


def test_a_model_that_fits_loads(settings):
    spec = get_catalog().get("tiny-t2v")
    fits = spec.model_copy(update={"requirements": spec.requirements.model_copy(update={"vram_gb": 0.01})})
    check_memory(fits, "cpu")
    assert VideoEngine(fits, device="cpu").load() >= 0


def test_free_memory_on_the_cpu_is_the_available_ram():
    assert 0 < free_memory_gb("cpu") <= psutil.virtual_memory().total / 2**30


def test_a_failed_allocation_during_generation_is_insufficient_memory():
    import torch

    spec = get_catalog().get("tiny-t2v")
    with (
        pytest.raises(InsufficientMemoryError, match="ran out of memory on cpu") as raised,
        out_of_memory_as_typed(spec, "cpu"),
    ):
        torch.empty(2**55, dtype=torch.uint8)  # 32 PiB: the CPU allocator refuses it
    assert raised.value.required_gb is None and raised.value.available_gb > 0
    with pytest.raises(ValueError), out_of_memory_as_typed(spec, "cpu"):  # anything else passes through untouched
        raise ValueError("not about memory")


def test_running_out_of_memory_while_generating_text_is_insufficient_memory(settings):
    """The real tiny text model, with one layer that asks the CPU allocator for 32 PiB when it runs: the refusal
    happens on the generation thread and reaches the caller as INSUFFICIENT_MEMORY; the engine still works after."""
    import torch

    engine = TextEngine(get_catalog().get("tiny-text"), device="cpu")
    engine.load()
    layer = next(m for m in engine.model.modules() if isinstance(m, torch.nn.Linear))
    hook = layer.register_forward_pre_hook(lambda _module, _inputs: torch.empty(2**55, dtype=torch.uint8))
    request = engine.request("Hello there", max_tokens=4, temperature=0.0)
    try:
        with pytest.raises(InsufficientMemoryError, match="ran out of memory on cpu while generating") as raised:
            engine.generate(request)
    finally:
        hook.remove()
    error = raised.value
    assert error.code == "INSUFFICIENT_MEMORY" and error.required_gb is None and error.available_gb > 0
    assert error.details["model_name"] == "tiny-text" and error.details["device"] == "cpu"
    assert engine.generate(request).tokens_generated == 4
