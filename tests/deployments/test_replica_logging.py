"""A typed refusal inside a replica is logged as one line; a real failure keeps its traceback."""

import logging
import sys

from app.errors import ModelLoadError, ValidationError
from deployments.models import ClientErrorsOnOneLine, quiet_client_errors


def _record(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except type(error):
        return logging.LogRecord("ray.serve", logging.ERROR, __file__, 1, "Request failed.", None, sys.exc_info())


def test_a_refused_request_is_one_line():
    record = _record(ValidationError("Prompt is 600 tokens; tiny-text takes at most 512", {"max": 512}))
    assert ClientErrorsOnOneLine().filter(record)
    text = logging.Formatter().format(record)
    assert text == "Request refused: INVALID_PARAMETERS: Prompt is 600 tokens; tiny-text takes at most 512"
    assert "Traceback" not in text


def test_a_real_failure_keeps_its_traceback():
    record = _record(ModelLoadError("weights are corrupt"))
    assert ClientErrorsOnOneLine().filter(record)
    assert "Traceback" in logging.Formatter().format(record)
    record = _record(RuntimeError("boom"))
    assert ClientErrorsOnOneLine().filter(record) and "Traceback" in logging.Formatter().format(record)


def test_the_filter_is_installed_once_on_serves_logger():
    quiet_client_errors()
    quiet_client_errors()
    filters = [f for f in logging.getLogger("ray.serve").filters if isinstance(f, ClientErrorsOnOneLine)]
    assert len(filters) == 1


def test_on_serve_a_prompt_longer_than_the_context_is_logged_as_one_line(client):
    from pathlib import Path

    import ray

    from tests.helpers import wait_until

    refused = client.post(
        "/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "x " * 900, "max_tokens": 4}
    )  # ~900 tokens
    assert refused.status_code == 400, refused.text
    logs = Path(ray._private.worker._global_node.get_session_dir_path()) / "logs" / "serve"

    def replica_log() -> str:
        return "".join(p.read_text(errors="replace") for p in logs.glob("replica_*text-tiny-text*.log"))

    text = wait_until(
        replica_log,
        until=lambda t: "Request refused: INVALID_PARAMETERS" in t,
        timeout=30,
        what="the refusal in the tiny-text replica's log",
    )
    line = next(line for line in text.splitlines() if "Request refused: INVALID_PARAMETERS" in line)
    assert "Traceback" not in text.split(line, 1)[1][:200]  # the refusal is not followed by a traceback
