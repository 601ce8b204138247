"""build_app(args): the whole gateway application from a config dict.

Works from Python and from `serve run deployments/serve.yaml` (import_path
deployments.app:build_app). Per model: num_gpus / num_cpus, autoscaling,
max_ongoing_requests and max_queued_requests come from the config. The args
are parsed strictly: a misspelled key is an error, never silently ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError
from ray.serve.config import AutoscalingConfig

from app.api import refuse_unconfigured_groups
from app.catalog import get_catalog
from app.config import Settings, get_settings
from app.errors import ValidationError
from deployments.ingress import Gateway, api
from deployments.models import DEPLOYMENTS

BATCHED_MODALITIES = ("image", "video")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Batching(_Strict):
    """@serve.batch settings of an image or video deployment."""

    max_batch_size: int = Field(default=4, ge=1)
    batch_wait_timeout_s: float = Field(default=0.05, ge=0)


class ModelDeployment(_Strict):
    """One catalog model and the Serve options of its deployment."""

    name: str = Field(min_length=1)
    num_gpus: float = Field(default=0, ge=0)
    num_cpus: float = Field(default=0.25, ge=0)
    max_ongoing_requests: int = Field(default=4, ge=1)
    max_queued_requests: int = Field(default=16, ge=-1, description="-1: no bound")
    resources: dict[str, float] = Field(
        default_factory=dict, description="Custom Ray resources, e.g. to pin the replicas to a node type."
    )
    autoscaling_config: dict[str, Any] = Field(
        default_factory=lambda: {"min_replicas": 1, "max_replicas": 1, "target_ongoing_requests": 2}
    )
    batching: Batching | None = None

    @field_validator("autoscaling_config")
    @classmethod
    def _serve_autoscaling(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Serve's own model ignores unknown keys: refuse them here, then let it check the values."""
        unknown = sorted(set(config) - set(AutoscalingConfig.model_fields))
        if unknown:
            raise ValueError(f"unknown autoscaling_config key(s) {unknown}")
        AutoscalingConfig(**config)
        return config


class GatewayArgs(_Strict):
    """The ``args`` of the gateway application (serve.yaml's ``applications[].args``)."""

    models: list[ModelDeployment] = Field(
        default_factory=lambda: [
            ModelDeployment(name=name) for name in ("tiny-t2v", "tiny-t2i", "tiny-text", "tiny-tts")
        ]
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="Settings fields, over the VDB_* ones.")
    ingress_num_cpus: float = Field(default=0.25, ge=0)
    ingress_resources: dict[str, float] = Field(
        default_factory=dict, description="Custom Ray resources of the ingress."
    )

    @field_validator("models")
    @classmethod
    def _one_deployment_per_model(cls, models: list[ModelDeployment]) -> list[ModelDeployment]:
        names = [model.name for model in models]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"model(s) {repeated} listed more than once")
        return models

    @model_validator(mode="after")
    def _batches_can_fill(self) -> GatewayArgs:
        """A replica holds at most max_ongoing_requests, so a larger batch could never fill (it would only wait)."""
        for model in self.models:
            spec = get_catalog().get(model.name)
            if spec.modality not in BATCHED_MODALITIES:
                continue
            size = (model.batching or Batching()).max_batch_size
            if size > model.max_ongoing_requests:
                raise ValueError(
                    f"model {model.name}: batching.max_batch_size {size}"
                    f"{'' if model.batching else ' (the default)'} exceeds max_ongoing_requests "
                    f"{model.max_ongoing_requests}, so its batches can never fill; make them agree"
                )
        return self

    @field_validator("settings")
    @classmethod
    def _settings_fields(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Settings ignore unknown VDB_* variables; a key written in the config must name a real field."""
        unknown = sorted(set(settings) - set(Settings.model_fields))
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}")
        return settings

    @classmethod
    def parse(cls, args: dict[str, Any] | None) -> GatewayArgs:
        try:
            return cls.model_validate(args or {})
        except PydanticError as error:
            problems = [{"loc": ".".join(str(part) for part in e["loc"]), "msg": e["msg"]} for e in error.errors()]
            raise ValidationError(
                "Invalid gateway args: " + "; ".join(f"{p['loc']}: {p['msg']}" for p in problems), {"errors": problems}
            ) from None


def deployment_for(model: ModelDeployment, settings_json: dict[str, Any]):
    spec = get_catalog(Settings(**settings_json).resolved_models_dir).get(model.name)
    if model.batching is not None and spec.modality not in BATCHED_MODALITIES:
        raise ValidationError(
            f"Model '{spec.name}' is a {spec.modality} model: batching applies to image and video models only",
            {"model_name": spec.name, "modality": spec.modality},
        )
    batching = (model.batching or Batching()).model_dump() if spec.modality in BATCHED_MODALITIES else {}
    return (
        DEPLOYMENTS[spec.modality]
        .options(
            name=f"{spec.modality}-{spec.name}",
            ray_actor_options={"num_gpus": model.num_gpus, "num_cpus": model.num_cpus, "resources": model.resources},
            autoscaling_config=model.autoscaling_config,
            max_ongoing_requests=model.max_ongoing_requests,
            max_queued_requests=model.max_queued_requests,
        )
        .bind(spec.name, settings_json, **batching)
    )


def build_app(args: dict[str, Any] | None = None):
    parsed = GatewayArgs.parse(args)
    settings = Settings(**{**get_settings().portable(), **parsed.settings})
    refuse_unconfigured_groups(api, settings)  # the ingress app was checked against the environment's settings
    import ray

    if ray.is_initialized():  # `serve run` / `vid-bench serve` connect before building: refuse node-local state now
        from app.bench.cluster import check_shared_state

        check_shared_state(settings, gateway=True)
    settings_json = settings.portable()
    settings.ensure_dirs()
    if settings.secret_key is None:  # replicas on other nodes must sign and verify with the driver's secret
        from app.security.keys import server_secret

        settings_json["secret_key"] = server_secret(settings).decode()
    from app.security.bootstrap import ensure_admin_key

    key_file, created = ensure_admin_key(settings)  # also for `serve run deployments/serve.yaml`
    if created:
        logging.getLogger("vid_bench").warning("Created the first admin API key in %s (mode 0600)", key_file)
    handles = {model.name: deployment_for(model, settings_json) for model in parsed.models}
    # Serve's decorator made Gateway a serve.Deployment; mypy does not apply class decorators and sees the class
    return Gateway.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": parsed.ingress_num_cpus, "resources": parsed.ingress_resources}
    ).bind(handles, settings_json)
