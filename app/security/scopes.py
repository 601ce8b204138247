"""The permission scopes a credential can hold, with what each one allows.

``admin`` implies every scope; ``federated.*`` implies every ``federated.`` scope.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.errors import ValidationError

SCOPES: dict[str, str] = {
    "benchmark.create": "Start and cancel benchmarks",
    "benchmark.read": "Read benchmark status and results, follow them over WebSocket",
    "models.read": "List models, read model details, health and download status",
    "models.write": "Download models into the models directory",
    "inference.text": "Text generation (also /v1/completions and /v1/chat/completions)",
    "inference.image": "Image generation (also /v1/images/generations)",
    "inference.speech": "Text to speech (also /v1/audio/speech)",
    "inference.video": "Video generation",
    "analytics.read": "Cluster status, workers and usage figures",
    "streaming.create": "Start and stop streaming benchmarks",
    "streaming.read": "Read streaming benchmarks and follow them over WebSocket",
    "federated.create": "Create federated benchmark sessions",
    "federated.join": "Join federated benchmark sessions",
    "federated.read": "Read federated session status and published results",
    "federated.*": "Every federated scope",
    "admin": "Everything, including API keys and users",
}


def grants(held: Iterable[str], required: str) -> bool:
    held = set(held)
    if "admin" in held or required in held:
        return True
    family = required.split(".", 1)[0]
    return f"{family}.*" in held and required != "admin"


def check_scopes(requested: Iterable[str]) -> list[str]:
    requested = list(dict.fromkeys(requested))
    unknown = [scope for scope in requested if scope not in SCOPES]
    if unknown:
        raise ValidationError(
            f"Unknown permission(s): {', '.join(unknown)}", {"unknown": unknown, "known": sorted(SCOPES)}
        )
    return requested


def check_tier(tier: str, known: Iterable[str]) -> str:
    known = list(known)
    if tier not in known:
        raise ValidationError(f"Unknown tier '{tier}'", {"tier": tier, "known": known})
    return tier
