"""Benchmarking: prompts, specs, the Ray runner, the profiler and comparisons."""
