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


def test_schema_check_can_fail():
    import pytest
    import ray.autoscaler

    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    config["available_node_types"]["head"]["not_a_field"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, schema)
