"""Whole-object GETs through obstore, whose Rust core signs, sends and receives outside the interpreter lock.

Even on the lean wire path (s3_wire.py), a GET costs about 0.4 ms of CPU under the
interpreter lock: botocore's signer, http.client and its header parser. With many
small objects that is what the download threads queue for, and a server then waits
for requests instead of answering them: 5,000 objects of 16 KiB from a local server
took 5.0-5.8 s and 3.5-4.1 s of client CPU on eight threads, against 3.3-4.6 s and
1.1-1.5 s through obstore, the same as the bare GETs of no tool.

obstore only carries the bytes. Credentials still come from boto3's chain: obstore
asks this module for them (refreshed as botocore refreshes them). Any failure to
start a GET returns None, and the caller sends the same request the usual way, whose
error is then the one reported; that keeps every status, code and Retry-After
mapped in one place (s3.py). When that request succeeds, obstore is not asked again
by this store. (A throttled or missing object costs one request more, at once.) A
failure while the body streams is raised as botocore's ResponseStreamingError, which
the store reports as transient. obstore retries nothing: the transfer engine does.

Taken only where s3_wire.py takes its direct path, a plain-HTTP endpoint that no
proxy stands in front of, and only for whole objects. The cache fetches objects under
1 MiB whole and bigger ones by range (resumable), which stay on http.client: for them
obstore saved nothing (200 objects of 4 MiB: 2.5-3.0 s either way) and held more
memory. Other whole reads of big objects (a download that starts over from byte 0,
a copy between stores, fsck --read-data) stream through obstore in 256 KiB pieces.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import obstore
from botocore import exceptions as bx
from obstore.store import S3Store as _ObjectStore

__all__ = ["FastReads"]

#: The stream of a body hands over pieces of at least this size (the last may be smaller).
PIECE = 256 * 1024
#: How long obstore keeps credentials before asking again (botocore refreshes them on the way).
CREDENTIALS_TTL = timedelta(minutes=5)


class FastReads:
    """Whole-object GETs of one bucket on one endpoint."""

    def __init__(self, endpoint: str, bucket: str, region: str, credentials: Any, *,
                 connect_timeout: float, read_timeout: float) -> None:
        """``credentials``: botocore Credentials (perhaps refreshable), or None for anonymous requests."""
        self._credentials = credentials
        self._lock = threading.Lock()
        parts = urlsplit(endpoint)  # scheme, host and port only: never a user:password of the URL
        endpoint = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path.rstrip('/')}"
        # obstore also reads AWS_* variables from the environment; every one that could
        # send a GET elsewhere or change it is set here, as the rest of the store has it.
        self._options: dict[str, Any] = {
            "endpoint": endpoint,
            "aws_endpoint_url_s3": endpoint,  # the variable of that name would win over "endpoint"
            "region": region,
            "default_region": region,
            "virtual_hosted_style_request": False,
            "s3_express": False,
            "request_payer": False,
            "skip_signature": credentials is None,
            "unsigned_payload": False,
            # Else AWS_SERVER_SIDE_ENCRYPTION=sse-c would send AWS_SSE_CUSTOMER_KEY_BASE64
            # with every GET; S3 encryption (AES256) adds nothing to a GET.
            "server_side_encryption": "AES256",
            "client_options": {
                "allow_http": True,
                "connect_timeout": timedelta(seconds=connect_timeout),
                "read_timeout": timedelta(seconds=read_timeout),
                "timeout": timedelta(days=1),  # a big object may take long; a stall is the read timeout
            },
            "retry_config": {"max_retries": 0},
        }
        self._bucket = bucket
        self._store: _ObjectStore | None = None
        self._off = False  # closed, or a GET it could not make went through the usual way

    def stop(self) -> None:
        """Send no more GETs this way: the usual way did what obstore could not.

        Without this, whatever keeps obstore from answering (a setting of its own,
        a server it cannot talk to) would cost every object a second request.
        """
        self._off = True

    def _made(self) -> _ObjectStore:
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    provider = self._provide if self._credentials is not None else None
                    self._store = _ObjectStore(self._bucket, credential_provider=provider, **self._options)
                store = self._store
        return store

    def _provide(self) -> dict[str, Any]:
        frozen = self._credentials.get_frozen_credentials()
        return {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key,
                "token": frozen.token, "expires_at": datetime.now(timezone.utc) + CREDENTIALS_TTL}

    def get(self, key: str) -> tuple[Body, int] | None:
        """Start a GET of the whole object at ``key``: its body and size, or None if it could not start."""
        if self._off:
            return None
        try:
            result = obstore.get(self._made(), key)
            return Body(result.stream(min_chunk_size=PIECE)), int(result.meta["size"])
        except Exception:  # noqa: BLE001 - the usual path asks again and reports what went wrong
            return None

    def close(self) -> None:
        """Let go of the connections (obstore closes them when its store is dropped)."""
        with self._lock:
            self._store = None
            self._off = True


class Body:
    """The body of a GET as it streams, read in pieces of any size."""

    def __init__(self, pieces: Any) -> None:
        self._pieces = pieces
        self._data = b""
        self._at = 0

    def read(self, amt: int | None = None) -> bytes:
        """Return up to ``amt`` bytes (all that is left when None); b"" at the end."""
        if self._at >= len(self._data):
            try:
                piece = next(self._pieces, None)
            except Exception as exc:  # noqa: BLE001 - a cut connection, a timeout: raised as urllib3's would be
                self.close()
                # obstore's text goes on with a multi-line debug dump: its first line says it.
                raise bx.ResponseStreamingError(error=str(exc).strip().split("\n")[0]) from exc
            if piece is None:
                return b""
            self._data, self._at = bytes(piece), 0
        if amt is None:
            parts = [self._data[self._at:]]
            self._data, self._at = b"", 0
            while part := self.read(PIECE):
                parts.append(part)
            return b"".join(parts)
        if self._at == 0 and amt >= len(self._data):
            data, self._data = self._data, b""
            return data
        data = self._data[self._at:self._at + amt]
        self._at += len(data)
        return data

    def close(self) -> None:
        """Drop the rest of the body (its connection goes with it unless it was read to the end)."""
        self._pieces = iter(())
        self._data, self._at = b"", 0
