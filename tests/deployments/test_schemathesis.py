"""Schemathesis (4.x) against the real gateway: every operation of its OpenAPI schema, authenticated,
with the standard checks (no 5xx, documented statuses, content types, headers and response schemas,
negative data rejected, positive data accepted, auth not ignored).

The schema is built from ``make_app()`` at collection time (the gateway is not up yet then); the first
test proves the running gateway serves exactly this schema. Both generation modes run (positive data must be
accepted, negative data refused with a 4xx); the stateful phase follows the schema's links (create a task,
then read and cancel it; create a key, then revoke it) over ``VDB_FUZZ_STATEFUL_EXAMPLES`` scenarios.
"""

import copy
import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api import make_app

EXAMPLES_PER_OPERATION = int(os.environ.get("VDB_FUZZ_EXAMPLES", "12"))  # more for a deeper run
RANDOM = os.environ.get("VDB_FUZZ_RANDOM") == "1"  # CI replays the same examples; set 1 to explore new ones
STATEFUL_EXAMPLES = int(os.environ.get("VDB_FUZZ_STATEFUL_EXAMPLES", "5"))
OPENAPI = make_app().openapi()
schema = schemathesis.openapi.from_dict(copy.deepcopy(OPENAPI))  # schemathesis adds inferred links to it
# NUL is refused in every string (README, Reliability), which JSON Schema cannot state for free-form values
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=False)


@pytest.fixture(scope="session")
def fuzz_key(gateway, admin_key) -> str:
    """An admin key of its own: the fuzzing spends its own quota, not the other tests' admin key's."""
    created = httpx.post(gateway + "/api/v1/auth/api-keys", headers={"X-API-Key": admin_key}, timeout=60,
                         json={"name": "schemathesis", "permissions": ["admin"], "tier": "enterprise"})
    assert created.status_code == 201
    return created.json()["key"]


def test_the_gateway_serves_this_schema(gateway):
    served = httpx.get(gateway + "/openapi.json", timeout=60).json()
    assert served == OPENAPI
    operations = {(method.upper(), path) for path, item in OPENAPI["paths"].items() for method in item}
    assert ("POST", "/api/v1/inference/video-generation") in operations and len(operations) >= 30


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=not RANDOM,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, gateway, fuzz_key):
    case.call_and_validate(base_url=gateway, headers={"X-API-Key": fuzz_key}, timeout=120,
                           excluded_checks=_checks_not_stated_by(case))


SEMANTIC_ONLY = {("GET", "/api/v1/analytics/models/compare")}
"""Operations whose valid inputs JSON Schema cannot state: the compared models must be 2 to 10 *distinct* names
with per-video values of the metric. Every other check still runs on them, and the in-process tests
(tests/app/api/test_analytics.py) check their 400s."""


def _checks_not_stated_by(case) -> list:
    return [positive_data_acceptance] if (case.method.upper(), case.path) in SEMANTIC_ONLY else []


# Workflows never start a benchmark or a stream (minutes of generation each) or a download: the rest is followed.
Workflow = schema.exclude(method="POST", path=["/api/v1/benchmarks", "/api/v1/models/download",
                                                          "/api/v1/streaming/benchmarks"]).as_state_machine()


def test_api_workflows_conform_to_the_schema(gateway, fuzz_key):
    class Calls(Workflow):
        def get_call_kwargs(self, case):
            return {"base_url": gateway, "headers": {"X-API-Key": fuzz_key}, "timeout": 120}

        def validate_response(self, response, case, **kwargs):
            kwargs["excluded_checks"] = [*(kwargs.get("excluded_checks") or []), *_checks_not_stated_by(case)]
            return super().validate_response(response, case, **kwargs)

    Calls.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=6, deadline=None,
                                database=None, derandomize=not RANDOM, suppress_health_check=list(HealthCheck)))
