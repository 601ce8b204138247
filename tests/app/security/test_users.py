"""Users and login tokens: Argon2 hashes, and every kind of bad JWT refused with 401."""

import base64
import json
from datetime import timedelta

import jwt
import pytest

from app.errors import AuthenticationError, UserExistsError, ValidationError
from app.security.keys import derive, server_secret
from app.storage.tables import utcnow


@pytest.fixture
def ann(auth):
    return auth.users.create("ann@example.com", "correct horse battery", ["models.read", "benchmark.read"], "pro")


def _claims(user, settings, **overrides):
    now = utcnow()
    claims = {
        "sub": user.id,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "scope": "models.read",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_password_is_stored_as_argon2_and_login_issues_a_token(auth, ann, local_settings):
    assert ann.password_hash.startswith("$argon2id$") and "correct horse" not in ann.password_hash
    user = auth.users.authenticate("ann@example.com", "correct horse battery")
    token, ttl, _ = auth.users.issue_token(user)
    principal = auth.authenticate(token)
    assert ttl == local_settings.jwt_ttl_s
    assert (principal.kind, principal.name, principal.tier) == ("user", "ann@example.com", "pro")
    assert set(principal.scopes) == {"models.read", "benchmark.read"}
    narrowed, _, granted = auth.users.issue_token(user, ["models.read", "admin"])  # asking for more gets no more
    assert granted == ["models.read"]
    assert auth.authenticate(narrowed).scopes == ("models.read",)


@pytest.mark.parametrize("username, password", [("ann@example.com", "wrong password!"), ("nobody", "whatever")])
def test_wrong_passwords_and_unknown_users_get_the_same_answer(auth, ann, username, password):
    with pytest.raises(AuthenticationError) as info:
        auth.users.authenticate(username, password)
    assert info.value.message == "Incorrect username or password"


def test_user_rules(auth, ann):
    with pytest.raises(UserExistsError):
        auth.users.create("ann@example.com", "another long password", ["models.read"])
    with pytest.raises(ValidationError):
        auth.users.create("bob", "short", ["models.read"])


def _forge(header: dict, claims: dict, key: bytes | None) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data, default=int).encode()).rstrip(b"=").decode()

    unsigned = f"{part(header)}.{part(claims)}"
    if key is None:
        return unsigned + "."
    import hashlib
    import hmac

    signature = hmac.new(key, unsigned.encode(), hashlib.sha256).digest()
    return unsigned + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def test_negative_tokens_are_refused(auth, ann, local_settings):
    key = derive(server_secret(local_settings), "jwt")
    now = utcnow()

    def signed(**overrides):
        return jwt.encode(_claims(ann, local_settings, **overrides), key, algorithm="HS256")

    numeric = {
        k: (int(v.timestamp()) if hasattr(v, "timestamp") else v) for k, v in _claims(ann, local_settings).items()
    }
    good = signed()
    header, payload, signature = good.split(".")
    tampered_payload = base64.urlsafe_b64encode(json.dumps({**numeric, "scope": "admin"}).encode()).rstrip(b"=")
    cases = {
        "expired": signed(exp=now - timedelta(seconds=5), iat=now - timedelta(minutes=10)),
        "wrong audience": signed(aud="someone-else"),
        "wrong issuer": signed(iss="https://evil.example.com"),
        "alg none": _forge({"alg": "none", "typ": "JWT"}, numeric, None),
        "tampered payload": f"{header}.{tampered_payload.decode()}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}",
        "other key": jwt.encode(_claims(ann, local_settings), b"x" * 32, algorithm="HS256"),
        "HS512 with the right key": jwt.encode(_claims(ann, local_settings), key, algorithm="HS512"),
        "no exp": signed(exp=None),
        "unknown user": signed(sub="user_0000"),
        "garbage": "not-a-token",
    }
    assert auth.authenticate(good).id == ann.id  # the untampered token works
    for name, token in cases.items():
        with pytest.raises(AuthenticationError) as info:
            auth.authenticate(token)
        assert info.value.http_status == 401, name


def test_disabled_user_loses_existing_tokens(auth, ann):
    token, _, _ = auth.users.issue_token(ann)
    auth.store.set_user_disabled(ann.username, True)
    with pytest.raises(AuthenticationError):
        auth.authenticate(token)
