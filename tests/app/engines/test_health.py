"""Health checks load the real model for its modality and generate once; a model that cannot load is an error."""

import pytest

from app.catalog import get_catalog
from app.engines.health import health_check
from app.errors import ModelLoadError, RemoteGenerationError
from tests.app.engines.test_remote import server  # noqa: F401  (the local HTTP video endpoint)


@pytest.mark.parametrize(
    "model, modality, output",
    [
        ("tiny-t2v", "video", {"frames": 2, "shape": [2, 32, 32, 3]}),
        ("tiny-i2v", "video", {"frames": 2, "shape": [2, 32, 32, 3]}),
        ("tiny-t2i", "image", {"width": 32, "height": 32}),
        ("tiny-text", "text", {"tokens_generated": 1}),
        ("tiny-tts", "speech", {"sample_rate": 16000}),
    ],
)
def test_every_modality_generates_once_with_the_smallest_settings(settings, model, modality, output):
    report = health_check(get_catalog().get(model), "cpu")
    assert report["status"] == "healthy" and report["modality"] == modality and report["device"] == "cpu"
    assert report["load_time_ms"] > 0 and report["test_generation_ms"] > 0
    assert output.items() <= report["output"].items()
    assert report["peak_gpu_memory_gb"] is None


def test_speech_output_has_a_duration(settings):
    report = health_check(get_catalog().get("tiny-tts"), "cpu")
    assert report["output"]["duration_s"] > 0 and report["output"]["wav_bytes"] > 44


def test_remote_model_is_checked_through_its_endpoint(server, monkeypatch):  # noqa: F811
    url, state = server
    monkeypatch.setenv("VDB_PIKA_LUMIERE_URL", url)
    report = health_check(get_catalog().get("pika-lumiere"))
    assert report["device"] == "remote" and report["output"]["frames"] == 6
    assert state["requests"][0]["body"]["width"] == 512 and state["requests"][0]["body"]["num_frames"] == 1
    state["mode"] = "error"
    with pytest.raises(RemoteGenerationError, match="HTTP 500"):
        health_check(get_catalog().get("pika-lumiere"))


def test_a_model_that_cannot_load_is_an_error(settings, tmp_path):
    tiny = get_catalog().get("tiny-t2i")
    missing = tiny.model_copy(
        update={"source": tiny.source.model_copy(update={"kind": "local", "path": str(tmp_path / "absent")})}
    )
    with pytest.raises(ModelLoadError, match="not found"):
        health_check(missing, "cpu")
