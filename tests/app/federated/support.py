"""What the federated tests share: a reference-shaped session body on tiny models, and releases drawn with the
participant's own code from given per-video values (test inputs, not measurements)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app.federated.participant import draw_release

TINY_GRID = {
    "models": ["tiny-t2v"],
    "prompts": ["A cat playing piano", "Ocean waves"],
    "parameters": {"num_frames": [4, 8], "guidance_scale": [5.0, 7.5]},
}


def session_body(session_id: str = "fed_session_001", **overrides: Any) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "participants": ["university_a", "lab_b", "company_c"],
        "benchmark_spec": TINY_GRID,
        "privacy_config": {"privacy_level": "differential", "epsilon": 1.0, "delta": 1e-5},
        "consensus_threshold": 0.8,
        "timeout_minutes": 120,
        **overrides,
    }


def videos(values: list[float], latency: float = 0.5) -> list[SimpleNamespace]:
    """Stand-ins for stored video rows: what Participant.draw reads from them."""
    return [SimpleNamespace(status="ok", metrics={"temporal_consistency": v}, latency_s=latency) for v in values]


def draw(task_id: str, values: list[float], privacy: dict[str, Any]) -> dict[str, Any]:
    release, _ = draw_release(task_id, videos(values), privacy)
    return release
