"""Text-to-speech with transformers: VITS (MMS-TTS) and Bark, returning a WAV file.

  1. validate text, voice, language, speed, pitch against the catalog;
  2. load model + tokenizer/processor once;
  3. synthesize with a seeded generator state (VITS' duration predictor samples);
  4. encode 16-bit PCM WAV.
Pitch: VITS synthesizes ``pitch`` times slower and the waveform is resampled back to its length (``shift_pitch``),
which scales every frequency by ``pitch`` and keeps the length (up to VITS rounding each token to whole frames).
Bark has no duration control, so it refuses any pitch but 1.0 (the catalog's range, with the reason).
``language`` must be one the model speaks; for Bark it picks the voice preset.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.catalog.spec import ModelSpec, speech_options, validate_prompt
from app.engines.loading import EngineBase, checkpoint_location, load_failures
from app.engines.memory import out_of_memory_as_typed
from app.engines.optimization import OptimizationProfile
from app.errors import ValidationError

MAX_PITCH_DENOMINATOR = 100


@dataclass
class SpeechResult:
    wav: bytes
    sample_rate: int
    duration_s: float
    seconds: float


class SpeechEngine(EngineBase):
    modality = "speech"

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        profile: str | OptimizationProfile | None = None,
        models_dir: Path | None = None,
    ):
        super().__init__(spec, device, profile, models_dir)
        self.model: Any = None
        self.processor: Any = None

    def check(
        self, text: str, voice: str | None, language: str | None, speed: float | None, pitch: float | None
    ) -> dict[str, Any]:
        validate_prompt(text)
        return speech_options(self.spec, voice, language, speed, pitch)

    def load(self) -> float:
        if self.model is None:
            import transformers

            self.check_memory()
            location = checkpoint_location(self.spec, self.models_dir)
            started = time.perf_counter()
            with load_failures(self.spec, location):
                model_cls = getattr(transformers, self.spec.pipeline_class)
                processor_cls = (
                    transformers.AutoProcessor
                    if self.spec.pipeline_class == "BarkModel"
                    else transformers.AutoTokenizer
                )
                cache = str(self.models_dir / "hub")
                self.processor = processor_cls.from_pretrained(location, cache_dir=cache)
                self.model = model_cls.from_pretrained(location, cache_dir=cache).to(self.device).eval()
            self.load_s = time.perf_counter() - started
        assert self.load_s is not None  # set by the first load
        return self.load_s

    def synthesize(
        self,
        text: str,
        voice: str | None = None,
        language: str | None = None,
        speed: float | None = None,
        pitch: float | None = None,
        seed: int = 0,
    ) -> SpeechResult:
        import torch

        options = self.check(text, voice, language, speed, pitch)
        self.load()
        started = time.perf_counter()
        torch.manual_seed(seed)
        with torch.inference_mode(), out_of_memory_as_typed(self.spec, self.device):
            if self.spec.pipeline_class == "BarkModel":
                inputs = self.processor(text, voice_preset=options["voice"]).to(self.device)
                audio = self.model.generate(**inputs).cpu().numpy().squeeze()
                rate = int(self.model.generation_config.sample_rate)
            else:
                inputs = self.processor(text, return_tensors="pt").to(self.device)
                if inputs["input_ids"].shape[-1] == 0:  # VITS would fail deep inside (narrow() on nothing)
                    raise ValidationError(
                        f"{self.spec.name} cannot pronounce any character of this text (its "
                        "tokenizer maps it to nothing): send words in one of its languages",
                        {"model_name": self.spec.name, "languages": self.spec.languages},
                    )
                pitch = float(options["pitch"])
                self.model.speaking_rate = float(options["speed"]) / pitch  # pitch times longer, then resampled
                audio = shift_pitch(self.model(**inputs).waveform.cpu().numpy().squeeze(), pitch)
                rate = int(self.model.config.sampling_rate)
        seconds = time.perf_counter() - started
        return SpeechResult(wav=to_wav(audio, rate), sample_rate=rate, duration_s=len(audio) / rate, seconds=seconds)


def shift_pitch(audio: np.ndarray, pitch: float) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly) to 1/pitch of the samples, played at the same rate: every
    frequency is multiplied by ``pitch``. The caller synthesized ``pitch`` times longer, so the duration is back to
    what the speed asked for. The ratio is taken as a fraction with a denominator of at most 100."""
    if pitch == 1.0:
        return audio
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(pitch).limit_denominator(MAX_PITCH_DENOMINATOR)
    return resample_poly(np.asarray(audio, np.float64), ratio.denominator, ratio.numerator)


def to_wav(audio: np.ndarray, rate: int) -> bytes:
    from scipy.io import wavfile

    pcm = (np.clip(np.asarray(audio, np.float64), -1.0, 1.0) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    wavfile.write(buffer, rate, pcm)
    return buffer.getvalue()
