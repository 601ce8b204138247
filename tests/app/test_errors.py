"""Every typed error is raised somewhere: a documented code nothing produces is a promise not kept."""

import inspect
import re
from pathlib import Path

import app.errors as errors

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app", "cli", "deployments", "tuning", "vid_diffusion_bench")


def test_every_error_class_is_raised_by_the_code():
    code = "\n".join(
        p.read_text()
        for top in SOURCES
        for p in (ROOT / top).rglob("*.py")
        if p.name != "errors.py" or p.parent.name != "app"
    )
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.VidBenchError) and cls is not errors.VidBenchError
    ]
    unraised = [
        cls.__name__
        for cls in classes
        if not re.search(rf"\b{cls.__name__}\(", code)
        and not any(issubclass(sub, cls) and sub is not cls for sub in classes)
    ]
    assert unraised == []


def test_a_stored_code_comes_back_as_its_typed_error_with_its_details():
    error = errors.typed_error(
        "INSUFFICIENT_MEMORY", "too big", {"required_gb": 90.0, "available_gb": 3.5, "model_name": "m"}
    )
    assert isinstance(error, errors.InsufficientMemoryError) and error.http_status == 422
    assert (error.required_gb, error.available_gb, error.message) == (90.0, 3.5, "too big")
    timeout = errors.typed_error("GENERATION_TIMEOUT", "slow", {"timeout_seconds": 5})
    assert isinstance(timeout, errors.GenerationTimeoutError) and timeout.timeout_seconds == 5
    other = errors.typed_error("SOMETHING_ELSE", "runner error", {})
    assert type(other) is errors.VidBenchError and other.code == "SOMETHING_ELSE"
