"""The SDK's exceptions are the app's typed errors."""

from app.errors import (AuthenticationError, PermissionDeniedError, RateLimitExceededError, BenchmarkCancelledError, BenchmarkNotFoundError, GenerationTimeoutError,
                        InsufficientMemoryError, InvalidPromptError, ModelLoadError, ModelNotFoundError,
                        RemoteGenerationError, ServerOverloadedError, TaskNotFoundError, ValidationError,
                        VidBenchError, WeightsError)

__all__ = ["AuthenticationError", "PermissionDeniedError", "RateLimitExceededError", "BenchmarkCancelledError", "BenchmarkNotFoundError", "GenerationTimeoutError", "InsufficientMemoryError",
           "InvalidPromptError", "ModelLoadError", "ModelNotFoundError", "RemoteGenerationError", "ServerOverloadedError", "TaskNotFoundError", "ValidationError",
           "VidBenchError", "WeightsError"]
