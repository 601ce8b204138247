import pytest

from app.catalog import get_catalog, resolve_params, validate_prompt
from app.errors import InvalidPromptError, ModelNotFoundError, ValidationError


def test_real_video_models_have_correct_sources():
    catalog = get_catalog()
    expected = {
        "svd": "stabilityai/stable-video-diffusion-img2vid",
        "svd-xt": "stabilityai/stable-video-diffusion-img2vid-xt-1-1",
        "cogvideox-2b": "THUDM/CogVideoX-2b",
        "cogvideox-5b": "THUDM/CogVideoX-5b",
        "ltx-video": "Lightricks/LTX-Video",
        "wan2.1-t2v-1.3b": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "modelscope-t2v": "ali-vilab/text-to-video-ms-1.7b",
    }
    for name, repo in expected.items():
        spec = catalog.get(name)
        assert spec.source.kind == "huggingface" and spec.source.repo_id == repo
        assert spec.requirements.vram_gb > 0
    assert catalog.get("svd").task == "i2v" and catalog.get("cogvideox-2b").task == "t2v"
    assert catalog.get("animatediff").source.motion_adapter == "guoyww/animatediff-motion-adapter-v1-5-3"
    assert catalog.get("pika-lumiere").source.kind == "remote"


def test_pipeline_classes_exist_in_the_loading_library():
    import diffusers
    import transformers

    for spec in get_catalog().list():
        if spec.source.kind == "remote":
            continue
        library = diffusers if spec.modality in ("video", "image") else transformers
        assert hasattr(library, spec.pipeline_class), spec.name


def test_unknown_model_lists_available():
    with pytest.raises(ModelNotFoundError) as info:
        get_catalog().get("no-such-model")
    assert "tiny-t2v" in info.value.available_models
    assert info.value.details["model_name"] == "no-such-model"


def test_defaults_fill_in():
    params = resolve_params(get_catalog().get("tiny-t2v"))
    assert (params.num_frames, params.num_inference_steps, params.width, params.height) == (8, 4, 32, 32)


@pytest.mark.parametrize("overrides, field", [
    ({"num_frames": 99}, "num_frames"),
    ({"num_frames": 1}, "num_frames"),
    ({"num_inference_steps": 0}, "num_inference_steps"),
    ({"guidance_scale": 100.0}, "guidance_scale"),
    ({"num_frames": 2.5}, "num_frames"),
    ({"resolution": "10x10"}, "resolution"),
    ({"fps": "fast"}, "fps"),
])
def test_out_of_range_parameters_name_the_allowed_range(overrides, field):
    with pytest.raises(ValidationError) as info:
        resolve_params(get_catalog().get("tiny-t2v"), overrides)
    assert field in info.value.message
    if field != "fps":
        assert "allowed" in info.value.details or field in ("num_frames",)


def test_unknown_parameter_and_non_video_model_refused():
    with pytest.raises(ValidationError, match="Unknown generation parameter"):
        resolve_params(get_catalog().get("tiny-t2v"), {"cfg": 3})
    with pytest.raises(ValidationError, match="not a video model"):
        resolve_params(get_catalog().get("tiny-t2i"))


@pytest.mark.parametrize("prompt", ["", "   ", None, "x" * 2001])
def test_bad_prompts(prompt):
    with pytest.raises(InvalidPromptError):
        validate_prompt(prompt)
