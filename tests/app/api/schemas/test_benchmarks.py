"""The benchmark request body: typed parameters in the schema (and so in the OpenAPI document and the fuzzing)."""

import json

import pydantic
import pytest

from app.api import make_app
from app.api.schemas.benchmarks import BenchmarkCreate

BASE = '{"model_name": "tiny-t2v", "prompts": ["A cat"], '


@pytest.mark.parametrize(
    "tail",
    [
        '"parameters": {"num_frames": 1e400}}',
        '"parameters": {"num_frames": NaN}}',
        '"parameters": {"guidance_scale": Infinity}}',
        '"parameters": {"num_frames": ' + "9" * 400 + "}}",
        '"parameters": {"num_frames": 8.5}}',
        '"parameters": {"num_frames": true}}',
        '"parameters": {"width": "abc"}}',
        '"parameters": {"width": [32]}}',
        '"parameters": {"scheduler": ["ddim"]}}',
        '"parameters": {"cfg": 3}}',
        '"seed": ' + str(2**70) + "}",
        '"seed": 3e9}',
    ],
)
def test_bad_bodies_are_refused_by_the_schema(tail):
    with pytest.raises(pydantic.ValidationError):  # the API's handler turns this into the uniform 422 body
        BenchmarkCreate.model_validate(json.loads(BASE + tail))


def test_good_parameters_are_typed():
    text = BASE + '"parameters": {"num_frames": 4.0, "resolution": "64x64"}}'
    body = BenchmarkCreate.model_validate(json.loads(text))
    assert body.parameters.num_frames == 4 and body.parameters.resolution == "64x64"


def test_openapi_shows_the_parameters_on_the_benchmark_route():
    schema = make_app().openapi()
    components = schema["components"]["schemas"]
    body_ref = schema["paths"]["/api/v1/benchmarks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body = components[body_ref["$ref"].rsplit("/", 1)[1]]
    parameters = components[body["properties"]["parameters"]["$ref"].rsplit("/", 1)[1]]
    assert {"num_frames", "fps", "num_inference_steps", "guidance_scale", "scheduler"} <= set(parameters["properties"])
    assert parameters["additionalProperties"] is False
    assert body["properties"]["seed"]["maximum"] < 2**31
