"""vid-diffusion-bench public SDK: thin re-exports of the app's classes."""

from app import __version__
from app.bench.prompts import StandardPrompts
from app.bench.results import BenchmarkResult
from app.bench.suite import BenchmarkSuite
from app.catalog.params import VideoParameters
from app.engines.optimization import OptimizationProfile

__all__ = [
    "BenchmarkResult",
    "BenchmarkSuite",
    "OptimizationProfile",
    "StandardPrompts",
    "VideoParameters",
    "__version__",
]
