"""A store in an S3 bucket, on AWS or any S3-compatible service (MinIO, Ceph, R2...).

The only module that imports boto3/botocore. Presence is checked with HEAD on the
exact key (never LIST), and only a 404 means absent (RELIABILITY.md section 2, S3).
A single PUT is atomic; a multipart upload becomes visible only on completion, and
an interrupted one is resumed by reusing the parts whose MD5 matches the local bytes.
"""

from __future__ import annotations

import base64
import hashlib
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore
from botocore import exceptions as bx
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import (
    ChecksumMismatch,
    ConfigError,
    LazyError,
    ObjectMissing,
    RangeNotHonoured,
    StoreAuthError,
    StoreError,
    StoreUnreachable,
    TransientStoreError,
)
from ..pointer import is_oid, object_key
from . import s3_endpoint, store_ident
from .base import (
    CHUNK,
    MARKER,
    STALE_TEMP_SECONDS,
    ProgressFn,
    RangeReader,
    Source,
    check_format,
    check_range,
    parallel,
    retry_after,
    verifying,
)
from .s3_credentials import resolve_credentials
from .s3_wire import Wire
from .urls import StoreURL, redact

__all__ = ["MIN_PART_SIZE", "MULTIPART_THRESHOLD", "PART_SIZE", "S3Store"]

#: Objects up to this size go up in one PUT; larger ones in parts.
MULTIPART_THRESHOLD = 64 << 20
#: Size of each part of a multipart upload.
PART_SIZE = 16 << 20
#: The smallest part S3 accepts (all but the last part).
MIN_PART_SIZE = 5 << 20
#: Parts of one object uploaded at once.
PART_THREADS = 4
#: Concurrent HEAD requests in missing().
HEAD_THREADS = 32
#: Objects up to this size are read (and verified) into memory and sent with their MD5.
SMALL_PUT = 1024 * 1024
#: Objects up to this size are read (and verified) into memory and sent in one go, with
#: their SHA-256 (the oid) as the payload hash and checksum instead of a second pass:
#: botocore would hash a streamed body again to sign it over plain HTTP, and wait for
#: "100 Continue". MD5, at 0.5 GB/s, costs more than the HEAD it would spare.
MEMORY_PUT = 8 * 1024 * 1024
#: From this many oids on, missing() lists shards instead of sending a HEAD per object.
LIST_AT = 256
#: From this many oids on, missing() first asks for one page of the whole listing: a new
#: or small store (up to PAGE_KEYS objects) then answers for all of them at once.
PAGE_AT = 16
PAGE_KEYS = 1000
#: Multipart uploads older than this under our prefix are taken as abandoned.
STALE_UPLOAD = timedelta(seconds=STALE_TEMP_SECONDS)
#: The largest object one CopyObject request copies (S3's limit).
COPY_LIMIT = 5 << 30

_AUTH_CODES = {
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
    "AllAccessDisabled", "AccountProblem", "InvalidSecurity", "NotSignedUp",
    "AuthorizationHeaderMalformed", "Forbidden", "Unauthorized", "401", "403",
}
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"}
_TRANSIENT_CODES = {
    "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
    "ServiceUnavailable", "RequestLimitExceeded", "TooManyRequests", "429",
    "BadDigest", "XAmzContentSHA256Mismatch",  # bytes changed on the way: send again
}
_MISSING_CODES = {"NoSuchKey", "NotFound", "404"}


def _code(exc: ClientError) -> tuple[str, int]:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(error.get("Code", status)), int(status or 0)


class _Slice:
    """A seekable view of ``[offset, offset + length)`` of a source's object: one multipart part.

    botocore reads a body to sign it and seeks back to send it: a seek opens the source
    again at the new place (a local file costs an open, a store a ranged request).
    """

    def __init__(self, source: Source, oid: str, offset: int, length: int) -> None:
        self._source, self._oid = source, oid
        self._offset, self._length = offset, length
        self._pos = 0
        self._stream = source.open(oid, offset, offset + length)

    def read(self, n: int = -1) -> bytes:
        left = self._length - self._pos
        n = left if n is None or n < 0 else min(n, left)
        data = self._stream.read(n) if n > 0 else b""
        self._pos += len(data)
        return data

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._length}[whence]
        target = max(0, min(self._length, base + pos))
        if target != self._pos:
            self._stream.close()
            self._stream = self._source.open(self._oid, self._offset + target, self._offset + self._length)
            self._pos = target
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._stream.close()


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _sha256_args(oid: str) -> dict[str, str]:
    """The arguments that make S3 check a PUT's bytes against the oid, which is their SHA-256."""
    return {"ChecksumAlgorithm": "SHA256", "ChecksumSHA256": _b64(bytes.fromhex(oid))}


def _read_whole(src: Any, size: int) -> bytearray:
    """Read all ``size`` bytes of ``src`` into one buffer (a ranged source hands out CHUNK at a time)."""
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while n := src.readinto(view[got:]):  # at least once: an empty source is checked too
        got += n
    del view
    return buf


def _part_digests(source: Source, oid: str, part: int) -> tuple[str, list[bytes]]:
    """Return the object's sha256 (hex) and the SHA-256 digest of each ``part``-byte part, in one pass."""
    whole = hashlib.sha256()
    sums = []
    with source.open(oid) as f:
        while True:
            digest, left = hashlib.sha256(), part
            while left and (data := f.read(min(CHUNK, left))):
                whole.update(data)
                digest.update(data)
                left -= len(data)
            if left == part:
                return whole.hexdigest(), sums
            sums.append(digest.digest())


def _md5(source: Source, oid: str, offset: int, length: int) -> str:
    # usedforsecurity=False: S3 names parts by MD5; FIPS builds refuse md5 otherwise.
    digest = hashlib.md5(usedforsecurity=False)
    with source.open(oid, offset, offset + length) as f:
        while data := f.read(CHUNK):
            digest.update(data)
    return digest.hexdigest()


class S3Store:
    """Objects under ``s3://bucket/prefix/objects/ab/cd/<oid>``."""

    #: Transfers of small objects the engine runs at once by default (transfer.default_jobs):
    #: one per pooled connection.
    small_transfers = HEAD_THREADS

    def __init__(
        self,
        url: StoreURL,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        multipart_threshold: int | str | None = None,
        part_size: int | str | None = None,
        max_attempts: int | str | None = None,
        **ignored: Any,
    ) -> None:
        """Describe the store; the client is made on first use."""
        if url.scheme != "s3":
            raise StoreError(f"{url}: not an S3 URL")
        self.url = url
        self.bucket = url.bucket
        self._prefix = f"{url.prefix}/" if url.prefix else ""
        # Order: the URL's own host > the `endpoint` option > the environment.
        self.endpoint = s3_endpoint(url, endpoint)
        #: Where the objects live, as the record of known objects names it (record.py).
        self.ident = store_ident(url, endpoint)
        self.where = str(url)
        if self.endpoint and urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ConfigError(f"{url}: endpoint {redact(self.endpoint)!r} is not http(s)://")
        self.region = region or None
        self.multipart_threshold = int(multipart_threshold or MULTIPART_THRESHOLD)
        self.part_size = int(part_size or PART_SIZE)
        # botocore's own retries; the transfer engine retries TransientStoreError on top.
        self.max_attempts = int(max_attempts or 3)
        if self.part_size < MIN_PART_SIZE:
            raise ConfigError(f"{url}: part_size must be at least {MIN_PART_SIZE} bytes")
        self._lock = threading.Lock()
        self._client: Any = None
        self._wire: Wire | None = None  # single-object requests without the client (s3_wire.py)
        self._hint = "credentials"
        self.warnings: list[str] = []

    # --- client and errors ---------------------------------------------------------

    def _s3(self) -> Any:
        """Return the boto3 client, creating it (and resolving credentials) once."""
        client = self._client
        if client is None:
            with self._lock:  # boto3 sessions are not thread safe; clients are.
                if self._client is None:
                    self._client = self._make_client()
                client = self._client
        return client

    def _make_client(self) -> Any:
        try:
            session = boto3.session.Session(region_name=self.region)
            keys, self._hint = resolve_credentials(self.url, self.endpoint, session)
            region = self.region or session.region_name or ("us-east-1" if self.endpoint else None)
        except (bx.ProfileNotFound, bx.CredentialRetrievalError) as exc:
            raise ConfigError(f"{self.url}: {redact(str(exc))}") from None
        options: dict[str, Any] = {
            "connect_timeout": 10,
            "read_timeout": 60,
            "max_pool_connections": HEAD_THREADS,
            "retries": {"mode": "standard", "total_max_attempts": self.max_attempts},
            # Path style: S3-compatible servers rarely have wildcard DNS for buckets.
            "s3": {"addressing_style": "path" if self.endpoint else "auto"},
            "user_agent_extra": "git-lazy",
        }
        if keys is None:
            options["signature_version"] = botocore.UNSIGNED
        try:
            # Default CRC checksums (botocore >= 1.36) are refused by some S3-compatible servers.
            config = Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                **options,
            )
        except TypeError:  # pragma: no cover - older botocore has neither option nor default
            config = Config(**options)
        client = session.client(
            "s3", config=config, endpoint_url=self.endpoint, region_name=region, **(keys or {})
        )
        if self.endpoint:
            if keys is None:
                credentials = None
            elif keys:
                credentials = Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"],
                                          keys.get("aws_session_token"))
            else:
                credentials = session.get_credentials()
            # The client's own HTTP session (a private attribute, hence the fallback).
            http = getattr(getattr(client, "_endpoint", None), "http_session", None)
            self._wire = Wire(client.meta.endpoint_url, self.bucket, client.meta.region_name, credentials,
                              http=http, pool=HEAD_THREADS, connect_timeout=10, read_timeout=60)
        return client

    def _fail(self, exc: Exception, what: str, *, head: bool = False) -> LazyError:
        """Turn a botocore exception into one git-lazy error with a redacted one-line message."""
        hint = f"check {self._hint}"
        kind: type[LazyError] = StoreError
        text = str(exc)
        if isinstance(exc, ClientError):
            code, status = _code(exc)
            text = f"{code} {exc.response.get('Error', {}).get('Message', '')} (HTTP {status})"
            if code in _EXPIRED_CODES:
                kind, text = StoreAuthError, f"credentials expired ({code}); refresh them"
            elif head and status == 400:  # HEAD has no body: an expired token is a bare 400
                kind, text = StoreAuthError, f"credentials expired or rejected (HTTP 400); {hint}"
            elif code in _AUTH_CODES or status in (401, 403):
                kind, text = StoreAuthError, f"access denied ({code}); {hint}"
            elif code == "NoSuchBucket":
                text = f"bucket {self.bucket!r} does not exist"
            elif code in _TRANSIENT_CODES or status >= 500 or status == 429:
                headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                wait = retry_after(headers.get("retry-after")) if status in (429, 503) else None
                return TransientStoreError(" ".join(redact(f"{self.url}: {what}: {text}").split()),
                                           retry_after=wait)
        elif isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
            kind, text = StoreAuthError, f"{exc}; {hint}"
        elif isinstance(exc, bx.NoRegionError):
            kind, text = ConfigError, "no region; set AWS_REGION or the store's region"
        elif isinstance(exc, bx.ConnectionError):
            kind, text = StoreUnreachable, f"cannot reach {self.endpoint or 'AWS S3'}: {exc}"
        elif isinstance(exc, (bx.HTTPClientError, bx.IncompleteReadError, OSError)):
            kind = TransientStoreError
        # One line, whatever botocore put in its message.
        return kind(" ".join(redact(f"{self.url}: {what}: {text}").split()))

    def _wire_path(self) -> Wire | None:
        """The client-free path for single objects, where the store has an explicit endpoint."""
        self._s3()
        return self._wire

    def _call(self, what: str, method: str, *, head: bool = False, **kwargs: Any) -> Any:
        try:
            return getattr(self._s3(), method)(Bucket=self.bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, what, head=head) from None

    def _key(self, oid: str) -> str:
        return self._prefix + object_key(oid)

    # --- the Store protocol ----------------------------------------------------------

    def missing(self, objects: Mapping[str, int]) -> set[str]:
        """Return the oids the bucket lacks or holds at another size: list the store, list shards, or HEAD each.

        Only a 404 counts as absent. Listing costs one request per 1,000 keys instead
        of one per object: a store that holds at most PAGE_KEYS objects (the first
        push to a new one) is listed whole in one request. A key that a listing
        misses is only sent again (uploads are idempotent), never taken for present.
        """
        keys = {oid: self._key(oid) for oid in objects}  # validate before any request
        client = self._s3()
        stored = self._whole_if_small() if len(keys) >= PAGE_AT else None
        if stored is None and len(keys) >= LIST_AT:
            stored = self._listed({oid[:2] for oid in keys})
        if stored is not None:
            return {oid for oid, size in objects.items() if stored.get(oid) != size}

        wire = self._wire

        def absent(oid: str) -> bool:
            try:
                if wire is not None:
                    return wire.head(keys[oid])[0] != objects[oid]
                reply = client.head_object(Bucket=self.bucket, Key=keys[oid])
            except ClientError as exc:
                if _code(exc)[1] == 404:
                    return True
                raise self._fail(exc, f"cannot check {oid}", head=True) from None
            except BotoCoreError as exc:
                raise self._fail(exc, f"cannot check {oid}", head=True) from None
            return int(reply["ContentLength"]) != objects[oid]

        wanted = list(keys)
        flags = parallel(absent, wanted, HEAD_THREADS)
        return {oid for oid, flag in zip(wanted, flags) if flag}

    def _whole_if_small(self) -> dict[str, int] | None:
        """Return {oid: size} of every object when one listing page holds them all; else None.

        None too where listing is refused: the caller asks another way.
        """
        def page() -> dict[str, int] | None:
            reply = self._s3().list_objects_v2(Bucket=self.bucket, Prefix=f"{self._prefix}objects/",
                                               MaxKeys=PAGE_KEYS)
            return None if reply.get("IsTruncated") else dict(self._page_objects(reply))

        return self._unless_refused(page)

    def _listed(self, shards: set[str]) -> dict[str, int] | None:
        """Return {oid: size} of every object under these ``objects/ab/`` shards, or None if listing is refused."""
        def shard(ab: str) -> dict[str, int]:
            return dict(self._objects_under(f"{self._prefix}objects/{ab}/"))

        def all_shards() -> dict[str, int]:
            stored: dict[str, int] = {}
            for part in parallel(shard, sorted(shards), HEAD_THREADS):
                stored.update(part)
            return stored

        return self._unless_refused(all_shards)

    def _unless_refused(self, listing: Callable[[], dict[str, int] | None]) -> dict[str, int] | None:
        """Run ``listing``; None where the user may not list (no ListBucket: HEAD requests instead)."""
        try:
            return listing()
        except ClientError as exc:
            if _code(exc)[1] in (401, 403):
                return None
            raise self._fail(exc, "cannot list objects") from None
        except BotoCoreError as exc:
            raise self._fail(exc, "cannot list objects") from None

    def upload(self, oid: str, size: int, source: Source, progress: ProgressFn) -> None:
        """Upload an object: one PUT up to the threshold, else a resumable multipart upload.

        Either way the bucket's copy is checked after: the SHA-256 the server computed
        when it reports one (a single PUT also sends the oid, which AWS checks before
        storing), and the size.
        """
        key = self._key(oid)
        if size > self.multipart_threshold:
            self._multipart(oid, key, size, source, progress)
            return
        what = f"cannot upload {oid}"
        if size <= MEMORY_PUT:
            # Sent as bytes: botocore then skips the "Expect: 100-continue" round trip
            # it adds for file bodies, which dominates the time of small uploads.
            with verifying(source, oid, size) as src:
                data = _read_whole(src, size)
            # Content-MD5 makes any S3 server check the body; the ETag it answers with is
            # then the MD5 of what it stored, which spares a HEAD where the server does
            # not report the SHA-256 (s3rver, older MinIO: a round trip per object).
            md5 = hashlib.md5(data, usedforsecurity=False) if size <= SMALL_PUT else None
            md5_b64 = _b64(md5.digest()) if md5 is not None else None
            wire = self._wire_path()
            if wire is not None:
                try:
                    headers = wire.put(key, data, sha256_hex=oid, sha256_b64=_b64(bytes.fromhex(oid)),
                                       md5_b64=md5_b64)
                except (ClientError, BotoCoreError) as exc:
                    raise self._fail(exc, what) from None
                reply = {"ChecksumSHA256": headers.get("x-amz-checksum-sha256"), "ETag": headers.get("etag", "")}
            else:
                md5_arg = {"ContentMD5": md5_b64} if md5_b64 is not None else {}
                reply = self._call(what, "put_object", Key=key, Body=data, ContentLength=size,
                                   **md5_arg, **_sha256_args(oid))
            del data
            progress(size)
            if (md5 is not None and reply.get("ChecksumSHA256") is None
                    and str(reply.get("ETag", "")).strip('"') == md5.hexdigest()):
                return
        else:
            with verifying(source, oid, size, progress) as body:
                reply = self._call(what, "put_object", Key=key, Body=body, ContentLength=size,
                                   **_sha256_args(oid))
        self._check_stored(oid, key, size, _b64(bytes.fromhex(oid)), reply.get("ChecksumSHA256"))

    def same_service(self, other: object) -> bool:
        """Tell whether ``other`` is an S3 store on the same endpoint, which a server-side copy can read."""
        return isinstance(other, S3Store) and other.endpoint == self.endpoint

    def copy_from(self, other: S3Store, oid: str, size: int, progress: ProgressFn) -> None:
        """Copy an object from a bucket of the same service without moving its bytes through here.

        Up to 5 GiB in one CopyObject, whose SHA-256 the server computes and which is
        checked against the oid like an upload's; bigger objects part by part
        (UploadPartCopy), then read back once to check their hash.
        """
        key, source = self._key(oid), {"Bucket": other.bucket, "Key": other._key(oid)}
        what = f"cannot copy {oid}"
        if size <= COPY_LIMIT:
            try:
                reply = self._s3().copy_object(Bucket=self.bucket, Key=key, CopySource=source,
                                               ChecksumAlgorithm="SHA256")
            except ClientError as exc:
                code, status = _code(exc)
                # A copy's 404 names the source object (a missing bucket says NoSuchBucket).
                if code in _MISSING_CODES or (status == 404 and code != "NoSuchBucket"):
                    raise ObjectMissing(oid, str(other.url)) from None
                raise self._fail(exc, what) from None
            except BotoCoreError as exc:
                raise self._fail(exc, what) from None
            told = reply.get("CopyObjectResult", {}).get("ChecksumSHA256")
            self._check_stored(oid, key, size, _b64(bytes.fromhex(oid)), told)
            progress(size)
            return
        if other._size(source["Key"]) is None:
            raise ObjectMissing(oid, str(other.url))
        part = max(self.part_size, math.ceil(size / 10_000))
        upload_id = self._call(what, "create_multipart_upload", Key=key)["UploadId"]
        try:
            etags = {}
            for number in range(1, math.ceil(size / part) + 1):
                first = (number - 1) * part
                last = min(size, first + part) - 1
                reply = self._call(what, "upload_part_copy", Key=key, UploadId=upload_id,
                                   PartNumber=number, CopySource=source,
                                   CopySourceRange=f"bytes={first}-{last}")
                etags[number] = reply["CopyPartResult"]["ETag"]
                progress(last + 1 - first)
            parts = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
            self._call(what, "complete_multipart_upload", Key=key, UploadId=upload_id,
                       MultipartUpload={"Parts": parts})
        except BaseException:
            self._abort(key, upload_id)
            raise
        try:
            with verifying(self, oid, size) as copy:
                while copy.read(CHUNK):
                    pass
        except ChecksumMismatch:
            self._call(what, "delete_object", Key=key)
            raise

    def list(self) -> Iterator[tuple[str, int]]:
        """Yield (oid, size) of every object under the prefix; other keys are reported in ``warnings``."""
        try:
            yield from self._objects_under(f"{self._prefix}objects/")
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "cannot list objects") from None

    def _objects_under(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Yield (oid, size) of the objects whose keys start with ``prefix``; botocore's errors pass through."""
        pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            yield from self._page_objects(page)

    def _page_objects(self, page: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
        """Yield (oid, size) of the objects one listing page names."""
        for item in page.get("Contents", ()):
            name = item["Key"].rsplit("/", 1)[-1]
            if is_oid(name) and item["Key"] == self._key(name):
                yield name, int(item["Size"])
            else:  # a temp name, another tool's file, a wrong folder: never an object
                self.warnings.append(f"{self.url}: ignoring {item['Key']!r} in the listing (not an object)")

    def delete(self, oid: str) -> bool:
        """Remove object ``oid``; return False if it was not there."""
        key = self._key(oid)
        if self._size(key) is None:
            return False
        self._call(f"cannot delete {oid}", "delete_object", Key=key)
        return True

    def sweep(self, max_age: float = STALE_TEMP_SECONDS) -> int:
        """Abort multipart uploads untouched for ``max_age`` seconds; return how many."""
        return self._abort_stale(timedelta(seconds=max_age), quiet=False)

    def _check_stored(self, oid: str, key: str, size: int, sha256: str, told: str | None) -> None:
        """Delete the object and fail unless the bucket holds ``size`` bytes hashing to ``sha256``.

        ``told`` is the checksum the upload's reply gave; without one, a HEAD asks for
        the size and for the checksum the server kept, if it keeps one.
        """
        held = size
        if told is None:
            wire = self._wire_path()
            try:
                if wire is not None:
                    held, told = wire.head(key, checksum=True)
                else:
                    head = self._s3().head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                    held, told = int(head["ContentLength"]), head.get("ChecksumSHA256")
            except (ClientError, BotoCoreError) as exc:
                raise self._fail(exc, f"cannot check {oid} after upload", head=True) from None
        told = told.split("-")[0] if told else None  # "<b64>-<parts>" for multipart
        if held == size and told in (None, sha256.split("-")[0]):
            return
        try:
            self._s3().delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError):
            pass  # still wrong: the next existence check sees the size, or the read the hash
        found = f"{held} bytes" if held != size else f"SHA-256 {told}"
        raise TransientStoreError(f"{self.url}: {oid}: the store kept {found} after upload; removed it")

    def _multipart(self, oid: str, key: str, size: int, source: Source, progress: ProgressFn) -> None:
        what = f"cannot upload {oid}"
        part = self.part_size
        # Parts go up out of order and in parallel: check the whole file first, and
        # take each part's SHA-256 on the way, which S3 checks and combines.
        got, part_sums = _part_digests(source, oid, part)
        if got != oid:
            raise ChecksumMismatch(oid, got, size, source.where)
        upload_id, done = self._find_upload(key)
        if upload_id is None:
            upload_id = self._call(what, "create_multipart_upload", Key=key,
                                   ChecksumAlgorithm="SHA256")["UploadId"]
        etags: dict[int, str] = {}
        todo = []
        for number in range(1, math.ceil(size / part) + 1):
            offset = (number - 1) * part
            length = min(part, size - offset)
            old = done.get(number)
            # A part from an earlier attempt counts only if its bytes are ours.
            if old and old[0] == length and old[1].strip('"').lower() == _md5(source, oid, offset, length):
                etags[number] = old[1]
                progress(length)
            else:
                todo.append((number, offset, length))

        def send(item: tuple[int, int, int]) -> None:
            number, offset, length = item
            body = _Slice(source, oid, offset, length)
            try:
                reply = self._call(what, "upload_part", Key=key, UploadId=upload_id,
                                   PartNumber=number, Body=body, ContentLength=length,
                                   ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(part_sums[number - 1]))
            finally:
                body.close()
            etags[number] = reply["ETag"]
            progress(length)  # counted once the part is stored, so a resume never double counts

        try:
            parallel(send, todo, PART_THREADS)
            told = self._complete(oid, key, upload_id, etags, part_sums, size)
        except TransientStoreError:
            raise  # keep the finished parts: the next attempt resumes
        except LazyError:
            self._abort(key, upload_id)
            raise
        composite = _b64(hashlib.sha256(b"".join(part_sums)).digest())
        self._check_stored(oid, key, size, f"{composite}-{len(part_sums)}", told)

    def _abort(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload, as far as the server lets us: the sweep removes what is left."""
        try:
            self._s3().abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            pass

    def _complete(
        self, oid: str, key: str, upload_id: str, etags: dict[int, str], sums: list[bytes], size: int
    ) -> str | None:
        """Complete the upload; return the checksum the reply gave, if any."""
        parts = [{"PartNumber": n, "ETag": etags[n], "ChecksumSHA256": _b64(sums[n - 1])} for n in sorted(etags)]
        try:
            reply = self._s3().complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
            return reply.get("ChecksumSHA256")  # type: ignore[no-any-return]
        except ClientError as exc:
            # Another process resuming the same upload may have completed it first.
            if _code(exc)[0] == "NoSuchUpload" and self._size(key) == size:
                return None
            raise self._fail(exc, f"cannot upload {oid}") from None
        except BotoCoreError as exc:
            raise self._fail(exc, f"cannot upload {oid}") from None

    def _size(self, key: str) -> int | None:
        try:
            wire = self._wire_path()
            if wire is not None:
                return wire.head(key)[0]
            return int(self._s3().head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if _code(exc)[1] == 404:
                return None
            raise self._fail(exc, f"cannot check {key}", head=True) from None
        except BotoCoreError as exc:
            raise self._fail(exc, f"cannot check {key}", head=True) from None

    def _find_upload(self, key: str) -> tuple[str | None, dict[int, tuple[int, str]]]:
        """Return the newest unfinished upload of ``key`` and its parts {number: (size, etag)}."""
        client = self._s3()
        try:
            uploads = [
                u
                for page in client.get_paginator("list_multipart_uploads").paginate(
                    Bucket=self.bucket, Prefix=key
                )
                for u in page.get("Uploads", [])
                if u.get("Key") == key
            ]
            if not uploads:
                return None, {}
            upload = max(uploads, key=lambda u: u["Initiated"])
            parts = {}
            for page in client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
            ):
                for p in page.get("Parts", []):
                    parts[int(p["PartNumber"])] = (int(p["Size"]), str(p["ETag"]))
            return upload["UploadId"], parts
        except ClientError as exc:
            code, status = _code(exc)
            # Listing may be forbidden or unsupported, and an upload may end meanwhile:
            # all of these only mean "start afresh".
            if status in (403, 404, 501) or code in ("NoSuchUpload", "NotImplemented"):
                return None, {}
            raise self._fail(exc, f"cannot list uploads of {key}") from None
        except BotoCoreError as exc:
            raise self._fail(exc, f"cannot list uploads of {key}") from None

    def open(self, oid: str, start: int = 0, end: int | None = None) -> RangeReader:
        """GET bytes ``[start, end)`` with a Range request; the body streams."""
        check_range(start, end)
        key = self._key(oid)
        what = f"cannot read {oid}"
        if end is not None and end == start:
            if self._size(key) is None:  # nothing to read, but the object must exist
                raise ObjectMissing(oid, str(self.url))
            return RangeReader(lambda n: b"", 0)
        ranged = start > 0 or end is not None
        extra = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if ranged else {}
        try:
            wire = self._wire_path()
            if wire is not None:
                body, headers = wire.get(key, extra.get("Range"))
                reply = {"Body": body, "ContentRange": headers.get("content-range", ""),
                         "ContentLength": headers.get("content-length", "0")}
            else:
                reply = self._s3().get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            code, status = _code(exc)
            if code in _MISSING_CODES:
                raise ObjectMissing(oid, str(self.url)) from None
            if code == "InvalidRange" or status == 416:  # start is at or past the end
                return RangeReader(lambda n: b"", 0)
            raise self._fail(exc, what) from None
        except BotoCoreError as exc:
            raise self._fail(exc, what) from None
        body = reply["Body"]
        # "bytes 100-199/1000": a server that ignores the range, or answers another
        # one (some send 206 from byte 0), would splice wrong bytes into a resume.
        got = str(reply.get("ContentRange", "")).removeprefix("bytes ").split("-")[0]
        if ranged and got != str(start):
            body.close()
            raise RangeNotHonoured(
                f"{self.url}: the server did not answer the Range request for {oid} from byte {start}"
            )
        return RangeReader(
            body.read,
            int(reply["ContentLength"]),
            on_error=lambda exc: self._fail(exc, what),  # type: ignore[arg-type]
            on_close=body.close,
            where=str(self.url),
        )

    def prepare_push(self) -> None:
        """Write ``git-lazy.json`` when absent, refuse another format, drop stale uploads."""
        key = self._prefix + "git-lazy.json"
        what = "cannot prepare the store"
        try:
            reply = self._s3().get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc)[0] not in _MISSING_CODES:
                raise self._fail(exc, what) from None
            self._call(what, "put_object", Key=key, Body=MARKER, ContentType="application/json")
        except BotoCoreError as exc:
            raise self._fail(exc, what) from None
        else:
            with reply["Body"] as body:
                check_format(str(self.url), body.read(1 << 16).decode("utf-8", "replace"))
        self._abort_stale(STALE_UPLOAD)

    def _abort_stale(self, age: timedelta, *, quiet: bool = True) -> int:
        """Abort multipart uploads under our prefix untouched for ``age`` (started and last part); return how many."""
        client = self._s3()
        cutoff = datetime.now(timezone.utc) - age
        aborted = 0
        try:
            for page in client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self._prefix + "objects/"
            ):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] >= cutoff:
                        continue
                    # Some servers report a made-up Initiated date (moto: 2010), so a
                    # part written within the day also proves someone is still at work.
                    ids = {"Bucket": self.bucket, "Key": upload["Key"],
                           "UploadId": upload["UploadId"]}
                    parts = client.get_paginator("list_parts").paginate(**ids)
                    if any(p["LastModified"] >= cutoff
                           for listing in parts for p in listing.get("Parts", [])):
                        continue
                    client.abort_multipart_upload(**ids)
                    aborted += 1
        except (ClientError, BotoCoreError) as exc:
            if not quiet:
                raise self._fail(exc, "cannot list unfinished uploads") from None
            # on a push it is housekeeping only: a bucket lifecycle rule can do the same
        return aborted

    def close(self) -> None:
        """Close the client's connections."""
        with self._lock:
            client, self._client = self._client, None
            wire, self._wire = self._wire, None
        if wire is not None:
            wire.close()
        if client is not None:
            client.close()
