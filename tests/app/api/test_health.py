"""/health reports the stores the gateway cannot serve without: 200 with both checks "ok", 503 with the one error
body naming the one that does not answer. The database is taken away through a TCP proxy the test stops."""

import pytest
from sqlalchemy import make_url

from tests.app.api.support import expect_error
from tests.app.security.tcp_proxy import TcpProxy
from tests.conftest import postgres_url, private_postgres_schema


def test_health_reports_both_stores(gw):
    health = gw.anonymous.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["checks"] == {"database": "ok", "rate_limit_store": "ok"}


def test_a_database_that_goes_away_makes_health_503(start_gateway):
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL is not running on localhost:5432")
    with private_postgres_schema(url) as schema:
        target = make_url(url)
        proxy = TcpProxy((target.host, target.port or 5432))
        through_proxy = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        try:
            gw = start_gateway(database_url=f"{through_proxy}?options=-csearch_path%3D{schema}")
            assert gw.anonymous.get("/health").status_code == 200
            proxy.stop()
            error = expect_error(gw.anonymous.get("/health"), 503, "SERVICE_UNAVAILABLE")
            assert error["details"]["checks"] == {"database": "unreachable", "rate_limit_store": "ok"}
        finally:
            proxy.stop()
