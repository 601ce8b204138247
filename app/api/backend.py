"""What the HTTP layer needs from the model side, without knowing it is Ray Serve.

``deployments.ingress.ServeBackend`` implements this over deployment handles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class ModelBackend(Protocol):
    def models(self) -> list[str]:
        """Catalog names that have a running deployment."""

    async def call(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run ``method`` on the model's deployment; remembered per task so it can be cancelled."""

    def stream(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> AsyncIterator[Any]:
        """Streaming variant of ``call``."""

    def cancel(self, task_id: str) -> bool:
        """Cancel the in-flight call of a task; False when none is in flight here."""

    def cluster_state(self) -> dict[str, Any]:
        """Nodes (with each live node's own probe, app.bench.cluster_report.probe_node, or why it has none),
        resources, and Serve replicas per node, read from Ray's own state."""

    def model_states(self) -> dict[str, dict[str, Any]]:
        """Per deployed model: {"status": available | loading | error, "message": Serve's message or None}."""

    # Optional: ``deploy(model) -> str`` deploys a catalog model (a download with auto_assign); a backend without it
    # refuses auto_assign.
