"""Typed errors and the one error body every surface reports.

Each error carries a stable code (from the API reference) and the HTTP status
the gateway maps it to. The CLI prints ``message``; the SDK raises these same
classes; the API renders :func:`error_body`. A message built as an app.i18n.Message is shown
in the reader's language (CLI locale, API Accept-Language); its ``code`` never is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.i18n import Message


class VidBenchError(Exception):
    code = "INTERNAL_ERROR"
    http_status = 500
    request_id: str | None = None  # the SDK sets it from the error body of the response it raises this for

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __reduce__(self):  # survive pickling across Ray workers with details intact
        return (_rebuild_error, (type(self), self.message, self.details))


def _rebuild_error(cls, message, details):
    err = cls.__new__(cls)
    VidBenchError.__init__(err, message, details)
    for key, value in details.items():
        if not hasattr(err, key):
            setattr(err, key, value)
    return err


class ValidationError(VidBenchError):
    code = "INVALID_PARAMETERS"
    http_status = 400


class InvalidPromptError(ValidationError):
    code = "INVALID_PROMPT"
    http_status = 422


class ModelNotFoundError(VidBenchError):
    code = "MODEL_NOT_FOUND"
    http_status = 404

    def __init__(self, model_name: str, available_models: list[str]):
        super().__init__(
            Message(
                "Model '{model_name}' not found. Available models: {available}",
                model_name=model_name,
                available=", ".join(available_models),
            ),
            {"model_name": model_name, "available_models": available_models},
        )
        self.model_name = model_name
        self.available_models = available_models


class ModelLoadError(VidBenchError):
    code = "MODEL_LOAD_FAILED"
    http_status = 500


class InsufficientMemoryError(VidBenchError):
    """The device lacks the memory a model needs: refused before loading, or run out of during generation.

    ``required_gb`` is the catalog's requirement (None when the device ran out mid-generation: the need is then
    unknown); ``available_gb`` is the free memory measured on the device (None when it cannot be read).
    """

    code = "INSUFFICIENT_MEMORY"
    http_status = 422

    def __init__(
        self,
        required_gb: float | None,
        available_gb: float | None,
        model_name: str,
        device: str = "cuda",
        message: str | None = None,
    ):
        free = "unknown" if available_gb is None else f"{available_gb:.1f} GB"
        super().__init__(
            message
            or Message(
                "Model '{model_name}' needs {required_gb} GB of memory on {device}; {free} available",
                model_name=model_name,
                required_gb=required_gb,
                device=device,
                free=free,
            ),
            {"model_name": model_name, "required_gb": required_gb, "available_gb": available_gb, "device": device},
        )
        self.required_gb = required_gb
        self.available_gb = available_gb


class GenerationTimeoutError(VidBenchError):
    code = "GENERATION_TIMEOUT"
    http_status = 408

    def __init__(
        self, timeout_seconds: float, model_name: str, steps_done: int | None = None, total_steps: int | None = None
    ):
        where = f" (stopped after step {steps_done} of {total_steps})" if steps_done is not None else ""
        super().__init__(
            Message(
                "Generation with '{model_name}' timed out after {timeout_seconds}s{where}",
                model_name=model_name,
                timeout_seconds=timeout_seconds,
                where=where,
            ),
            {
                "model_name": model_name,
                "timeout_seconds": timeout_seconds,
                **({"steps_done": steps_done, "total_steps": total_steps} if steps_done is not None else {}),
            },
        )
        self.timeout_seconds = timeout_seconds


class RemoteGenerationError(VidBenchError):
    code = "REMOTE_GENERATION_FAILED"
    http_status = 502


class BenchmarkNotFoundError(VidBenchError):
    code = "BENCHMARK_NOT_FOUND"
    http_status = 404

    def __init__(self, benchmark_id: str):
        super().__init__(
            Message("Benchmark '{benchmark_id}' not found", benchmark_id=benchmark_id), {"benchmark_id": benchmark_id}
        )
        self.benchmark_id = benchmark_id


class BenchmarkCancelledError(VidBenchError):
    code = "BENCHMARK_CANCELLED"
    http_status = 409


class ResourcesUnavailableError(VidBenchError):
    """The cluster cannot place a benchmark's actor: infeasible on every node, or not free within the wait."""

    code = "RESOURCES_UNAVAILABLE"
    http_status = 503


class ClusterConfigurationError(VidBenchError):
    """The cluster's shape and the settings disagree (e.g. node-local SQLite on several nodes)."""

    code = "CLUSTER_MISCONFIGURED"
    http_status = 503


class TaskNotFoundError(VidBenchError):
    code = "TASK_NOT_FOUND"
    http_status = 404

    def __init__(self, task_id: str):
        super().__init__(Message("Task '{task_id}' not found", task_id=task_id), {"task_id": task_id})


class TaskConflictError(VidBenchError):
    code = "TASK_ALREADY_FINISHED"
    http_status = 409


class TaskCancelledError(VidBenchError):
    """Raised inside a generation when its task was cancelled; stops the work at the next step."""

    code = "TASK_CANCELLED"
    http_status = 409


class ArtifactNotFoundError(VidBenchError):
    code = "ARTIFACT_NOT_FOUND"
    http_status = 404

    def __init__(self, artifact_id: str):
        super().__init__(
            Message("Artifact '{artifact_id}' not found", artifact_id=artifact_id), {"artifact_id": artifact_id}
        )


class DownloadNotFoundError(VidBenchError):
    code = "DOWNLOAD_NOT_FOUND"
    http_status = 404

    def __init__(self, download_id: str):
        super().__init__(
            Message("Download '{download_id}' not found", download_id=download_id), {"download_id": download_id}
        )


class DownloadConflictError(VidBenchError):
    """A download would overwrite a model already in the models directory."""

    code = "DOWNLOAD_TARGET_EXISTS"
    http_status = 409


class DownloadFailedError(VidBenchError):
    """A download ended failed (the source answered an error, or could not be reached); the row has the reason."""

    code = "DOWNLOAD_FAILED"
    http_status = 502


class LocalSourceNotFoundError(VidBenchError):
    code = "LOCAL_SOURCE_NOT_FOUND"
    http_status = 404


class ServerOverloadedError(VidBenchError):
    code = "SERVER_OVERLOADED"
    http_status = 503

    def __init__(self, model_name: str, retry_after_s: int = 5):
        super().__init__(
            Message(
                "Model '{model_name}' is at capacity; retry in {retry_after}s",
                model_name=model_name,
                retry_after=retry_after_s,
            ),
            {"model_name": model_name, "retry_after": retry_after_s},
        )
        self.retry_after_s = retry_after_s


class ServiceUnavailableError(VidBenchError):
    """A store the gateway cannot answer safely without (the rate-limit store) is unreachable: fail closed."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503

    def __init__(self, message: str, details: dict | None = None, retry_after_s: int = 5):
        super().__init__(message, {**(details or {}), "retry_after": retry_after_s})
        self.retry_after_s = retry_after_s


class AuthenticationError(VidBenchError):
    """No credentials, or credentials that are unknown, expired, revoked or malformed."""

    code = "AUTHENTICATION_FAILED"
    http_status = 401


class PermissionDeniedError(VidBenchError):
    code = "PERMISSION_DENIED"
    http_status = 403


class RateLimitExceededError(VidBenchError):
    code = "RATE_LIMIT_EXCEEDED"
    http_status = 429
    # The refused window (an app.security.ratelimit.Window, not imported: this layer is below security), set by
    # Window.exceeded() for the X-RateLimit-* headers; an error rebuilt from its body (the SDK's) has the details'
    # "window" instead: its length in seconds.
    window: Any

    def __init__(self, limit: int, remaining: int, reset_at: str, retry_after: int, window_s: int, scope: str):
        super().__init__(
            Message("Rate limit exceeded. Try again in {retry_after} seconds.", retry_after=retry_after),
            {
                "limit": limit,
                "remaining": remaining,
                "reset_at": reset_at,
                "retry_after": retry_after,
                "window": window_s,
                "scope": scope,
            },
        )
        self.retry_after_s = retry_after


class PayloadTooLargeError(VidBenchError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class ApiKeyNotFoundError(VidBenchError):
    code = "API_KEY_NOT_FOUND"
    http_status = 404

    def __init__(self, key_id: str):
        super().__init__(Message("API key '{key_id}' not found", key_id=key_id), {"key_id": key_id})


class UserExistsError(VidBenchError):
    code = "USER_EXISTS"
    http_status = 409


class WeightsError(VidBenchError):
    """An evaluator weight file is missing, unreadable or fails its checksum."""

    code = "WEIGHTS_INVALID"
    http_status = 422


def typed_error(code: str, message: str, details: dict[str, Any]) -> VidBenchError:
    """The typed error of a stored code (a failed benchmark's), its details restored as its attributes
    (``required_gb`` of INSUFFICIENT_MEMORY, ``timeout_seconds`` of GENERATION_TIMEOUT)."""
    classes, todo = [], [VidBenchError]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(sub for sub in cls.__subclasses__() if sub not in classes)
    cls = next((c for c in classes if c.code == code), VidBenchError)
    error = _rebuild_error(cls, message, details)
    if cls is VidBenchError and code != VidBenchError.code:
        error.code = code  # a code no class carries (a runner error): kept as stored
    return error


# -- federated benchmarking (issue 15) ------------------------------------------------------------------------
class FederatedSessionNotFoundError(VidBenchError):
    code = "FEDERATED_SESSION_NOT_FOUND"
    http_status = 404

    def __init__(self, session_id: str):
        super().__init__(
            Message("Federated session '{session_id}' not found", session_id=session_id), {"session_id": session_id}
        )


class FederatedSessionExistsError(VidBenchError):
    code = "FEDERATED_SESSION_EXISTS"
    http_status = 409


class FederatedMembershipError(VidBenchError):
    """A participant the session does not name, or one that has not joined, asked for a participant's right."""

    code = "NOT_A_PARTICIPANT"
    http_status = 403


class FederatedJoinRefusedError(VidBenchError):
    """A join the session cannot take: another key for a joined participant, or capabilities short of the spec."""

    code = "JOIN_REFUSED"
    http_status = 409


class FederatedPhaseError(VidBenchError):
    """The session is not in a phase that takes this request (not started yet, or already over)."""

    code = "FEDERATED_WRONG_PHASE"
    http_status = 409


class ReportSignatureError(VidBenchError):
    """A report whose signature does not verify with the participant's registered key."""

    code = "INVALID_SIGNATURE"
    http_status = 401


class ReportReplayError(VidBenchError):
    """A signed report whose nonce the coordinator has already seen from that participant."""

    code = "REPORT_REPLAYED"
    http_status = 409


class TaskNotAssignedError(VidBenchError):
    code = "TASK_NOT_ASSIGNED"
    http_status = 403


class TaskAlreadyReportedError(VidBenchError):
    code = "TASK_ALREADY_REPORTED"
    http_status = 409


class PrivacyBudgetExceededError(VidBenchError):
    """A release that would take a participant past its session's (epsilon, delta): refused, nothing published."""

    code = "PRIVACY_BUDGET_EXCEEDED"
    http_status = 409


class ResultsNotReadyError(VidBenchError):
    code = "RESULTS_NOT_READY"
    http_status = 409


class StreamNotFoundError(VidBenchError):  # streaming benchmarks (issue #14)
    code = "STREAM_NOT_FOUND"
    http_status = 404

    def __init__(self, stream_id: str):
        super().__init__(Message("Stream '{stream_id}' not found", stream_id=stream_id), {"stream_id": stream_id})
        self.stream_id = stream_id


class StreamCancelledError(VidBenchError):
    """Raised inside a streaming session when someone asked it to stop; ends it as cancelled."""

    code = "STREAM_CANCELLED"
    http_status = 409


class LoadTestNotFoundError(VidBenchError):  # stored serving load tests (issue #17)
    code = "LOADTEST_NOT_FOUND"
    http_status = 404

    def __init__(self, load_test_id: str):
        super().__init__(f"Load test '{load_test_id}' not found", {"load_test_id": load_test_id})
        self.load_test_id = load_test_id


def error_body(error: VidBenchError, request_id: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "request_id": request_id,
            "timestamp": datetime.now(UTC).isoformat(),
        }
    }
