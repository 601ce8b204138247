"""deployments/serve.yaml is a valid Serve config whose args build the application."""

from pathlib import Path

import pytest
import yaml

from app.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]


def test_serve_yaml_matches_serves_schema_and_builds():
    from ray.serve.schema import ServeDeploySchema

    from deployments.app import build_app

    config = yaml.safe_load((ROOT / "deployments" / "serve.yaml").read_text())
    schema = ServeDeploySchema(**config)
    application = schema.applications[0]
    assert application.import_path == "deployments.app:build_app"
    app = build_app(application.args)
    assert type(app).__name__ == "Application"
    names = [m["name"] for m in application.args["models"]]
    assert names == ["tiny-t2v", "tiny-t2i", "tiny-text", "tiny-tts"]


@pytest.mark.parametrize(
    "args, named",
    [
        ({"models": [{"name": "tiny-t2v", "num_gpu": 1}]}, "models.0.num_gpu"),
        ({"model": [{"name": "tiny-t2v"}]}, "model"),
        ({"ingress_cpus": 1}, "ingress_cpus"),
        ({"settings": {"rate_limit_storag": "memory://"}}, "rate_limit_storag"),
        ({"models": [{"name": "tiny-t2v", "autoscaling_config": {"max_replica": 2}}]}, "max_replica"),
        ({"models": [{"name": "tiny-t2i", "batching": {"max_batch": 2}}]}, "models.0.batching.max_batch"),
        ({"models": [{"name": "tiny-t2i"}, {"name": "tiny-t2i"}]}, "tiny-t2i"),
    ],
)
def test_build_app_refuses_a_misspelled_key_and_names_it(args, named):
    from deployments.app import build_app

    with pytest.raises(ValidationError) as info:
        build_app(args)
    assert named in info.value.message


def test_build_app_refuses_batching_on_a_model_that_is_not_batched():
    from deployments.app import build_app

    with pytest.raises(ValidationError, match="batching applies to image and video"):
        build_app({"models": [{"name": "tiny-text", "batching": {"max_batch_size": 2}}]})


def test_build_app_refuses_settings_that_leave_a_rate_limit_group_unconfigured():
    from deployments.app import build_app

    with pytest.raises(ValidationError) as info:
        build_app({"settings": {"rate_limit_unlimited_groups": ["auth", "tasks"]}})
    assert "inference" in info.value.message


@pytest.mark.parametrize(
    "model",
    [
        {"name": "tiny-t2v", "max_ongoing_requests": 2},  # the default batch of 4 could never fill
        {"name": "tiny-t2i", "max_ongoing_requests": 4, "batching": {"max_batch_size": 8}},
    ],
)
def test_a_batch_larger_than_max_ongoing_requests_is_refused_at_load(model):
    from deployments.app import GatewayArgs

    with pytest.raises(ValidationError) as info:
        GatewayArgs.parse({"models": [model]})
    assert "max_ongoing_requests" in info.value.message and model["name"] in info.value.message


def test_serve_yaml_batches_agree_with_max_ongoing_requests():
    from deployments.app import GatewayArgs

    args = yaml.safe_load((ROOT / "deployments" / "serve.yaml").read_text())["applications"][0]["args"]
    batched = {m.name: m for m in GatewayArgs.parse(args).models if m.name in ("tiny-t2v", "tiny-t2i")}
    assert {name: (m.batching.max_batch_size, m.max_ongoing_requests) for name, m in batched.items()} == {
        "tiny-t2v": (4, 4),
        "tiny-t2i": (4, 4),
    }
    GatewayArgs.parse({"models": [{"name": "tiny-text", "max_ongoing_requests": 1}]})  # text models do not batch
