"""Error messages in the client's language (Accept-Language), the code never translated, Content-Language set."""

from __future__ import annotations

import pytest

from tests.app.api.support import expect_error


def test_accept_language_es_gives_a_spanish_error(gw):
    response = gw.http.get("/api/v1/benchmarks/bench_nope", headers={"Accept-Language": "es"})
    error = expect_error(response, 404, "BENCHMARK_NOT_FOUND")
    assert error["message"] == "No se encontró el benchmark 'bench_nope'"
    assert error["details"] == {"benchmark_id": "bench_nope"}
    assert response.headers["content-language"] == "es"


@pytest.mark.parametrize(
    "header, language, message",
    [
        (None, "en", "Benchmark 'bench_nope' not found"),
        ("fr-CA,fr;q=0.9", "fr", "Benchmark « bench_nope » introuvable"),
        ("pt-BR, de;q=0.5", "de", "Benchmark „bench_nope“ nicht gefunden"),
        ("ja", "ja", "ベンチマーク 'bench_nope' が見つかりません"),
        ("zh-Hans-CN", "zh-CN", "未找到基准测试“bench_nope”"),
        ("zh-TW", "en", "Benchmark 'bench_nope' not found"),  # no catalog: English, and the header says so
    ],
)
def test_negotiated_language(gw, header, language, message):
    headers = {"Accept-Language": header} if header else {}
    response = gw.http.get("/api/v1/benchmarks/bench_nope", headers=headers)
    assert expect_error(response, 404, "BENCHMARK_NOT_FOUND")["message"] == message
    assert response.headers["content-language"] == language


def test_validation_authentication_and_unknown_paths_are_translated(gw):
    invalid = gw.http.post("/api/v1/benchmarks", json={"model_name": "tiny-t2v"}, headers={"Accept-Language": "es"})
    assert (
        expect_error(invalid, 422, "INVALID_PARAMETERS")["message"]
        == "El cuerpo o los parámetros de la solicitud no son válidos"
    )
    anonymous = gw.anonymous.get("/api/v1/benchmarks", headers={"Accept-Language": "de"})
    assert expect_error(anonymous, 401, "AUTHENTICATION_FAILED")["message"].startswith("Anmeldedaten erforderlich")
    unknown = gw.anonymous.get("/api/v1/nowhere", headers={"Accept-Language": "ja"})
    assert expect_error(unknown, 404)["message"] == "見つかりません"


def test_an_untranslated_message_stays_english_and_says_so(gw):
    response = gw.http.get("/api/v1/benchmarks?created_after=2025-02-30T00:00:00Z", headers={"Accept-Language": "es"})
    error = expect_error(response, 400)
    assert error["message"].startswith("created_after is not a real date-time")
    assert response.headers["content-language"] == "en"


def test_gateway_default_locale_applies_without_accept_language(start_gateway):
    gw = start_gateway(default_locale="fr")  # as serve.yaml's args.settings or `vid-bench config` set it
    response = gw.http.get("/api/v1/benchmarks/bench_nope")
    assert expect_error(response, 404, "BENCHMARK_NOT_FOUND")["message"] == "Benchmark « bench_nope » introuvable"
    assert response.headers["content-language"] == "fr"
    english = gw.http.get("/api/v1/benchmarks/bench_nope", headers={"Accept-Language": "en"})
    assert expect_error(english, 404)["message"] == "Benchmark 'bench_nope' not found"


def test_websocket_errors_follow_the_handshake_language(gw):
    headers = {"X-API-Key": "vdb_" + "1" * 43, "Accept-Language": "fr"}
    with gw.anonymous.websocket_connect("/api/v1/ws", headers=headers) as ws:
        error = ws.receive_json()["error"]
    assert error["code"] == "AUTHENTICATION_FAILED" and error["message"] == "Clé d'API inconnue"


def test_parameter_refusals_are_translated(gw):
    response = gw.http.post(
        "/api/v1/benchmarks",
        headers={"Accept-Language": "es"},
        json={"model_name": "tiny-t2v", "prompts": ["A cat"], "parameters": {"num_frames": 99}},
    )
    error = expect_error(response, 400, "INVALID_PARAMETERS")
    assert error["message"].startswith("num_frames=99 está fuera del rango que admite tiny-t2v")
    assert error["details"]["parameter"] == "num_frames"  # details stay as they are, in any language
