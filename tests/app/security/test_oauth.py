"""The OAuth2 client (Authlib) against a small identity provider served here over real HTTP."""

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from app.errors import AuthenticationError, ValidationError
from vid_diffusion_bench.auth import OAuth2Client


@pytest.fixture
def identity_provider():
    """Issues a token for code 'good-code' when the PKCE verifier matches the challenge it was shown."""
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            seen["form"], seen["authorization"] = form, self.headers.get("Authorization")
            verifier = form.get("code_verifier", [""])[0]
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            ok = form.get("code") == ["good-code"] and challenge == seen.get("challenge")
            body = (
                {"access_token": "at-123", "token_type": "Bearer", "expires_in": 600}
                if ok
                else {"error": "invalid_grant", "error_description": "bad code or verifier"}
            )
            payload = json.dumps(body).encode()
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def _client(base: str) -> OAuth2Client:
    return OAuth2Client(
        client_id="vid-bench", client_secret="s3cret", authorization_url=f"{base}/authorize", token_url=f"{base}/token"
    )


def test_authorization_code_flow_with_pkce(identity_provider):
    base, seen = identity_provider
    client = _client(base)
    url = client.get_authorization_url("http://localhost:8080/callback", scopes=["benchmark.create", "models.read"])
    query = parse_qs(urlparse(url).query)
    assert url.startswith(f"{base}/authorize?") and query["response_type"] == ["code"]
    assert query["client_id"] == ["vid-bench"] and query["redirect_uri"] == ["http://localhost:8080/callback"]
    assert query["scope"] == ["benchmark.create models.read"] and query["state"] == [client.state]
    assert query["code_challenge_method"] == ["S256"]
    seen["challenge"] = query["code_challenge"][0]
    token = client.exchange_code_for_token("good-code", "http://localhost:8080/callback", state=client.state)
    assert token["access_token"] == "at-123"
    assert seen["form"]["grant_type"] == ["authorization_code"] and seen["authorization"].startswith("Basic ")


def test_refusals(identity_provider):
    base, seen = identity_provider
    client = _client(base)
    with pytest.raises(ValidationError):  # no authorization URL yet: no verifier to exchange with
        client.exchange_code_for_token("good-code", "http://localhost:8080/callback")
    url = client.get_authorization_url("http://localhost:8080/callback")
    seen["challenge"] = parse_qs(urlparse(url).query)["code_challenge"][0]
    with pytest.raises(AuthenticationError) as info:
        client.exchange_code_for_token("good-code", "http://localhost:8080/callback", state="forged")
    assert info.value.details["reason"] == "state"
    with pytest.raises(AuthenticationError) as info:
        client.exchange_code_for_token("bad-code", "http://localhost:8080/callback")
    assert "invalid_grant" in info.value.message
