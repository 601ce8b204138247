import numpy as np
import pytest

from app.catalog import get_catalog
from app.catalog.spec import ModelSpec
from app.engines.video import VideoEngine
from app.errors import InvalidPromptError, ModelLoadError, ValidationError


@pytest.fixture(scope="module")
def t2v(settings):
    engine = VideoEngine(get_catalog().get("tiny-t2v"), device="cpu")
    engine.load()
    return engine


@pytest.fixture(scope="module")
def i2v(settings):
    engine = VideoEngine(get_catalog().get("tiny-i2v"), device="cpu")
    engine.load()
    return engine


def test_same_seed_same_frames_other_seed_other_frames(t2v):
    a = t2v.generate("A cat playing piano", seed=3)
    b = t2v.generate("A cat playing piano", seed=3)
    c = t2v.generate("A cat playing piano", seed=4)
    assert a.frames.shape == (8, 32, 32, 3) and a.frames.dtype == np.uint8
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def test_phase_timings_and_step_progress(t2v):
    steps = []
    result = t2v.generate("Ocean waves", {"num_inference_steps": 3}, seed=0, on_step=lambda d, t: steps.append((d, t)))
    assert steps == [(1, 3), (2, 3), (3, 3)]
    timings = result.timings
    assert len(timings.step_s) == 3 and all(s > 0 for s in timings.step_s)
    assert timings.encode_s > 0 and timings.denoise_s > 0 and timings.decode_s > 0
    assert timings.encode_s + timings.denoise_s + timings.decode_s <= timings.total_s * 1.01


def test_image_to_video_with_generated_and_given_conditioning(i2v):
    from PIL import Image

    a = i2v.generate("A red fox", seed=1)
    b = i2v.generate("A red fox", seed=1)
    assert a.frames.shape == (4, 32, 32, 3) and np.array_equal(a.frames, b.frames)
    given = Image.fromarray(np.full((32, 32, 3), 200, np.uint8))
    c = i2v.generate("A red fox", seed=1, image=given)
    assert not np.array_equal(a.frames, c.frames)  # the conditioning image matters


def test_validation_happens_before_loading():
    engine = VideoEngine(get_catalog().get("tiny-t2v"), device="cpu")
    with pytest.raises(ValidationError, match="num_frames"):
        engine.generate("A cat", {"num_frames": 500})
    with pytest.raises(InvalidPromptError):
        engine.generate("", {})
    assert engine.pipeline is None


def test_half_precision_on_cpu_is_refused():
    with pytest.raises(ValidationError, match="fp16"):
        VideoEngine(get_catalog().get("tiny-t2v"), device="cpu", profile="balanced")


def test_missing_checkpoints_are_load_errors_not_fallbacks(tmp_path):
    spec = get_catalog().get("tiny-t2v").model_copy(deep=True)
    local = ModelSpec(
        **{**spec.model_dump(), "name": "missing-local", "source": {"kind": "local", "path": str(tmp_path / "nothing")}}
    )
    with pytest.raises(ModelLoadError, match="not found"):
        VideoEngine(local, device="cpu").load()
    hub = get_catalog().get("modelscope-t2v")  # HF_HUB_OFFLINE=1 in tests: the hub cannot be reached
    with pytest.raises(ModelLoadError, match="ali-vilab/text-to-video-ms-1.7b"):
        VideoEngine(hub, device="cpu").load()


def test_batched_generation_matches_one_by_one(t2v):
    from app.catalog.spec import resolve_params

    params = resolve_params(t2v.spec, {"num_frames": 4, "num_inference_steps": 2})
    batch = t2v.generate_batch(["a cat", "a dog"], params, [1, 2])
    alone = [t2v.generate("a cat", params, seed=1), t2v.generate("a dog", params, seed=2)]
    for together, single in zip(batch, alone, strict=True):
        assert together.frames.shape == single.frames.shape and together.seed == single.seed
        # the same video up to float summation order in the batched kernels
        assert np.abs(together.frames.astype(int) - single.frames.astype(int)).max() <= 2
    assert not np.array_equal(batch[0].frames, batch[1].frames)


def test_timeout_stops_at_the_next_denoising_step(t2v):
    from app.errors import GenerationTimeoutError

    steps = []
    with pytest.raises(GenerationTimeoutError) as raised:
        t2v.generate(
            "Ocean waves", {"num_inference_steps": 5}, seed=0, on_step=lambda d, t: steps.append(d), timeout_s=1e-9
        )
    assert steps == [1]  # the first step's end is past the deadline: nothing more ran
    assert raised.value.code == "GENERATION_TIMEOUT" and raised.value.http_status == 408
    assert raised.value.timeout_seconds == 1e-9
    assert raised.value.details["steps_done"] == 1 and raised.value.details["total_steps"] == 5
    assert t2v.generate("Ocean waves", {"num_inference_steps": 2}, seed=0, timeout_s=3600).num_frames == 8


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5", True, 10**9])
def test_a_bad_timeout_is_refused_before_any_work(timeout):
    engine = VideoEngine(get_catalog().get("tiny-t2v"), device="cpu")
    with pytest.raises(ValidationError, match="timeout"):
        engine.generate("A cat", {}, timeout_s=timeout)
    assert engine.pipeline is None


def test_batched_generation_honours_the_timeout(t2v):
    from app.catalog.spec import resolve_params
    from app.errors import GenerationTimeoutError

    params = resolve_params(t2v.spec, {"num_inference_steps": 3, "num_frames": 2})
    with pytest.raises(GenerationTimeoutError):
        t2v.generate_batch(["a", "b"], params, [0, 1], timeout_s=1e-9)
