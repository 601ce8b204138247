"""The one video parameter model: strict at the edge, resolved against the catalog the same way as before."""

import pytest

from app.catalog import GenerationParams, VideoParameters, get_catalog, resolve_params
from app.catalog.params import field_types
from app.errors import ValidationError

BAD_VALUES = [
    ("num_frames", float("1e400")),  # what a JSON 1e400 parses to
    ("num_frames", float("nan")),
    ("num_frames", float("inf")),
    ("num_frames", 10**400),
    ("num_frames", 8.5),
    ("num_frames", True),
    ("num_frames", "8"),
    ("guidance_scale", float("nan")),
    ("guidance_scale", float("-inf")),
    ("guidance_scale", 10**400),
    ("guidance_scale", False),
    ("width", "abc"),
    ("width", [32]),
    ("height", {"px": 32}),
    ("fps", 2**70),
    ("num_inference_steps", 0),
    ("eta", 1.5),
    ("scheduler", ["ddim"]),
    ("scheduler", "warp-drive"),
    ("resolution", "abc"),
    ("resolution", 64),
]


@pytest.mark.parametrize("name, value", BAD_VALUES)
def test_bad_values_are_one_typed_error_naming_the_parameter(name, value):
    with pytest.raises(ValidationError) as info:
        VideoParameters.from_values({name: value})
    assert name in info.value.message and info.value.details["parameter"] == name
    with pytest.raises(ValidationError, match=name):
        resolve_params(get_catalog().get("tiny-t2v"), {name: value})


def test_unknown_names_are_listed():
    with pytest.raises(ValidationError, match="Unknown generation parameter") as info:
        VideoParameters.from_values({"cfg": 3, "num_frames": 4})
    assert info.value.details["unknown"] == ["cfg"]


def test_good_values_resolve_as_before():
    tiny = get_catalog().get("tiny-t2v")
    expected = GenerationParams(
        num_frames=4, fps=8, num_inference_steps=2, guidance_scale=7.0, width=64, height=64, eta=0.5, scheduler="ddim"
    )
    given = {
        "num_frames": 4.0,
        "num_inference_steps": 2,
        "guidance_scale": 7,
        "resolution": "64X64",
        "eta": 0.5,
        "scheduler": "ddim",
        "fps": None,
    }
    assert resolve_params(tiny, given) == expected
    assert resolve_params(tiny, VideoParameters(**{k: v for k, v in given.items() if v is not None})) == expected
    resolved = resolve_params(tiny, {"num_frames": 4.0})
    assert type(resolved.num_frames) is int and type(resolved.guidance_scale) is float
    overridden = resolve_params(tiny, {"resolution": "64x64", "width": 32, "height": 32})  # width/height win
    assert (overridden.width, overridden.height) == (32, 32)


def test_the_catalog_still_names_each_models_own_range():
    with pytest.raises(ValidationError) as info:
        resolve_params(get_catalog().get("tiny-t2v"), {"num_frames": 99})  # within the schema, beyond the model
    assert info.value.details["allowed"] == {"min": 2.0, "max": 16.0}
    assert info.value.details["model_name"] == "tiny-t2v"


def test_every_video_model_resolves_its_defaults():
    for spec in get_catalog().list("video"):
        params = resolve_params(spec)
        assert params.num_frames == spec.default("num_frames") and f"{params.width}x{params.height}" in spec.resolutions


def test_field_types_follow_the_model():
    assert field_types() == {
        "num_frames": int,
        "fps": int,
        "num_inference_steps": int,
        "guidance_scale": float,
        "width": int,
        "height": int,
        "resolution": str,
        "eta": float,
        "scheduler": str,
    }
