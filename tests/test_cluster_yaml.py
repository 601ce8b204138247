"""cluster.yaml must be a valid Ray cluster launcher config."""

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_cluster_yaml_matches_rays_schema():
    import ray.autoscaler

    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    jsonschema.validate(config, schema)
    gpu_types = [n for n, t in config["available_node_types"].items() if t["resources"].get("GPU")]
    assert gpu_types and config["head_node_type"] not in gpu_types
    assert any("pip install" in c and "vid-bench" in c for c in config["setup_commands"])


def test_node_types_declare_their_real_gpu_counts():
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    gpus = {
        t["node_config"]["InstanceType"]: t["resources"].get("GPU", 0) for t in config["available_node_types"].values()
    }
    assert gpus == {"m6i.2xlarge": 0, "g5.2xlarge": 1, "p4de.24xlarge": 8}


def test_every_node_gets_the_shared_database_and_rate_limit_store():
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    head_setup = " ".join(config["head_setup_commands"])
    assert "postgresql" in head_setup and "redis-server" in head_setup
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        start = " ".join(config[key])
        assert 'VDB_DATABASE_URL="postgresql' in start and 'VDB_RATE_LIMIT_STORAGE="redis://' in start
        assert "RAY_AUTH_MODE=token" in start
    assert "--host 0.0.0.0" in " ".join(config["head_start_ray_commands"])  # the gateway on the head's address


def test_schema_check_can_fail():
    import pytest
    import ray.autoscaler

    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    config["available_node_types"]["head"]["not_a_field"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, schema)
