"""deployments/serve.yaml is a valid Serve config whose args build the application."""

from pathlib import Path

import yaml

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
