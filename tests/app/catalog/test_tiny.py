import json

from app.catalog.tiny import ensure_builtin


def test_builtin_is_saved_once_and_is_a_diffusers_checkpoint(settings):
    path = ensure_builtin("tiny-t2v", "cogvideox", settings.resolved_models_dir)
    index = json.loads((path / "model_index.json").read_text())
    assert index["_class_name"] == "CogVideoXPipeline"
    assert index["transformer"] == ["diffusers", "CogVideoXTransformer3DModel"]
    assert (path / "tokenizer" / "tokenizer_config.json").exists()
    stamp = (path / "model_index.json").stat().st_mtime_ns
    assert ensure_builtin("tiny-t2v", "cogvideox", settings.resolved_models_dir) == path
    assert (path / "model_index.json").stat().st_mtime_ns == stamp  # not rebuilt


def test_loaded_through_from_pretrained(settings):
    import torch
    from diffusers import CogVideoXPipeline

    path = ensure_builtin("tiny-t2v", "cogvideox", settings.resolved_models_dir)
    pipe = CogVideoXPipeline.from_pretrained(path, dtype=torch.float32)
    ids = pipe.tokenizer("a cat").input_ids
    assert ids[-1] == pipe.tokenizer.eos_token_id
    assert [pipe.tokenizer.convert_ids_to_tokens(i) for i in ids if i != 3][:4] == ["a", "c", "a", "t"]
    assert pipe.vae.config.temporal_compression_ratio == 1  # every frame count comes back exactly


def test_clip_tokenizer_of_the_image_models(settings):
    from diffusers import StableDiffusionPipeline

    path = ensure_builtin("tiny-t2i", "stable_diffusion", settings.resolved_models_dir)
    pipe = StableDiffusionPipeline.from_pretrained(path)
    ids = pipe.tokenizer("a cat").input_ids
    assert ids[0] == pipe.tokenizer.bos_token_id and ids[-1] == pipe.tokenizer.eos_token_id
    assert len(ids) == len("acat") + 2  # byte-level vocabulary, no merges: one token per non-space character
