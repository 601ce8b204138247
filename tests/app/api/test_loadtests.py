"""Stored load tests over HTTP, in-process, on SQLite and PostgreSQL: listed newest first and paged, one read back
with its levels, percentiles and CIs as stored; guarded by benchmark.read; an unknown id is LOADTEST_NOT_FOUND."""

from app.storage.loadtests import LoadTestRepository
from tests.app.api.support import expect_error
from tests.app.storage.test_loadtests import a_result

URL = "/api/v1/loadtests"


def test_stored_load_tests_are_listed_and_read_back(gw_on_each_database):
    gw = gw_on_each_database
    repo = LoadTestRepository(gw.state.repo.db)
    first = a_result("load_eeee0001")
    repo.save(first, json_path="/r/load_eeee0001.json")
    repo.save(a_result("load_eeee0002", model="tiny-t2i"))
    listed = gw.http.get(URL).json()
    assert [item["load_test_id"] for item in listed["load_tests"]] == ["load_eeee0002", "load_eeee0001"]
    assert listed["pagination"] == {"page": 1, "limit": 20, "total": 2, "pages": 1}
    filtered = gw.http.get(URL, params={"model_name": "tiny-text", "limit": 1}).json()
    assert [item["load_test_id"] for item in filtered["load_tests"]] == ["load_eeee0001"]
    assert filtered["load_tests"][0]["concurrency"] == [1, 4]

    shown = gw.http.get(f"{URL}/load_eeee0001")
    assert shown.status_code == 200
    detail = shown.json()
    assert detail["model_name"] == "tiny-text" and detail["provenance"] == first["provenance"]
    assert "api_key" not in detail["spec"] and len(detail["spec_hash"]) == 64
    levels = detail["levels"]
    assert [lv["concurrency"] for lv in levels] == [1, 4]
    assert (levels[1]["status_429"], levels[1]["status_503"], levels[1]["errors"]) == (1, 1, 2)
    for name in ("latency_s", "ttft_s", "itl_s"):
        assert {k: v for k, v in levels[0][name].items() if v is not None} == first["levels"][0][name]
    expect_error(gw.http.get(f"{URL}/load_missing"), 404, "LOADTEST_NOT_FOUND")
    expect_error(gw.http.get(URL, params={"limit": 0}), 422)


def test_load_tests_need_benchmark_read(gw):
    expect_error(gw.anonymous.get(URL), 401)
    streamer = gw.new_key(["streaming.read"])["key"]
    expect_error(gw.http.get(URL, headers={"X-API-Key": streamer}), 403, "PERMISSION_DENIED")
    reader = gw.new_key(["benchmark.read"])["key"]
    assert gw.http.get(URL, headers={"X-API-Key": reader}).json()["load_tests"] == []
