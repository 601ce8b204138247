"""BenchmarkSpec: typed parameters, bounded seeds, stored specs that read back as written (no Ray)."""

import pytest

from app.bench.spec import MAX_SEED, BenchmarkSpec
from app.catalog import VideoParameters
from app.errors import ValidationError


def _spec(**fields):
    return BenchmarkSpec(**{"model_name": "tiny-t2v", "prompts": ["A cat"], **fields})


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"seed": 2**70}, "seed"),
        ({"seed": 3e9}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": -1}, "seed"),
        ({"videos_per_prompt": 101}, "videos_per_prompt"),
        ({"parameters": {"num_frames": 8.5}}, "parameters.num_frames"),
        ({"parameters": {"width": [32]}}, "parameters.width"),
        ({"parameters": {"cfg": 3}}, "Unknown benchmark setting"),
        ({"cfg": 3}, "Unknown benchmark setting"),
    ],
)
def test_bad_fields_are_the_typed_error(fields, fragment):
    with pytest.raises(ValidationError, match=fragment):
        _spec(**fields)


def test_every_seed_of_the_largest_spec_fits_a_32_bit_column():
    spec = _spec(seed=MAX_SEED, videos_per_prompt=100)
    assert max(spec.seeds()) == 2**31 - 1


def test_stored_specs_read_back_as_written():
    old_row = {"model_name": "tiny-t2v", "prompts": ["A cat"], "parameters": {"num_frames": 4, "guidance_scale": 7}}
    spec = BenchmarkSpec(**old_row)
    assert spec.parameters == VideoParameters(num_frames=4, guidance_scale=7.0)
    stored = spec.model_dump(mode="json")
    assert stored["parameters"] == {"num_frames": 4, "guidance_scale": 7.0}  # only what was given
    assert BenchmarkSpec(**stored) == spec


def test_an_alias_is_stored_as_the_model_it_names():
    from app.bench.spec import BenchmarkSpec

    assert BenchmarkSpec(model_name="cogvideo", prompts=["A cat"]).model_name == "cogvideox-2b"
    assert BenchmarkSpec(model_name="no-such", prompts=["A cat"]).model_name == "no-such"  # refused by check()
