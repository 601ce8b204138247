import json

from app.catalog.tiny import ensure_builtin


def test_builtin_is_saved_once_and_is_a_diffusers_checkpoint(settings):
    path = ensure_builtin("tiny-t2v", "text_to_video_sd", settings.resolved_models_dir)
    index = json.loads((path / "model_index.json").read_text())
    assert index["_class_name"] == "TextToVideoSDPipeline"
    assert (path / "tokenizer" / "tokenizer_config.json").exists()
    stamp = (path / "model_index.json").stat().st_mtime_ns
    assert ensure_builtin("tiny-t2v", "text_to_video_sd", settings.resolved_models_dir) == path
    assert (path / "model_index.json").stat().st_mtime_ns == stamp  # not rebuilt


def test_loaded_through_from_pretrained(settings):
    from diffusers import TextToVideoSDPipeline

    path = ensure_builtin("tiny-t2v", "text_to_video_sd", settings.resolved_models_dir)
    pipe = TextToVideoSDPipeline.from_pretrained(path)
    ids = pipe.tokenizer("a cat").input_ids
    assert ids[0] == pipe.tokenizer.bos_token_id and ids[-1] == pipe.tokenizer.eos_token_id
    assert len(ids) == len("acat") + 2  # byte-level vocabulary, no merges: one token per non-space character
