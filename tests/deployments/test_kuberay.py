"""The KubeRay RayService manifest serves the same applications as deployments/serve.yaml."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "deployments" / "kuberay-rayservice.yaml").read_text())


def test_serve_config_agrees_with_serve_yaml():
    from ray.serve.schema import ServeDeploySchema

    serve_yaml = yaml.safe_load((ROOT / "deployments" / "serve.yaml").read_text())
    embedded = yaml.safe_load(_manifest()["spec"]["serveConfigV2"])
    ServeDeploySchema(**embedded)  # a config Ray Serve itself accepts
    assert embedded["applications"] == serve_yaml["applications"]
    assert embedded["proxy_location"] == serve_yaml["proxy_location"]
    assert embedded["http_options"] == {"host": "0.0.0.0", "port": 8000}  # reachable inside the pod


def test_a_changed_serve_yaml_would_be_caught():
    serve_yaml = yaml.safe_load((ROOT / "deployments" / "serve.yaml").read_text())
    serve_yaml["applications"][0]["args"]["models"][0]["num_cpus"] = 3
    assert yaml.safe_load(_manifest()["spec"]["serveConfigV2"])["applications"] != serve_yaml["applications"]


@pytest.mark.parametrize("group", ["head", "worker"])
def test_every_pod_shares_the_database_redis_and_ray_token(group):
    spec = _manifest()["spec"]["rayClusterConfig"]
    template = spec["headGroupSpec"]["template"] if group == "head" else spec["workerGroupSpecs"][0]["template"]
    env = {e["name"] for e in template["spec"]["containers"][0]["env"]}
    assert {"VDB_DATABASE_URL", "VDB_RATE_LIMIT_STORAGE", "VDB_SECRET_KEY", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"} <= env
