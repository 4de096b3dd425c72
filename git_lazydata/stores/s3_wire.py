"""Single-object S3 requests without the rest of botocore's client: the hot path of many small objects.

A boto3 client spends about 2.5 ms of CPU on each request (parameter checks, endpoint
rules, a dozen event handlers, response parsing), under the interpreter lock: 5,000
objects of 16 KiB were 5 s of one core before any byte moved. GET, PUT and HEAD of
one object need none of that. Here a request is built by hand, signed by botocore's
own SigV4 signer with the credentials the client resolved (refreshed as botocore
refreshes them), and sent over botocore's own pooled HTTP session (its proxies,
certificates and timeouts): about 0.5 ms of CPU. Errors come back as the botocore
exceptions the client would raise (ClientError with the server's code and headers,
EndpointConnectionError, ...), so S3Store maps them the way it maps the client's.

Only stores with an explicit endpoint (S3-compatible servers, path-style addressing,
one region) take this path; AWS itself keeps the full client, which follows region
redirects and virtual-hosted addressing.
"""

from __future__ import annotations

import re
import socket
from typing import Any
from urllib.parse import quote

from botocore import exceptions as bx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpsession import URLLib3Session
from botocore.response import StreamingBody
from botocore.utils import get_environ_proxies

__all__ = ["Wire"]

_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{0,300})</Message>")


class _Signer(S3SigV4Auth):
    """botocore's S3 signer, taking a payload hash the caller already has.

    Over plain HTTP botocore signs the body's SHA-256 and hashes the body for it; for
    an object, that hash is its oid, and hashing it again cost one more pass over every
    byte uploaded.
    """

    def payload(self, request: AWSRequest) -> str:
        """The SHA-256 (hex) that the signature covers: the caller's, or botocore's own."""
        known: str | None = request.context.get("payload_sha256")
        return known if known is not None else super().payload(request)


class Wire:
    """Signed requests for single objects of one bucket, over kept-alive connections."""

    def __init__(self, endpoint: str, bucket: str, region: str, credentials: Any, *, http: Any = None,
                 pool: int, connect_timeout: float, read_timeout: float) -> None:
        """``credentials``: botocore Credentials (perhaps refreshable), or None for anonymous requests.

        ``http``: the client's own HTTP session, so that requests share its connection
        pool, proxies, certificate bundle and timeouts; without one, a session of our own
        with the environment's proxies.
        """
        self._base = f"{endpoint.rstrip('/')}/{quote(bucket, safe='')}/"
        self._region = region
        self._credentials = credentials
        self._own = http is None
        # TCP_NODELAY, as botocore's client sets it: without it a request whose headers and
        # body go out in two writes waits for the server's delayed ACK (40 ms on Linux).
        self._http = http or URLLib3Session(
            timeout=(connect_timeout, read_timeout), max_pool_connections=pool,
            proxies=get_environ_proxies(endpoint),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])

    def _send(self, operation: str, method: str, key: str, headers: dict[str, str], *,
              body: bytes | None = None, payload_sha256: str | None = None,
              stream: bool = False) -> Any:
        """Send one request; return the response, or raise what botocore's client would.

        ``payload_sha256``: the body's SHA-256 (hex), when the caller knows it already.
        """
        request = AWSRequest(method=method, url=self._base + quote(key, safe="/~"), data=body,
                             headers=headers)
        if self._credentials is not None:
            frozen = self._credentials.get_frozen_credentials()
            if payload_sha256 is not None:
                request.context["payload_sha256"] = payload_sha256
            _Signer(Credentials(frozen.access_key, frozen.secret_key, frozen.token), "s3",
                    self._region).add_auth(request)
        prepared = request.prepare()
        prepared.stream_output = stream
        for attempt in (1, 2):
            try:
                response = self._http.send(prepared)
                break
            except bx.ConnectionClosedError:
                if attempt == 2:  # a kept-alive connection the server had closed: once more
                    raise
        if response.status_code >= 300:
            content = b"" if method == "HEAD" else response.content
            code = _CODE.search(content)
            message = _MESSAGE.search(content)
            raise ClientError({
                "Error": {"Code": code.group(1).decode() if code else str(response.status_code),
                          "Message": message.group(1).decode("utf-8", "replace") if message else ""},
                "ResponseMetadata": {"HTTPStatusCode": response.status_code,
                                     "HTTPHeaders": {k.lower(): v for k, v in response.headers.items()}},
            }, operation)
        return response

    def put(self, key: str, data: bytes, *, sha256_hex: str, sha256_b64: str,
            md5_b64: str | None) -> dict[str, str]:
        """PUT ``data``; the server checks its MD5 when given (and its SHA-256, where it can). Return the reply's headers."""
        headers = {"Content-Length": str(len(data)), "x-amz-checksum-sha256": sha256_b64}
        if md5_b64 is not None:
            headers["Content-MD5"] = md5_b64
        response = self._send("PutObject", "PUT", key, headers, body=data, payload_sha256=sha256_hex)
        return {k.lower(): v for k, v in response.headers.items()}

    def head(self, key: str, *, checksum: bool = False) -> tuple[int, str | None]:
        """Return the object's size and the SHA-256 (base64) the server keeps for it, if it says.

        ``checksum``: ask for that SHA-256 (S3 answers with it only when asked). A
        ClientError with status 404 when the object is absent.
        """
        response = self._send("HeadObject", "HEAD", key, {"x-amz-checksum-mode": "ENABLED"} if checksum else {})
        return int(response.headers.get("Content-Length", "0")), response.headers.get("x-amz-checksum-sha256")

    def get(self, key: str, range_header: str | None) -> tuple[StreamingBody, dict[str, str]]:
        """Start a GET; return its body (read it to the end or close it) and the headers."""
        response = self._send("GetObject", "GET", key, {"Range": range_header} if range_header else {},
                              stream=True)
        headers = {k.lower(): v for k, v in response.headers.items()}
        return StreamingBody(response.raw, int(headers.get("content-length", "0"))), headers

    def close(self) -> None:
        """Close the pooled connections (the client closes its own session)."""
        if self._own:
            self._http.close()
