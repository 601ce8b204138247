"""build_app(args): the whole gateway application from a config dict.

Works from Python and from `serve run deployments/serve.yaml` (import_path
deployments.app:build_app). Per model: num_gpus / num_cpus, autoscaling,
max_ongoing_requests and max_queued_requests come from the config.
"""

from __future__ import annotations

import logging
from typing import Any

from app.catalog import get_catalog
from app.config import Settings, get_settings
from deployments.ingress import Gateway
from deployments.models import DEPLOYMENTS

DEFAULT_MODELS = [{"name": name} for name in ("tiny-t2v", "tiny-t2i", "tiny-text", "tiny-tts")]
DEFAULT_OPTIONS = {"num_gpus": 0, "num_cpus": 0.25, "max_ongoing_requests": 4, "max_queued_requests": 16,
                   "autoscaling_config": {"min_replicas": 1, "max_replicas": 1, "target_ongoing_requests": 2}}


def deployment_for(model: dict[str, Any], settings_json: dict[str, Any]):
    spec = get_catalog().get(model["name"])
    options = {**DEFAULT_OPTIONS, **{k: v for k, v in model.items() if k not in ("name", "batching")}}
    cls = DEPLOYMENTS[spec.modality]
    extra = {}
    if spec.modality in ("image", "video"):  # batching: {"max_batch_size": 4, "batch_wait_timeout_s": 0.05}
        extra = model.get("batching", {})
    return cls.options(
        name=f"{spec.modality}-{spec.name}",
        ray_actor_options={"num_gpus": options["num_gpus"], "num_cpus": options["num_cpus"]},
        autoscaling_config=options["autoscaling_config"],
        max_ongoing_requests=options["max_ongoing_requests"],
        max_queued_requests=options["max_queued_requests"],
    ).bind(spec.name, settings_json, **extra)


def build_app(args: dict[str, Any] | None = None):
    args = args or {}
    settings = Settings(**{**get_settings().portable(), **args.get("settings", {})})
    settings_json = settings.portable()
    settings.ensure_dirs()
    if settings.secret_key is None:  # replicas on other nodes must sign and verify with the driver's secret
        from app.security.keys import server_secret

        settings_json["secret_key"] = server_secret(settings).decode()
    from app.security.bootstrap import ensure_admin_key

    key_file, created = ensure_admin_key(settings)  # also for `serve run deployments/serve.yaml`
    if created:
        logging.getLogger("vid_bench").warning("Created the first admin API key in %s (mode 0600)", key_file)
    handles = {m["name"]: deployment_for(m, settings_json) for m in args.get("models", DEFAULT_MODELS)}
    return Gateway.options(ray_actor_options={"num_cpus": args.get("ingress_num_cpus", 0.25)}).bind(handles,
                                                                                                   settings_json)
