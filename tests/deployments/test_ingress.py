"""The ingress's translation of Serve / Ray exceptions into the API's typed errors (no cluster needed)."""

import pytest

from app.errors import TaskCancelledError, ValidationError, VidBenchError


@pytest.mark.parametrize("message", ["", "\n", "   "])
def test_an_error_with_an_empty_message_is_still_typed(message):
    from deployments.ingress import _typed

    error = _typed(RuntimeError(message), "tiny-text", "task-1")
    assert type(error) is VidBenchError and error.message == "Model 'tiny-text' failed: RuntimeError"


def test_the_last_line_of_a_long_error_names_the_cause():
    from deployments.ingress import _typed

    error = _typed(RuntimeError("Traceback...\n  File x\nIndexError: index out of range"), "tiny-text", "t")
    assert error.message == "Model 'tiny-text' failed: RuntimeError: IndexError: index out of range"


def test_typed_errors_and_cancellations_pass_through():
    from ray.serve.exceptions import RequestCancelledError

    from deployments.ingress import _typed

    refused = ValidationError("bad", {})
    assert _typed(refused, "m", "t") is refused
    assert isinstance(_typed(RequestCancelledError("t"), "m", "t"), TaskCancelledError)
