"""One Ray Serve gateway for all gateway tests: tiny models on CPU, on a free local port."""

import socket

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gateway(ray_session, settings):
    from ray import serve

    from deployments.app import build_app

    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    config = {"models": [
        # one request at a time and a queue of one, so the overload test can fill it
        {"name": "tiny-t2v", "num_cpus": 0.1, "max_ongoing_requests": 1, "max_queued_requests": 1},
        {"name": "tiny-t2i", "num_cpus": 0.1},
        {"name": "tiny-text", "num_cpus": 0.1},
        {"name": "tiny-tts", "num_cpus": 0.1},
    ], "ingress_num_cpus": 0.1}
    serve.run(build_app(config), name="vid-bench", route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.delete("vid-bench")
    serve.shutdown()


@pytest.fixture
def client(gateway):
    import httpx

    with httpx.Client(base_url=gateway, timeout=300) as c:
        yield c
