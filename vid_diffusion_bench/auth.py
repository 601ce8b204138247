"""Authentication helpers of the SDK: the OAuth2 client for an external identity provider."""

from app.security.oauth import OAuth2Client

__all__ = ["OAuth2Client"]
