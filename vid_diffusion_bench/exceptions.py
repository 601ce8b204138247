"""The SDK's exceptions are the app's typed errors."""

from app.errors import (
                        AuthenticationError,
                        BenchmarkCancelledError,
                        BenchmarkNotFoundError,
                        GenerationTimeoutError,
                        InsufficientMemoryError,
                        InvalidPromptError,
                        ModelLoadError,
                        ModelNotFoundError,
                        PermissionDeniedError,
                        RateLimitExceededError,
                        RemoteGenerationError,
                        ServerOverloadedError,
                        TaskCancelledError,
                        TaskNotFoundError,
                        ValidationError,
                        VidBenchError,
                        WeightsError,
)

__all__ = ["AuthenticationError", "BenchmarkCancelledError", "BenchmarkNotFoundError", "GenerationTimeoutError",
           "InsufficientMemoryError", "InvalidPromptError", "ModelLoadError", "ModelNotFoundError",
           "PermissionDeniedError", "RateLimitExceededError", "RemoteGenerationError", "ServerOverloadedError",
           "TaskCancelledError", "TaskNotFoundError", "ValidationError", "VidBenchError", "WeightsError"]
