"""Schemathesis (4.x) against the real gateway, as a smoke run: every operation of its OpenAPI schema, authenticated,
with the standard checks (no 5xx, documented statuses, content types, headers and response schemas,
negative data rejected, auth not ignored) but the positive-data one (see NOT_STATABLE).

The schema is built from ``make_app()`` at collection time (the gateway is not up yet then); the first
test proves the running gateway serves exactly this schema. Both generation modes run (negative data must be
refused with a 4xx); the stateful phase follows the schema's links (create a task,
then read and cancel it; create a key, then revoke it) over ``VDB_FUZZ_SERVE_STATEFUL_EXAMPLES`` scenarios.

The deep run (12 examples per operation, 5 workflows) is in-process over the fake backend
(tests/app/api/test_schemathesis.py), where it takes a minute; here a few examples per operation prove that the
same contracts hold through Serve's proxy, the ingress and the real model replicas.
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

EXAMPLES_PER_OPERATION = int(os.environ.get("VDB_FUZZ_SERVE_EXAMPLES", "3"))  # more for a deeper run
RANDOM = os.environ.get("VDB_FUZZ_RANDOM") == "1"  # CI replays the same examples; set 1 to explore new ones
STATEFUL_EXAMPLES = int(os.environ.get("VDB_FUZZ_SERVE_STATEFUL_EXAMPLES", "2"))
OPENAPI = make_app().openapi()
schema = schemathesis.openapi.from_dict(copy.deepcopy(OPENAPI))  # schemathesis adds inferred links to it
# NUL is refused in every string (README, Reliability), which JSON Schema cannot state for free-form values
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=False)


@pytest.fixture(scope="session")
def fuzz_key(gateway, admin_key) -> str:
    """An admin key of its own: the fuzzing spends its own quota, not the other tests' admin key's."""
    created = httpx.post(
        gateway + "/api/v1/auth/api-keys",
        headers={"X-API-Key": admin_key},
        timeout=60,
        json={"name": "schemathesis", "permissions": ["admin"], "tier": "enterprise"},
    )
    assert created.status_code == 201
    return created.json()["key"]


def test_the_gateway_serves_this_schema(gateway):
    served = httpx.get(gateway + "/openapi.json", timeout=60).json()
    assert served == OPENAPI
    operations = {(method.upper(), path) for path, item in OPENAPI["paths"].items() for method in item}
    assert ("POST", "/api/v1/inference/video-generation") in operations and len(operations) >= 30


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, gateway, fuzz_key):
    case.call_and_validate(base_url=gateway, headers={"X-API-Key": fuzz_key}, timeout=120, excluded_checks=NOT_STATABLE)


NOT_STATABLE = [positive_data_acceptance]
"""Schemathesis' positive-data check (any schema-valid request is accepted) is left out: many of the API's rules
are semantic and JSON Schema cannot state them (a catalog model that exists and has that modality, a Laplace
mechanism without delta, distinct compared models, a parameter grid with values, a size that parses as
WIDTHxHEIGHT). Every other check runs on every operation: no 5xx, documented statuses, content types, headers,
response schemas, negative data refused, authentication not ignored. What valid requests get is tested by the
functional tests, in-process and on Serve."""


# Workflows never start a benchmark or a stream (minutes of generation each) or a download: the rest is followed.
Workflow = schema.exclude(
    method="POST", path=["/api/v1/benchmarks", "/api/v1/models/download", "/api/v1/streaming/benchmarks"]
).as_state_machine()


def test_api_workflows_conform_to_the_schema(gateway, fuzz_key):
    class Calls(Workflow):
        def get_call_kwargs(self, case):
            return {"base_url": gateway, "headers": {"X-API-Key": fuzz_key}, "timeout": 120}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # schemathesis' own method with the one exclusion added (it has no parameter for it)
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=NOT_STATABLE,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Calls.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            suppress_health_check=list(HealthCheck),
        )
    )
