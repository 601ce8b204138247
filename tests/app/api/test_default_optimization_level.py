"""REST benchmarks without an optimization level take the gateway's optimization_level setting."""

from __future__ import annotations


def test_rest_default_follows_the_gateways_setting(start_gateway):
    gw = start_gateway(optimization_level="performance")
    body = {"model_name": "tiny-t2v", "prompts": ["A cat"]}
    created = gw.http.post("/api/v1/benchmarks", json=body)  # the performance profile (fp16) on this CPU gateway:
    assert created.status_code == 400 and created.json()["error"]["details"] == {"precision": "fp16", "device": "cpu"}
