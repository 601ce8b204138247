"""Streaming benchmarks from Python (reference "Streaming Benchmarks"): ``StreamingBenchmark`` and
``benchmark_live_streaming``. Thin: the spec, runner and figures are app.streaming's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Settings, get_settings
from app.errors import ValidationError
from app.storage.streams import export_stream_parquet
from app.streaming.results import StreamingMetrics, stream_result
from app.streaming.runner import StreamRunner
from app.streaming.spec import StreamSpec, parse_duration_ms

ProgressCallback = Callable[[str, dict[str, Any]], None]  # (message type, data), as the WebSocket sends them

__all__ = ["StreamingBenchmark", "StreamingMetrics", "benchmark_live_streaming"]


class StreamingBenchmark:
    """Live and interactive streaming benchmarks on a local Ray (or ``VDB_RAY_ADDRESS``).

    ``on_progress`` (and each ``add_progress_callback``) is called with every message of the stream as it is
    stored: frame_generated, buffer_status, quality_adapted, stream_completed, ...
    """

    def __init__(
        self,
        device: str = "auto",
        output_dir: str | Path | None = None,
        settings: Settings | None = None,
        on_progress: ProgressCallback | None = None,
    ):
        self.device = device
        self.settings = settings or get_settings()
        self.output_dir = Path(output_dir) if output_dir else None
        self.callbacks: list[ProgressCallback] = [on_progress] if on_progress else []
        self.runner = StreamRunner(settings=self.settings)

    def add_progress_callback(self, callback: ProgressCallback) -> None:
        self.callbacks.append(callback)

    def _notify(self, kind: str, data: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback(kind, data)

    def submit(self, spec: StreamSpec) -> str:
        return self.runner.submit(spec)

    def run_spec(self, spec: StreamSpec) -> StreamingMetrics:
        """Validate (nothing runs on bad input), run to the end, store, and return the figures."""
        from app.bench.cluster import ensure_ray

        stream_id = self.runner.submit(spec)
        ensure_ray(self.settings)
        self.runner.run(stream_id, on_event=self._notify)
        result = stream_result(self.runner.repo, stream_id, details=True)
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / f"{stream_id}.json").write_text(json.dumps(result, indent=2, default=str))
            export_stream_parquet(self.runner.repo, stream_id, self.output_dir)
        return StreamingMetrics(result)

    def live(
        self,
        model_name: str,
        prompts: list[str],
        duration_seconds: float = 60.0,
        target_fps: float = 15.0,
        adaptive_quality: bool = True,
        buffer_size: int = 30,
        initial_resolution: tuple[int, int] | None = None,
        initial_frames: int | None = None,
        quality_levels: int = 4,
        **kwargs: Any,
    ) -> StreamingMetrics:
        return self.run_spec(
            StreamSpec(
                mode="live",
                model_name=model_name,
                prompts=list(prompts),
                duration_seconds=duration_seconds,
                target_fps=target_fps,
                adaptive_quality=adaptive_quality,
                buffer_size=buffer_size,
                initial_resolution=initial_resolution,
                initial_frames=initial_frames,
                quality_levels=quality_levels,
                device=self.device,
                **kwargs,
            )
        )

    def interactive(
        self, model_name: str, prompts: list[str], response_target: str | float = "500ms", **kwargs: Any
    ) -> StreamingMetrics:
        return self.run_spec(
            StreamSpec(
                mode="interactive",
                model_name=model_name,
                prompts=list(prompts),
                response_target_ms=parse_duration_ms(response_target),
                device=self.device,
                **kwargs,
            )
        )


async def benchmark_live_streaming(
    model_name: str,
    prompts: list[str],
    duration_seconds: float = 60.0,
    target_fps: float = 15.0,
    adaptive_quality: bool = True,
    on_progress: ProgressCallback | None = None,
    device: str = "auto",
    **kwargs: Any,
) -> StreamingMetrics:
    """Run a live streaming benchmark without blocking the event loop; the figures as attributes."""
    if isinstance(prompts, str):
        raise ValidationError("prompts must be a list of strings", {"parameter": "prompts"})
    bench = StreamingBenchmark(device=device, on_progress=on_progress)
    return await asyncio.to_thread(
        bench.live, model_name, prompts, duration_seconds, target_fps, adaptive_quality, **kwargs
    )
