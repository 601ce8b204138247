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


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"num_frames": 99}, "num_frames"),
        ({"num_frames": 1}, "num_frames"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"guidance_scale": 100.0}, "guidance_scale"),
        ({"num_frames": 2.5}, "num_frames"),
        ({"resolution": "10x10"}, "resolution"),
        ({"fps": "fast"}, "fps"),
    ],
)
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


def test_the_references_names_are_aliases_of_catalog_models():
    catalog = get_catalog()
    assert catalog.get("cogvideo").name == "cogvideox-2b"
    assert catalog.get("stable-diffusion-xl").name == "sdxl"
    assert catalog.aliases() == {"cogvideo": "cogvideox-2b", "stable-diffusion-xl": "sdxl"}
    assert "cogvideo" in catalog.get("cogvideox-2b").public_dict()["aliases"]  # listed by `models info`
    assert catalog.canonical("stable-diffusion-xl") == "sdxl" and catalog.canonical("nope") == "nope"


def test_an_alias_that_shadows_a_name_is_refused():
    from app.catalog.spec import Catalog

    tiny = get_catalog().get("tiny-t2v")
    with pytest.raises(ValueError, match="already a model name"):
        Catalog([tiny, tiny.model_copy(update={"name": "other", "aliases": ["tiny-t2v"]})])


def test_bark_speaker_names_pick_the_preset_of_the_language():
    from app.catalog.spec import speech_options

    bark = get_catalog().get("bark")
    assert speech_options(bark, "speaker_1", "en", None, None)["voice"] == "v2/en_speaker_1"
    assert speech_options(bark, "speaker_1", "de", None, None)["voice"] == "v2/de_speaker_1"
    assert speech_options(bark, None, "fr", None, None)["voice"] == "v2/fr_speaker_0"
    assert speech_options(bark, "v2/ja_speaker_3", "ja", None, None)["voice"] == "v2/ja_speaker_3"
    with pytest.raises(ValidationError, match="is a 'de' voice and the language is 'en'"):
        speech_options(bark, "v2/de_speaker_0", "en", None, None)
    with pytest.raises(ValidationError, match="not offered"):
        speech_options(bark, "speaker_1", "xx", None, None)
    with pytest.raises(ValidationError, match="no duration control") as refused:
        speech_options(bark, "speaker_1", "en", None, 1.5)
    assert refused.value.details["reason"].startswith("Bark has no duration control")


def test_a_one_language_model_refuses_another_language_saying_why():
    from app.catalog.spec import speech_options

    with pytest.raises(ValidationError, match="speaks only en") as refused:
        speech_options(get_catalog().get("mms-tts-eng"), None, "es", None, None)
    assert refused.value.details["allowed"] == ["en"]


def test_a_broken_registration_is_skipped_not_fatal(tmp_path):
    from app.catalog.spec import get_catalog, registered_dir

    directory = registered_dir(tmp_path)
    directory.mkdir(parents=True)
    (directory / "broken.yaml").write_text("name: [unclosed")
    (directory / "cogvideo.yaml").write_text("name: cogvideo\n")  # not a whole entry, and an alias's name
    entry = get_catalog().get("tiny-t2v").model_dump(mode="json")
    entry["name"] = "mine"
    import yaml

    (directory / "mine.yaml").write_text(yaml.safe_dump(entry))
    catalog = get_catalog(tmp_path)
    assert catalog.get("mine").pipeline_class == "CogVideoXPipeline" and "broken" not in catalog.names()
    assert catalog.get("cogvideo").name == "cogvideox-2b"
