"""An OAuth2 authorization-code client for an external identity provider, on Authlib.

Authlib builds the authorization URL (with ``state`` and a PKCE S256
challenge) and exchanges the returned code for a token; nothing OAuth-specific
is written by hand here.
"""

from __future__ import annotations

import secrets
from typing import Any

from authlib.integrations.httpx_client import OAuth2Client as _AuthlibClient

from app.errors import AuthenticationError, ValidationError


class OAuth2Client:
    def __init__(
        self, client_id: str, client_secret: str | None, authorization_url: str, token_url: str, timeout: float = 30.0
    ):
        self.authorization_url = authorization_url
        self.token_url = token_url
        self._client = _AuthlibClient(
            client_id=client_id, client_secret=client_secret, timeout=timeout, code_challenge_method="S256"
        )
        self.state: str | None = None
        self.code_verifier: str | None = None

    def get_authorization_url(self, redirect_uri: str, scopes: list[str] | None = None, **extra: Any) -> str:
        """Where to send the user; remembers the state and PKCE verifier for the exchange."""
        self.code_verifier = secrets.token_urlsafe(48)
        self._client.redirect_uri = redirect_uri
        self._client.scope = " ".join(scopes) if scopes else None
        url, self.state = self._client.create_authorization_url(
            self.authorization_url, code_verifier=self.code_verifier, **extra
        )
        return url

    def exchange_code_for_token(self, code: str, redirect_uri: str, state: str | None = None) -> dict[str, Any]:
        """Trade the code from the callback for a token (checks ``state`` when the callback's is given)."""
        if self.code_verifier is None:
            raise ValidationError("Call get_authorization_url first: the exchange needs its PKCE verifier", {})
        if state is not None and state != self.state:
            raise AuthenticationError(
                "OAuth2 state does not match: the callback is not for this request", {"reason": "state"}
            )
        self._client.redirect_uri = redirect_uri
        try:
            token = self._client.fetch_token(
                self.token_url, code=code, code_verifier=self.code_verifier, grant_type="authorization_code"
            )
        except Exception as error:  # noqa: BLE001 - Authlib raises OAuthError and httpx errors
            raise AuthenticationError(f"Token exchange failed: {error}", {"reason": "exchange"}) from None
        return dict(token)

    def close(self) -> None:
        self._client.close()
