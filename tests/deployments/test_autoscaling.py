"""Serve's autoscaler on the gateway's video deployment, read from ``serve.status()``.

serve.yaml lets tiny-t2v scale between one and two replicas at one ongoing request each. Here a gateway of
tiny-t2v alone, as its own Serve application beside the session's, gets the same bounds with short delays and
a short look-back window: sustained concurrent video requests must bring it to two running replicas, and
quiet must bring it back to one.
"""

from __future__ import annotations

import threading

import httpx
from ray import serve

from deployments.app import build_app
from tests.helpers import wait_until

APP, ROUTE, DEPLOYMENT = "vid-bench-autoscaling", "/autoscaling", "video-tiny-t2v"
AUTOSCALING = {
    "min_replicas": 1,
    "max_replicas": 2,
    "target_ongoing_requests": 1,
    "upscale_delay_s": 1,
    "downscale_delay_s": 5,
    "look_back_period_s": 2,
    "metrics_interval_s": 0.5,
}
VIDEO_REQUEST = {
    "model": "tiny-t2v",
    "prompt": "waves, slowly",
    "num_frames": 8,
    "num_inference_steps": 6,
    "width": 64,
    "height": 64,
}
CONCURRENT_REQUESTS = 4


def _running_replicas() -> int:
    deployment = serve.status().applications[APP].deployments[DEPLOYMENT]
    return deployment.replica_states.get("RUNNING", 0)


def test_video_deployment_scales_to_two_replicas_under_load_and_back_to_one(gateway, admin_key):
    """Measured: the RUNNING replica count of tiny-t2v's deployment while four requests are kept in flight
    (target: one per replica, so two replicas are wanted), then after the load stops."""
    serve.run(
        build_app(
            {
                "models": [
                    {
                        "name": "tiny-t2v",
                        "num_cpus": 0.1,
                        "max_ongoing_requests": 2,
                        "batching": {"max_batch_size": 2},
                        "max_queued_requests": 8,
                        "autoscaling_config": AUTOSCALING,
                    }
                ],
                "ingress_num_cpus": 0.1,
            }
        ),
        name=APP,
        route_prefix=ROUTE,
    )
    stop, statuses = threading.Event(), []

    def keep_sending() -> None:
        with httpx.Client(base_url=gateway + ROUTE, timeout=300, headers={"X-API-Key": admin_key}) as client:
            while not stop.is_set():
                statuses.append(client.post("/api/v1/inference/video-generation", json=VIDEO_REQUEST).status_code)

    senders = [threading.Thread(target=keep_sending) for _ in range(CONCURRENT_REQUESTS)]
    try:
        assert _running_replicas() == 1
        for sender in senders:
            sender.start()
        wait_until(
            _running_replicas,
            until=lambda n: n == 2,
            timeout=180,
            interval=0.5,
            what="a second running replica under load",
        )
        stop.set()
        for sender in senders:
            sender.join(timeout=300)
        wait_until(
            _running_replicas,
            until=lambda n: n == 1,
            timeout=120,
            interval=0.5,
            what="one running replica once the load stopped",
        )
        assert statuses and set(statuses) == {200}
    finally:
        stop.set()
        serve.delete(APP)
