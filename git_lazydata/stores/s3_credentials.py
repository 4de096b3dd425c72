"""Where S3 credentials come from, in the order DESIGN.md fixes.

One of the two credential chains allowed to read the environment. It takes the
boto3 session as an argument and imports nothing heavy itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .urls import StoreURL, check_credential, register_secret

__all__ = ["endpoint_from_env", "resolve_credentials"]

_ACCESS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "MINIO_ACCESS_KEY")
_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "MINIO_SECRET_KEY")


def endpoint_from_env() -> str | None:
    """The S3 endpoint the environment names (AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL)."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _same_endpoint(a: str, b: str) -> bool:
    def norm(url: str) -> tuple[str, str, int]:
        parts = urlsplit(url.strip().rstrip("/"))
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return scheme, (parts.hostname or "").lower(), port

    return norm(a) == norm(b)


def _mc_credentials(endpoint: str | None) -> tuple[str, str, str] | None:
    """Find the MinIO client alias for ``endpoint`` in ~/.mc/config.json or ~/mc/config.json."""
    home = Path(os.path.expanduser("~"))
    for path in (home / ".mc" / "config.json", home / "mc" / "config.json"):
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        aliases = config.get("aliases") or config.get("hosts") or {}
        for name, alias in sorted(aliases.items()):
            url, key, secret = alias.get("url", ""), alias.get("accessKey"), alias.get("secretKey")
            if not (url and key and secret):
                continue
            host = (urlsplit(url).hostname or "").lower()
            if (endpoint and _same_endpoint(url, endpoint)) or (
                not endpoint and host.endswith("amazonaws.com")
            ):
                return key, secret, f"{path} alias {name!r}"
    return None


def _checked(key: str | None, secret: str | None, token: str | None) -> None:
    """Refuse credentials that hold CR, LF or NUL before any request is signed with them."""
    check_credential(key, "the S3 access key")
    check_credential(secret, "the S3 secret key")
    check_credential(token, "the S3 session token")


def resolve_credentials(url: StoreURL, endpoint: str | None, session: Any) -> tuple[dict[str, str] | None, str]:
    """Resolve credentials in DESIGN.md's order: (client keyword arguments, where from).

    ``{}`` leaves them to boto3's own chain; None means anonymous (unsigned) requests.
    """
    def keys(key: str, secret: str, token: str | None = None) -> dict[str, str]:
        register_secret(secret)
        register_secret(token)
        _checked(key, secret, token)
        found = {"aws_access_key_id": key, "aws_secret_access_key": secret}
        return {**found, "aws_session_token": token} if token else found

    if url.user and url.password:
        return keys(url.user, url.password), "the user:password in the store URL"
    env = os.environ
    key = next((env[v] for v in _ACCESS_VARS if env.get(v)), None)
    secret = next((env[v] for v in _SECRET_VARS if env.get(v)), None)
    if key and secret:
        token = env.get("AWS_SESSION_TOKEN") or None
        return keys(key, secret, token), "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
    chain = session.get_credentials()  # boto3's chain: ~/.aws, profiles, SSO, IMDS...
    if chain is not None:
        frozen = chain.get_frozen_credentials()
        register_secret(frozen.secret_key)
        register_secret(frozen.token)
        _checked(frozen.access_key, frozen.secret_key, frozen.token)
        # No explicit keys: boto3 keeps refreshing temporary credentials itself.
        return {}, f"the AWS credentials from {chain.method} (~/.aws/credentials, AWS_PROFILE)"
    mc = _mc_credentials(endpoint)
    if mc is not None:
        return keys(mc[0], mc[1]), mc[2]
    return None, "credentials (none found, requests were anonymous: set AWS_ACCESS_KEY_ID)"
