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
redirects and virtual-hosted addressing. On a plain-HTTP endpoint that no proxy
stands in front of, requests skip urllib3 too (:class:`_Direct`), and whole objects
come through obstore (s3_reads.py).
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
from typing import Any
from urllib.parse import quote, urlsplit

from botocore import exceptions as bx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpsession import URLLib3Session
from botocore.response import StreamingBody
from botocore.utils import get_environ_proxies

from .s3_reads import FastReads

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
        proxies = get_environ_proxies(endpoint)
        # TCP_NODELAY, as botocore's client sets it: without it a request whose headers and
        # body go out in two writes waits for the server's delayed ACK (40 ms on Linux).
        self._http = http or URLLib3Session(
            timeout=(connect_timeout, read_timeout), max_pool_connections=pool, proxies=proxies,
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        plain = urlsplit(endpoint).scheme == "http" and not proxies
        self._direct = _Direct(endpoint, connect_timeout, read_timeout, pool) if plain else None
        self._reads = FastReads(endpoint, bucket, region, credentials, connect_timeout=connect_timeout,
                                read_timeout=read_timeout) if plain else None

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
                if self._direct is not None:
                    response = self._direct.send(prepared, stream=stream)
                else:
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

    def get(self, key: str, range_header: str | None) -> tuple[Any, dict[str, str]]:
        """Start a GET; return its body (read it to the end or close it) and the headers.

        A whole object on the direct path comes through obstore (s3_reads.py) when it can.
        """
        fast = self._reads if range_header is None else None
        if fast is not None:
            started = fast.get(key)
            if started is not None:
                body, size = started
                return body, {"content-length": str(size)}
        response = self._send("GetObject", "GET", key, {"Range": range_header} if range_header else {},
                              stream=True)
        if fast is not None:
            fast.stop()  # this way answered where obstore did not
        headers = {k.lower(): v for k, v in response.headers.items()}
        return StreamingBody(response.raw, int(headers.get("content-length", "0"))), headers

    def close(self) -> None:
        """Close the pooled connections (the client closes its own session)."""
        if self._direct is not None:
            self._direct.close()
        if self._reads is not None:
            self._reads.close()
        if self._own:
            self._http.close()


class _Direct:
    """Requests over http.client, on kept-alive connections shared by all threads, for a plain-HTTP endpoint.

    urllib3's pool and botocore's session around it cost about 0.5 ms of CPU per
    request, under the interpreter lock, on top of http.client's 0.2 ms (one thread,
    16 KiB GETs from a local server; signing adds 0.2 ms): for many small objects that
    was the biggest share of the client's work. What urllib3 adds beyond this (TLS,
    proxies) is only needed where this path is not taken. A connection goes back to
    the pool once its answer is read whole, and is closed when an answer is left
    before its end (its next bytes would be the rest). Failures are raised as the
    botocore exceptions urllib3's would become.
    """

    def __init__(self, endpoint: str, connect_timeout: float, read_timeout: float, pool: int) -> None:
        """Connect to ``endpoint`` (http://host[:port]) when asked; keep up to ``pool`` idle connections."""
        parts = urlsplit(endpoint)
        self._endpoint = endpoint
        self._host, self._port = parts.hostname or "", parts.port or 80
        self._timeouts = (connect_timeout, read_timeout)
        self._pool = pool
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def send(self, prepared: Any, *, stream: bool) -> _Reply:
        """Send a prepared request; the reply's body is read whole unless ``stream``."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeouts[0])
        target = urlsplit(prepared.url)
        path = target.path + (f"?{target.query}" if target.query else "")
        connecting = conn.sock is None
        try:
            if connecting:  # a new connection, or one the server said it would close
                conn.connect()
                conn.sock.settimeout(self._timeouts[1])
                connecting = False
            conn.request(prepared.method, path, body=prepared.body, headers=dict(prepared.headers.items()))
            response = conn.getresponse()
        except Exception as exc:
            conn.close()
            raise _botocore_error(exc, self._endpoint, connecting) from exc
        return _Reply(_Body(response, lambda: self._give(conn), conn.close), whole=not stream)

    def _give(self, conn: http.client.HTTPConnection) -> None:
        """Take back a connection whose last answer was read whole."""
        with self._lock:
            if not self._closed and len(self._idle) < self._pool:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections; those in use are closed as they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _Reply:
    """The parts of a response that Wire reads, over http.client's."""

    def __init__(self, body: _Body, *, whole: bool) -> None:
        self.status_code = body.response.status
        self.headers = body.response.msg  # names in any case, as urllib3's
        self.raw = body
        self._content = body.read() if whole else None

    @property
    def content(self) -> bytes:
        """The whole body (read once)."""
        if self._content is None:
            self._content = self.raw.read()
        return self._content


class _Body:
    """A response body that hands its connection back when read whole, and closes it when left early."""

    def __init__(self, response: http.client.HTTPResponse, give: Any, drop: Any) -> None:
        self.response = response
        self._give, self._drop = give, drop
        self._settled = False

    def read(self, amt: int | None = None) -> bytes:
        try:
            data = self.response.read(amt)
        except http.client.HTTPException as exc:  # not an OSError: say what urllib3 would
            self._settle()
            raise bx.ResponseStreamingError(error=exc) from exc
        except OSError:
            self._settle()
            raise
        if self.response.isclosed():
            self._settle()
        return data

    def close(self) -> None:
        self._settle()
        self.response.close()

    def _settle(self) -> None:
        """Give the connection back if the answer was read to its end, else close it; once."""
        if self._settled:
            return
        self._settled = True
        whole = self.response.isclosed() and self.response.length in (0, None)
        (self._give if whole else self._drop)()


def _botocore_error(exc: Exception, endpoint: str, connecting: bool) -> Exception:
    """The botocore exception that urllib3's session raises for ``exc``."""
    if isinstance(exc, bx.BotoCoreError):
        return exc
    if isinstance(exc, socket.timeout):
        kind = bx.ConnectTimeoutError if connecting else bx.ReadTimeoutError
        return kind(endpoint_url=endpoint, error=exc)
    if connecting and isinstance(exc, OSError):
        return bx.EndpointConnectionError(endpoint_url=endpoint, error=exc)
    if isinstance(exc, (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)):
        return bx.ConnectionClosedError(endpoint_url=endpoint, error=exc)
    return bx.HTTPClientError(error=exc)
