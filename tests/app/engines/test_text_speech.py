import io

import numpy as np
import pytest

from app.catalog import get_catalog
from app.catalog.spec import Source
from app.engines.speech import SpeechEngine
from app.engines.text import TextEngine, TextStream, make_text_engine, vllm_available
from app.errors import InvalidPromptError, ModelLoadError, ValidationError


@pytest.fixture(scope="module")
def text(settings):
    engine = TextEngine(get_catalog().get("tiny-text"), device="cpu")
    engine.load()
    return engine


def test_stream_is_per_token_and_equals_generate(text):
    request = text.request("Hello there", max_tokens=12, temperature=0.0)
    result = text.generate(request)
    pieces = list(text.stream(text.request("Hello there", max_tokens=12, temperature=0.0)))
    assert "".join(pieces) == result.text and len(pieces) > 1
    assert result.tokens_generated == 12 and result.finish_reason == "length"


def test_stop_sequence_is_cut_and_reported(text):
    full = text.generate(text.request("Hello there", max_tokens=12, temperature=0.0)).text
    stop = full[3:5]
    result = text.generate(text.request("Hello there", max_tokens=12, temperature=0.0, stop=[stop]))
    assert result.text == full[: full.index(stop)] and result.finish_reason == "stop"
    assert stop not in "".join(text.stream(text.request("Hello there", max_tokens=12, temperature=0.0, stop=[stop])))


def test_text_stream_keeps_the_result_and_closes_the_engine_stream(text):
    stream = TextStream(text.stream(text.request("Hello there", max_tokens=6, temperature=0.0)))
    pieces = list(stream)
    assert stream.result.text == "".join(pieces) and stream.result.tokens_generated == 6
    stopped = TextStream(text.stream(text.request("Hello there", max_tokens=6, temperature=0.0)))
    next(stopped)
    stopped.close()
    assert list(stopped) == [] and stopped.result is None


def test_a_load_failure_is_one_typed_error(settings, tmp_path):
    spec = get_catalog().get("tiny-text").model_copy(update={"source": Source(kind="local", path=str(tmp_path))})
    with pytest.raises(ModelLoadError, match=f"from local source '{tmp_path}'") as error:
        TextEngine(spec, device="cpu").load()
    assert error.value.details["model_name"] == "tiny-text" and error.value.details["location"] == str(tmp_path)


def test_seeded_sampling_is_reproducible(text):
    a = text.generate(text.request("Hi", max_tokens=10, temperature=1.0, seed=3)).text
    assert a == text.generate(text.request("Hi", max_tokens=10, temperature=1.0, seed=3)).text


@pytest.mark.parametrize(
    "kwargs",
    [{"max_tokens": 10_000}, {"temperature": 5.0}, {"top_p": 2.0}, {"stop": ["a", "b", "c", "d", "e"]}, {"stop": [""]}],
)
def test_text_request_validation(text, kwargs):
    with pytest.raises(ValidationError):
        text.request("Hi", **kwargs)
    with pytest.raises(InvalidPromptError):
        text.request("")


def test_engine_choice_follows_the_catalog_without_silent_fallback():
    assert vllm_available("cpu")[0] is False
    assert type(make_text_engine(get_catalog().get("qwen2.5-0.5b"), "cpu")).__name__ == "TextEngine"  # engine: auto
    forced = get_catalog().get("qwen2.5-0.5b").model_copy(update={"engine": "vllm"})
    with pytest.raises(ValidationError, match="vLLM"):
        make_text_engine(forced, "cpu")


def test_speech_is_a_wav_and_seeded(settings):
    from scipy.io import wavfile

    engine = SpeechEngine(get_catalog().get("tiny-tts"), device="cpu")
    a = engine.synthesize("hello world", seed=1)
    b = engine.synthesize("hello world", seed=1)
    assert a.wav == b.wav and a.sample_rate == 16000
    rate, samples = wavfile.read(io.BytesIO(a.wav))
    assert rate == 16000 and samples.dtype == np.int16 and len(samples) == round(a.duration_s * rate)
    with pytest.raises(ValidationError, match="pitch"):
        engine.synthesize("hello", pitch=3.0)
    with pytest.raises(ValidationError, match="speaks only en"):
        engine.synthesize("hello", language="de")
    with pytest.raises(ValidationError, match="voice"):
        engine.synthesize("hello", voice="someone")
    with pytest.raises(ValidationError, match="maps it to nothing"):  # VITS would fail inside narrow()
        engine.synthesize("\U0001f600\U0001f600")


def test_a_prompt_longer_than_the_context_is_a_validation_error_naming_the_limit(text):
    with pytest.raises(ValidationError) as info:
        text.generate(text.request("word " * 399, max_tokens=5, temperature=0.0))
    assert info.value.http_status == 400 and info.value.details["max_context_length"] == 1024
    assert info.value.details["prompt_tokens"] > 1024


def test_a_prompt_that_leaves_little_room_gets_the_room_left(text):
    result = text.generate(text.request("hi " * 320, max_tokens=100, temperature=0.0))
    assert result.prompt_tokens + result.tokens_generated == 1024 and result.finish_reason == "length"


def test_pitch_is_the_documented_resampling_of_a_slower_synthesis(settings):
    from scipy.io import wavfile

    from app.engines.speech import shift_pitch, to_wav

    engine = SpeechEngine(get_catalog().get("tiny-tts"), device="cpu")

    def samples_of(wav: bytes):
        return wavfile.read(io.BytesIO(wav))[1].astype(np.float64)

    def samples(result):
        return samples_of(result.wav)

    plain = engine.synthesize("hello world", seed=2)
    slower = engine.synthesize("hello world", seed=2, speed=0.5)  # what pitch 2 synthesizes before resampling
    higher = engine.synthesize("hello world", seed=2, pitch=2.0)
    expected = samples_of(to_wav(shift_pitch(samples(slower) / 32767, 2.0), higher.sample_rate))
    assert len(samples(higher)) == len(expected)
    assert np.abs(samples(higher) - expected).max() <= 2  # the documented method, up to 16-bit rounding
    # twice as long synthesized, half the samples: VITS rounds each token's duration up to whole frames, so the
    # length is the speed's length up to that rounding (large for this tiny model's one-frame tokens)
    assert abs(higher.duration_s - slower.duration_s / 2) <= 1 / higher.sample_rate
    assert plain.sample_rate == higher.sample_rate


@pytest.mark.parametrize("pitch", [0.5, 0.75, 1.5, 2.0])
def test_shift_pitch_scales_a_tones_frequency_and_the_length_inversely(pitch):
    from app.engines.speech import shift_pitch

    rate, tone_hz = 16000, 440.0
    tone = np.sin(2 * np.pi * tone_hz * np.arange(rate) / rate)
    shifted = shift_pitch(tone, pitch)
    assert abs(len(shifted) - rate / pitch) <= 1
    peak_hz = np.fft.rfftfreq(len(shifted), 1 / rate)[np.argmax(np.abs(np.fft.rfft(shifted)))]
    assert abs(peak_hz - tone_hz * pitch) <= 2.0
