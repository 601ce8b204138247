"""The quality ladder comes from the catalog: every rung valid there, distinct, from the top down to the minimum."""

import pytest

from app.catalog.spec import get_catalog, resolve_params
from app.errors import ValidationError
from app.streaming.ladder import build_ladder

TINY = get_catalog().get("tiny-t2v")


def largest(model):
    return max((tuple(int(x) for x in r.split("x")) for r in model.resolutions), key=lambda wh: wh[0] * wh[1])


def test_rungs_step_down_from_the_top_to_the_model_minimum_and_are_valid_in_the_catalog():
    top = largest(TINY)
    frames = int(TINY.parameters["num_frames"].max)
    ladder = build_ladder(TINY, top, frames, 3)
    assert (ladder[0].width, ladder[0].height, ladder[0].num_frames) == (*top, frames)
    assert ladder[-1].num_frames == int(TINY.parameters["num_frames"].min)
    smallest = min(
        ladder[-1].width * ladder[-1].height, *(int(a) * int(b) for a, b in (r.split("x") for r in TINY.resolutions))
    )
    assert ladder[-1].width * ladder[-1].height == smallest
    for upper, lower in zip(ladder, ladder[1:], strict=False):
        assert lower.num_frames <= upper.num_frames and lower.width * lower.height <= upper.width * upper.height
        assert (lower.num_frames, lower.width) != (upper.num_frames, upper.width)
    for rung in ladder:
        resolve_params(TINY, {"resolution": rung.resolution, "num_frames": rung.num_frames})
        assert 0 < rung.quality <= 1


def test_unreachable_ladders_and_starts_are_refused():
    top = largest(TINY)
    with pytest.raises(ValidationError, match="quality levels"):
        build_ladder(TINY, top, int(TINY.parameters["num_frames"].min), 16)
    with pytest.raises(ValidationError, match="initial_resolution"):
        build_ladder(TINY, (top[0] + 1, top[1]), None, 2)
    with pytest.raises(ValidationError, match="initial_frames"):
        build_ladder(TINY, top, int(TINY.parameters["num_frames"].max) + 1, 2)
    assert len(build_ladder(TINY, None, None, 1)) == 1
