"""A session's spec: the reference grid expanded with the typed parameter model, and bad input refused."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.errors import FederatedJoinRefusedError, ModelNotFoundError, ValidationError
from app.federated.spec import SessionSpec, check_capabilities, parse_memory_gb
from tests.app.federated.support import session_body


def spec(**overrides) -> SessionSpec:
    return SessionSpec(**session_body(**overrides))


def test_the_grid_expands_to_models_times_parameter_combinations(tmp_path):
    grid = {
        "models": ["tiny-t2v", "tiny-i2v"],
        "prompts": ["p"],
        "parameters": {"num_frames": [2, 4], "guidance_scale": [5.0, 7.5, 10.0], "num_inference_steps": 1},
    }
    tasks = spec(benchmark_spec=grid).tasks(Settings(data_dir=tmp_path))
    assert len(tasks) == 12 and len({t.task_id for t in tasks}) == 12
    assert tasks[0].parameters == {"num_frames": 2, "num_inference_steps": 1, "guidance_scale": 5.0}
    assert {t.model_name for t in tasks} == {"tiny-t2v", "tiny-i2v"}
    again = spec(benchmark_spec=grid).tasks(Settings(data_dir=tmp_path))
    assert [t.task_id for t in again] == [t.task_id for t in tasks]  # ids are stable


def test_quorum_and_privacy_defaults():
    assert spec(consensus_threshold=0.8).quorum() == 3 and spec(consensus_threshold=0.5).quorum() == 2
    pure = spec(privacy_config={"privacy_level": "differential"})
    assert (pure.privacy_config.epsilon, pure.privacy_config.mechanism) == (1.0, "laplace")
    assert spec().privacy_config.mechanism == "gaussian"
    with pytest.raises(ValidationError):
        spec(privacy_config={"privacy_level": "none", "epsilon": 1.0})


@pytest.mark.parametrize(
    "grid, error",
    [
        ({"models": ["tiny-t2v"], "prompts": ["p"], "parameters": {"num_frames": []}}, ValidationError),
        ({"models": ["tiny-t2v"], "prompts": ["p"], "parameters": {"num_frames": ["many"]}}, ValidationError),
        ({"models": ["tiny-t2v"], "prompts": ["  "]}, ValidationError),
        ({"models": ["tiny-t2v", "tiny-t2v"], "prompts": ["p"]}, ValidationError),
        ({"models": ["nope"], "prompts": ["p"]}, ModelNotFoundError),
        ({"models": ["tiny-t2v"], "prompts": ["p"], "clip_bounds": {"latency_s": [1.0, 1.0]}}, ValidationError),
        ({"models": ["tiny-t2v"], "prompts": ["p"], "clip_bounds": {"clipscore": [0.0, 1.0]}}, ValidationError),
    ],
)
def test_bad_grids_are_typed_errors(tmp_path, grid, error):
    with pytest.raises(error):
        spec(benchmark_spec=grid).tasks(Settings(data_dir=tmp_path))


def test_capabilities_must_cover_the_models():
    check_capabilities(["tiny-t2v"], {"models_supported": ["tiny-t2v"], "gpu_memory": "0GB"})
    with pytest.raises(FederatedJoinRefusedError):
        check_capabilities(["svd-xt"], {"models_supported": ["svd-xt"], "gpu_memory": "16GB"})  # needs 18 GB
    with pytest.raises(ValidationError):
        check_capabilities(["tiny-t2v"], {"gpu_memory": "32GB"})
    assert parse_memory_gb("32GB") == 32 and parse_memory_gb("512MiB") == 0.5
    with pytest.raises(ValidationError):
        parse_memory_gb("lots")
