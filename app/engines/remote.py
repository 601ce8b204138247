"""Remote video models: closed models reached through an HTTP generation endpoint.

Protocol: POST <url> with JSON {prompt, num_frames, fps, width, height,
num_inference_steps, guidance_scale, seed} and ``Authorization: Bearer <key>``;
the endpoint answers with the encoded video (``video/mp4`` or another format
ffmpeg decodes). Only end-to-end latency is known for such a model: phase
timings are null. Any failure is a RemoteGenerationError; output is never made up.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.catalog.spec import GenerationParams, ModelSpec, resolve_params, validate_prompt
from app.config import get_settings
from app.engines.video import PhaseTimings, VideoResult
from app.errors import GenerationTimeoutError, RemoteGenerationError, ValidationError


class RemoteVideoEngine:
    device = "remote"

    def __init__(self, spec: ModelSpec, api_key: str | None = None, timeout_s: float | None = None):
        if spec.source.kind != "remote":
            raise ValidationError(f"'{spec.name}' is not a remote model", {"model_name": spec.name})
        self.spec = spec
        url = spec.source.remote_url()
        if not url:
            raise ValidationError(
                f"No endpoint configured for remote model '{spec.name}' (set {spec.source.url_env})",
                {"model_name": spec.name, "env": spec.source.url_env},
            )
        self.url = url
        settings = get_settings()
        self.api_key = api_key or settings.remote_api_key
        self.timeout_s = timeout_s or settings.remote_timeout_s
        self.load_s = 0.0

    def load(self) -> float:
        return self.load_s

    def resolve(self, prompt: str, overrides: dict[str, Any] | None = None) -> GenerationParams:
        validate_prompt(prompt)
        return resolve_params(self.spec, overrides)

    def generate(
        self,
        prompt: str,
        params: GenerationParams | dict[str, Any] | None = None,
        seed: int = 0,
        image: Any = None,
        on_step=None,
        timeout_s: float | None = None,
    ) -> VideoResult:
        """``timeout_s`` (a benchmark's bound) replaces the configured remote timeout for this call."""
        import httpx

        timeout = timeout_s or self.timeout_s

        if not isinstance(params, GenerationParams):
            params = self.resolve(prompt, params)
        body = {"prompt": prompt, "seed": int(seed), **params.model_dump()}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        started = time.perf_counter()
        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            raise GenerationTimeoutError(timeout, self.spec.name) from None
        except httpx.HTTPError as exc:
            raise RemoteGenerationError(
                f"Remote model '{self.spec.name}' unreachable at {self.url}: {exc}", {"url": self.url}
            ) from exc
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RemoteGenerationError(
                f"Remote model '{self.spec.name}' answered HTTP {response.status_code}: {response.text[:300]}",
                {"url": self.url, "status": response.status_code},
            )
        frames = decode_video_bytes(response.content, self.spec.name)
        return VideoResult(
            frames=frames,
            fps=params.fps,
            seed=int(seed),
            params=params,
            timings=PhaseTimings(total_s=elapsed, encode_s=None, denoise_s=None, decode_s=None),
        )


def decode_video_bytes(data: bytes, model_name: str) -> np.ndarray:
    import imageio.v3 as iio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "remote.mp4"
        path.write_bytes(data)
        try:
            frames = np.stack(list(iio.imiter(path, plugin="FFMPEG")))
        except Exception as exc:  # anything ffmpeg cannot decode is not a video
            raise RemoteGenerationError(
                f"Remote model '{model_name}' returned data that is not a decodable video: {exc}", {"bytes": len(data)}
            ) from exc
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise RemoteGenerationError(
            f"Remote model '{model_name}' returned no RGB frames", {"shape": list(frames.shape)}
        )
    return frames.astype(np.uint8)
