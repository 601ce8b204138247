"""The video generation body takes its parameters from the one VideoParameters model."""

import pydantic
import pytest

from app.api.schemas.inference import VideoGenerationRequest
from app.catalog import VideoParameters


def test_video_request_has_every_parameter_field():
    assert set(VideoParameters.model_fields) <= set(VideoGenerationRequest.model_fields)


@pytest.mark.parametrize(
    "extra",
    [
        {"num_frames": float("inf")},
        {"num_frames": 8.5},
        {"width": "abc"},
        {"scheduler": ["ddim"]},
        {"seed": 2**70},
        {"cfg": 1},
    ],
)
def test_bad_video_requests_are_refused(extra):
    with pytest.raises(pydantic.ValidationError):
        VideoGenerationRequest.model_validate({"model": "tiny-t2v", "prompt": "A cat", **extra})


def test_async_alias_and_integral_floats_still_work():
    body = VideoGenerationRequest.model_validate(
        {"model": "tiny-t2v", "prompt": "A cat", "async": True, "num_frames": 4.0, "seed": 5.0}
    )
    assert body.run_async and body.num_frames == 4 and body.seed == 5
