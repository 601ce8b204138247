"""Schemathesis (4.x) over the gateway's FastAPI app in-process (fake model backend, SQLite, no Ray): every
operation of the OpenAPI schema, authenticated, with every standard check but positive-data acceptance
(tests/deployments/test_schemathesis.py says why): no 5xx, documented statuses, content types, headers and
response schemas, negative data refused, authentication not ignored; then the stateful phase along the schema's
links. The same schema is smoke-tested against the real Serve gateway in tests/deployments/test_schemathesis.py."""

from __future__ import annotations

import copy
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api import make_app

pytestmark = pytest.mark.slow  # about a minute for the whole schema: out of the in-process tier's 60 s

EXAMPLES_PER_OPERATION = int(os.environ.get("VDB_FUZZ_EXAMPLES", "12"))  # more for a deeper run
RANDOM = os.environ.get("VDB_FUZZ_RANDOM") == "1"  # CI replays the same examples; set 1 to explore new ones
STATEFUL_EXAMPLES = int(os.environ.get("VDB_FUZZ_STATEFUL_EXAMPLES", "5"))
APP = make_app()
schema = schemathesis.openapi.from_dict(copy.deepcopy(APP.openapi()))  # schemathesis adds inferred links to it
schema.app = APP  # calls go through the ASGI transport, to whatever gateway state the test installed
# NUL is refused in every string (README, Reliability), which JSON Schema cannot state for free-form values
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=False)
NOT_STATABLE = [positive_data_acceptance]
HYPOTHESIS = {"deadline": None, "database": None, "derandomize": not RANDOM, "suppress_health_check": list(HealthCheck)}


@pytest.fixture
def fuzz_key(gw) -> str:
    """An enterprise admin key of its own, as on the real gateway."""
    return gw.new_key(["admin"], tier="enterprise", name="schemathesis")["key"]


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, **HYPOTHESIS)
def test_api_conforms_to_its_schema(case, fuzz_key):
    case.call_and_validate(headers={"X-API-Key": fuzz_key}, excluded_checks=NOT_STATABLE)


# Workflows never start a benchmark or a stream or a download (the fake backend does not run them).
Workflow = schema.exclude(
    method="POST", path=["/api/v1/benchmarks", "/api/v1/models/download", "/api/v1/streaming/benchmarks"]
).as_state_machine()


def test_api_workflows_conform_to_the_schema(fuzz_key):
    class Calls(Workflow):
        def get_call_kwargs(self, case):
            return {"headers": {"X-API-Key": fuzz_key}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # schemathesis' own method with the one exclusion added (it has no parameter for it)
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=NOT_STATABLE,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Calls.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=6, **HYPOTHESIS))
