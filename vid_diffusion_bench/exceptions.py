"""The SDK's exceptions are the app's typed errors."""

from app.errors import (BenchmarkCancelledError, BenchmarkNotFoundError, GenerationTimeoutError,
                        InsufficientMemoryError, InvalidPromptError, ModelLoadError, ModelNotFoundError,
                        RemoteGenerationError, ServerOverloadedError, TaskNotFoundError, ValidationError,
                        VidBenchError, WeightsError)

__all__ = ["BenchmarkCancelledError", "BenchmarkNotFoundError", "GenerationTimeoutError", "InsufficientMemoryError",
           "InvalidPromptError", "ModelLoadError", "ModelNotFoundError", "RemoteGenerationError", "ServerOverloadedError", "TaskNotFoundError", "ValidationError",
           "VidBenchError", "WeightsError"]
