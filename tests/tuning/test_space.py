"""SearchSpace axes come from VideoParameters; values are checked by the benchmark's own resolve_params."""

import pytest

from app.catalog import VideoParameters, get_catalog
from app.errors import ValidationError
from tuning.search import GENERATION_KEYS
from tuning.space import SearchSpace, searchable


def test_axes_and_trial_keys_follow_the_parameter_model():
    kinds = searchable()
    assert set().union(*kinds.values()) == set(VideoParameters.model_fields) | {"precision"}
    assert {"guidance_scale", "eta"} == kinds["continuous"] and "num_frames" in kinds["discrete"]
    assert set(GENERATION_KEYS) == set(VideoParameters.model_fields)


@pytest.mark.parametrize(
    "space, fragment",
    [
        (SearchSpace(continuous_params={"eta": (0.0, 1.5)}), "eta range"),
        (SearchSpace(discrete_params={"num_frames": [4, True, 4.5]}), r"\[True, 4.5\]"),
        (SearchSpace(categorical_params={"resolution": ["64x64", "10x10"]}), "10x10"),
        (SearchSpace(discrete_params={"seed": [1]}), "not a discrete parameter"),
        (SearchSpace(continuous_params={"num_frames": (2, 8)}), "not a continuous parameter"),
    ],
)
def test_values_the_model_refuses_are_named(space, fragment):
    with pytest.raises(ValidationError, match=fragment):
        space.validate(get_catalog().get("tiny-t2v"), "cpu")


def test_a_valid_space_passes():
    SearchSpace(
        continuous_params={"guidance_scale": (1, 15), "eta": (0.0, 1.0)},
        discrete_params={"num_inference_steps": [1, 2], "num_frames": [4, 8.0]},
        categorical_params={"scheduler": ["ddim", "euler"], "resolution": ["32x32", "64x64"]},
    ).validate(get_catalog().get("tiny-t2v"), "cpu")
