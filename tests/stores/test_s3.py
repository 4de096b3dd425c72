"""S3 store specifics against moto on loopback: multipart, resume, credentials, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lazyhelpers import write_stream
from servers import MotoServer, S3Fixture, TcpProxy, run_killed_upload, s3_client

from git_lazydata.cache import Cache
from git_lazydata.errors import (
    ObjectMissing,
    StoreAuthError,
    StoreError,
    StoreUnreachable,
    TransientStoreError,
)
from git_lazydata.pointer import Pointer, object_key
from git_lazydata.stores import s3 as s3_module
from git_lazydata.stores.base import FileSource
from git_lazydata.stores.s3 import S3Store
from git_lazydata.stores.urls import parse_store_url
from git_lazydata.transfer import RETRY_DELAYS, download

MiB = 1 << 20
ABSENT = "0" * 64
SMALL_PARTS = {"multipart_threshold": 5 * MiB, "part_size": 5 * MiB}


def _store(url: str, **options: Any) -> S3Store:
    return S3Store(parse_store_url(url), **options)


def _key(fx: S3Fixture, oid: str) -> str:
    return f"{fx.prefix}/{object_key(oid)}"


def _pending(fx: S3Fixture) -> list[dict[str, Any]]:
    return list(fx.client.list_multipart_uploads(Bucket=fx.bucket).get("Uploads", []))


def _stored_sha256(fx: S3Fixture, oid: str) -> str:
    body = fx.client.get_object(Bucket=fx.bucket, Key=_key(fx, oid))["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(MiB), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _proxy(fx: S3Fixture, **kwargs: Any) -> TcpProxy:
    host, port = fx.endpoint.rsplit("/", 1)[1].split(":")
    return TcpProxy((host, int(port)), **kwargs)


def test_multipart_upload(s3_store: S3Fixture, tmp_path: Path) -> None:
    size = 12 * MiB + 1
    oid = write_stream(tmp_path / "blob", size)
    moved: list[int] = []
    _store(s3_store.url, **SMALL_PARTS).upload(oid, size, FileSource(tmp_path / "blob"), moved.append)
    assert sum(moved) == size
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=_key(s3_store, oid))
    assert head["ContentLength"] == size
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 5 + 5 + 2 MiB
    assert _stored_sha256(s3_store, oid) == oid
    assert _pending(s3_store) == []


def test_killed_multipart_upload_resumes(s3_store: S3Fixture, tmp_path: Path) -> None:
    size = 22 * MiB
    blob = tmp_path / "blob"
    oid = write_stream(blob, size)
    run_killed_upload(s3_store.url, oid, size, blob, 10 * MiB, **SMALL_PARTS)  # dies after 2 parts

    [upload] = _pending(s3_store)
    assert upload["Key"] == _key(s3_store, oid)
    parts = s3_store.client.list_parts(
        Bucket=s3_store.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
    )["Parts"]
    done = sum(p["Size"] for p in parts if p["Size"] == 5 * MiB)
    assert done >= 10 * MiB
    with pytest.raises(Exception, match="404|Not Found"):
        s3_store.client.head_object(Bucket=s3_store.bucket, Key=upload["Key"])

    with _proxy(s3_store) as proxy:
        moved: list[int] = []
        store = _store(s3_store.url, endpoint=proxy.endpoint, **SMALL_PARTS)
        store.upload(oid, size, FileSource(blob), moved.append)
        # Finished parts were reused: only the rest crossed the wire again.
        assert proxy.bytes_up < size - done + MiB
    assert sum(moved) == size
    assert _stored_sha256(s3_store, oid) == oid
    assert _pending(s3_store) == []


def test_prepare_push_aborts_only_stale_uploads(s3_store: S3Fixture) -> None:
    client, bucket = s3_store.client, s3_store.bucket
    busy = f"{s3_store.prefix}/objects/ab/cd/{'ab' * 32}"
    idle = f"{s3_store.prefix}/objects/cd/ef/{'cd' * 32}"
    other = f"elsewhere/objects/ab/cd/{'ab' * 32}"
    for key in (busy, idle, other):
        upload = client.create_multipart_upload(Bucket=bucket, Key=key)
        if key == busy:
            client.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                               PartNumber=1, Body=b"x" * 100)
    _store(s3_store.url).prepare_push()

    pending = {u["Key"]: u for u in _pending(s3_store)}
    assert busy in pending  # a part written today: somebody is uploading
    assert other in pending  # not under our prefix: not ours to judge
    # moto reports every upload as started in 2010; a real server says today.
    idle_is_old = idle not in pending or (
        datetime.now(timezone.utc) - pending[idle]["Initiated"] > timedelta(hours=24))
    assert (idle not in pending) == idle_is_old


def test_dropped_put_leaves_nothing(s3_store: S3Fixture, tmp_path: Path) -> None:
    size = 3 * MiB
    oid = write_stream(tmp_path / "blob", size)
    with _proxy(s3_store, drop_after=MiB) as proxy:
        store = _store(s3_store.url, endpoint=proxy.endpoint, max_attempts=1)
        with pytest.raises(TransientStoreError):
            store.upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
        assert proxy.dropped >= 1  # and once more if the request was sent again
        assert store.missing({oid: size}) == {oid}
    _store(s3_store.url).upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
    assert _stored_sha256(s3_store, oid) == oid


def test_missing_bucket_and_unreachable_endpoint(s3_store: S3Fixture, tmp_path: Path) -> None:
    oid = write_stream(tmp_path / "blob", 10)
    store = _store(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/x")
    with pytest.raises(StoreError, match="does not exist"):
        store.upload(oid, 10, FileSource(tmp_path / "blob"), lambda n: None)
    with pytest.raises(StoreError, match="does not exist"):
        store.open(oid)
    proxy = _proxy(s3_store)
    proxy.close()  # nothing listens on its port any more
    store = _store(s3_store.url, endpoint=proxy.endpoint, max_attempts=1)
    with pytest.raises(StoreUnreachable, match="cannot reach"):
        store.missing({oid: 1})


# --- credentials ---------------------------------------------------------------------


@dataclass
class IamUser:
    key: str
    secret: str


@pytest.fixture
def enforced_auth(moto_server: MotoServer) -> Iterator[IamUser]:
    """An IAM user allowed s3:*, with moto checking signatures until the test ends."""
    iam = s3_client(moto_server.endpoint, service="iam")
    name = f"user-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    moto_server.enforce_auth()
    try:
        yield IamUser(key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        moto_server.relax_auth()


def _stored(store: S3Store, tmp_path: Path, count: int) -> dict[str, int]:
    """Upload ``count`` small objects; return {oid: size}."""
    objects = {}
    for seed in range(count):
        path = tmp_path / f"obj{seed}"
        oid = write_stream(path, 100 + seed, seed=seed)
        store.upload(oid, 100 + seed, FileSource(path), lambda n: None)
        objects[oid] = 100 + seed
    return objects


def _asked(proxy: TcpProxy) -> list[str]:
    """The request lines the proxy saw."""
    lines = proxy.upstream.decode("latin-1").split("\r\n")
    return [line for line in lines if line.split(" ")[0] in ("GET", "HEAD", "PUT", "POST", "DELETE")]


def test_existence_checks_list_a_small_store_in_one_request(s3_store: S3Fixture, tmp_path: Path) -> None:
    objects = _stored(_store(s3_store.url), tmp_path, 20)
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=f"{s3_store.prefix}/objects/not-an-object",
                               Body=b"x")
    absent = {hashlib.sha256(str(n).encode()).hexdigest(): 5 for n in range(20)}
    resized = next(iter(objects))
    query = {**objects, **absent, resized: objects[resized] + 1}
    with _proxy(s3_store, record=True) as proxy:
        store = _store(s3_store.url, endpoint=proxy.endpoint)
        assert store.missing(query) == {*absent, resized}
    asked = _asked(proxy)
    assert len(asked) == 1 and "list-type=2" in asked[0]
    assert any("not-an-object" in warning for warning in store.warnings)


def test_existence_checks_of_a_bigger_store_list_shards_or_ask_each(
    s3_store: S3Fixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = _stored(_store(s3_store.url), tmp_path, 20)
    absent = {hashlib.sha256(str(n).encode()).hexdigest(): 5 for n in range(20)}
    query = {**objects, **absent}
    monkeypatch.setattr(s3_module, "PAGE_KEYS", 10)  # the store no longer fits in one page
    for list_at, heads in ((1000, len(query)), (30, 0)):
        monkeypatch.setattr(s3_module, "LIST_AT", list_at)
        with _proxy(s3_store, record=True) as proxy:
            assert _store(s3_store.url, endpoint=proxy.endpoint).missing(query) == set(absent)
        asked = _asked(proxy)
        assert sum(line.startswith("HEAD ") for line in asked) == heads
        assert asked[0].startswith("GET ") and "max-keys=10" in asked[0]


def test_existence_checks_without_list_permission_ask_each_object(
    s3_store: S3Fixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer
) -> None:
    objects = _stored(_store(s3_store.url), tmp_path, 20)
    absent = {hashlib.sha256(str(n).encode()).hexdigest(): 5 for n in range(20)}
    iam = s3_client(moto_server.endpoint, service="iam")
    name = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:HeadObject"], "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    moto_server.enforce_auth()
    try:
        with _proxy(s3_store, record=True) as proxy:
            assert _store(s3_store.url, endpoint=proxy.endpoint).missing({**objects, **absent}) == set(absent)
    finally:
        moto_server.relax_auth()
    asked = _asked(proxy)
    assert "list-type=2" in asked[0]  # refused, then one HEAD per object
    assert sum(line.startswith("HEAD ") for line in asked) == len(objects) + len(absent)


def test_wrong_credentials(s3_store: S3Fixture, enforced_auth: IamUser, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    oid = write_stream(tmp_path / "blob", 100)
    secret = "wrong-secret-Zq81xx"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", enforced_auth.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    store = _store(s3_store.url)
    for call in (lambda: store.missing({oid: 100}),  # HEAD: a bare 403, never "missing"
                 lambda: store.open(oid),
                 lambda: store.upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)):
        with pytest.raises(StoreAuthError) as info:
            call()
        message = str(info.value)
        assert "access denied" in message and "AWS_ACCESS_KEY_ID" in message
        assert "\n" not in message and secret not in message

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", enforced_auth.secret)
    store = _store(s3_store.url)
    assert store.missing({oid: 100}) == {oid}
    store.upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)
    assert store.missing({oid: 100}) == set()


def test_a_put_signs_the_oid_as_its_payload_hash(s3_store: S3Fixture, enforced_auth: IamUser,
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A server that checks signed payloads (AWS over HTTP, MinIO) then refuses any body
    # that is not the object; moto checks the signature over that hash.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", enforced_auth.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", enforced_auth.secret)
    for size in (100, 3 * MiB):  # with and without Content-MD5
        oid = write_stream(tmp_path / "blob", size, seed=size)
        with _proxy(s3_store, record=True) as proxy:
            _store(s3_store.url, endpoint=proxy.endpoint).upload(
                oid, size, FileSource(tmp_path / "blob"), lambda n: None)
        request = proxy.upstream[proxy.upstream.index(b"PUT "):].split(b"\r\n\r\n")[0]
        lines = request.decode("latin-1").split("\r\n")[1:]
        headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
        assert headers["x-amz-content-sha256"] == oid
        assert headers["x-amz-checksum-sha256"] == base64.b64encode(bytes.fromhex(oid)).decode()
        with _store(s3_store.url).open(oid) as f:
            assert hashlib.sha256(f.read()).hexdigest() == oid


def test_a_whole_read_is_one_signed_get_to_the_store_endpoint(s3_store: S3Fixture, enforced_auth: IamUser,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whole objects come through obstore on a plain-HTTP endpoint. Its requests carry the
    # credentials of boto3's chain (moto checks the signature), go to the store's own
    # endpoint even where AWS_ENDPOINT_URL_S3 names another (the fixture sets it to the
    # server behind the proxy), carry no key of the environment's own (obstore reads
    # AWS_* variables), and are sent once.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", enforced_auth.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", enforced_auth.secret)
    monkeypatch.setenv("AWS_SERVER_SIDE_ENCRYPTION", "sse-c")
    monkeypatch.setenv("AWS_SSE_CUSTOMER_KEY_BASE64", base64.b64encode(b"k" * 32).decode())
    for size in (100, 3 * MiB):
        oid = write_stream(tmp_path / "blob", size, seed=size)
        _store(s3_store.url).upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
        with _proxy(s3_store, record=True) as proxy:
            store = _store(s3_store.url, endpoint=proxy.endpoint)
            with store.open(oid) as f:
                assert hashlib.sha256(f.read()).hexdigest() == oid
            store.close()
        assert proxy.upstream.count(b"GET /") == 1
        assert _signed_key_ids(proxy) == {enforced_auth.key}
        assert b"customer-key" not in proxy.upstream.lower()
        assert proxy.bytes_down > size


def test_a_store_whose_fast_reads_fail_asks_them_once(s3_store: S3Fixture, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever keeps obstore from answering while the usual path works (here: every
    # obstore GET raising) costs one extra request in all, not one per object.
    import git_lazydata.stores.s3_reads as s3_reads

    oids = []
    for seed in range(3):
        oid = write_stream(tmp_path / "blob", 100, seed=seed)
        _store(s3_store.url).upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)
        oids.append(oid)
    tried: list[str] = []

    def broken(store: Any, key: str, **kwargs: Any) -> Any:
        tried.append(key)
        raise RuntimeError("no")

    monkeypatch.setattr(s3_reads.obstore, "get", broken)
    store = _store(s3_store.url)
    for oid in oids:
        with store.open(oid) as f:
            assert hashlib.sha256(f.read()).hexdigest() == oid
    assert len(tried) == 1
    store.close()


def test_url_user_password(s3_store: S3Fixture, enforced_auth: IamUser, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name)
    oid = write_stream(tmp_path / "blob", 100)
    hostport = s3_store.endpoint.split("//")[1]
    tail = f"{hostport}/{s3_store.bucket}/{s3_store.prefix}"
    store = _store(f"s3://{enforced_auth.key}:{enforced_auth.secret}@{tail}")
    assert store.endpoint == s3_store.endpoint
    assert enforced_auth.secret not in f"{store.url} {store.url!r}"
    store.upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)
    with store.open(oid) as f:  # moto checks signatures: the fixture's client would fail
        assert hashlib.sha256(f.read()).hexdigest() == oid

    bad = _store(f"s3://{enforced_auth.key}:not-the-Secret-42@{tail}")
    with pytest.raises(StoreAuthError, match="user:password in the store URL") as info:
        bad.open(oid)
    assert "not-the-Secret-42" not in str(info.value)


def _signed_key_ids(proxy: TcpProxy) -> set[str]:
    text = proxy.upstream.decode("latin-1")
    return {part.split("/")[0] for part in text.split("Credential=")[1:]}


def test_credential_order(s3_store: S3Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path.home()
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
    )
    (home / ".mc").mkdir()
    with _proxy(s3_store, record=True) as proxy:
        aliases = {
            "a-other": {"url": "https://elsewhere.example", "accessKey": "OTHERKEY",
                        "secretKey": "x1234"},
            "local": {"url": proxy.endpoint + "/", "accessKey": "MCKEY", "secretKey": "mcsecret"},
        }
        (home / ".mc" / "config.json").write_text(json.dumps({"version": "10", "aliases": aliases}))
        monkeypatch.setenv("MINIO_ACCESS_KEY", "ENVKEY")
        monkeypatch.setenv("MINIO_SECRET_KEY", "envsecret")
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        expected = ["ENVKEY", "FILEKEY", "MCKEY"]
        for step, key_id in enumerate(expected):
            proxy.upstream.clear()
            _store(s3_store.url, endpoint=proxy.endpoint).missing({ABSENT: 1})
            assert _signed_key_ids(proxy) == {key_id}
            if step == 0:
                monkeypatch.delenv("MINIO_ACCESS_KEY")
            elif step == 1:
                (home / ".aws" / "credentials").unlink()


def test_a_proxy_from_the_environment_carries_every_request(s3_store: S3Fixture, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    size = 3 * MiB
    oid = write_stream(tmp_path / "blob", size)
    with _proxy(s3_store) as proxy:  # relays bytes: a forward proxy for plain HTTP, to the server
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.endpoint)
        store = _store(s3_store.url)
        assert store.missing({oid: size}) == {oid}
        store.upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
        with store.open(oid) as f:
            assert hashlib.sha256(f.read()).hexdigest() == oid
        store.close()
        assert proxy.connections >= 1
        assert proxy.bytes_up > size and proxy.bytes_down > size  # the object went through, both ways


def test_anonymous_requests_for_public_buckets(s3_store: S3Fixture, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"public bytes\n"
    oid = hashlib.sha256(data).hexdigest()
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=_key(s3_store, oid), Body=data)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    with _proxy(s3_store, record=True) as proxy:
        store = _store(s3_store.url, endpoint=proxy.endpoint)
        # Private object, no credentials: HEAD gets a 403, which is not "absent".
        with pytest.raises(StoreAuthError, match="none found, requests were anonymous"):
            store.missing({oid: len(data)})
        # moto checks s3:HeadObject for HEAD (AWS uses s3:GetObject), so allow both.
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:HeadObject"],
            "Resource": f"arn:aws:s3:::{s3_store.bucket}/*"}]}
        s3_store.client.put_bucket_policy(Bucket=s3_store.bucket, Policy=json.dumps(policy))
        assert store.missing({oid: len(data), ABSENT: 1}) == {ABSENT}
        with store.open(oid) as f:
            assert f.read() == data
        assert proxy.connections >= 1
        assert b"authorization:" not in proxy.upstream.lower()


# --- faults moto cannot produce ------------------------------------------------------------

EXPIRED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredToken</Code>'
           b"<Message>The provided token has expired.</Message></Error>")


class _Faulty(BaseHTTPRequestHandler):
    """Answers every request with ``server.reply[method]`` = (status, body[, headers]).

    The methods it was asked for are kept in ``server.seen``.
    """

    def _answer(self) -> None:
        status, body, *extra = self.server.reply[self.command]  # type: ignore[attr-defined]
        self.server.seen.append(self.command)  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {"Content-Length": str(len(body)), **(extra[0] if extra else {})}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    server.endpoint = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    server.seen = []  # type: ignore[attr-defined]
    server.connections = 0  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def faulty() -> Iterator[Any]:
    yield from _serve(_Faulty)


class _KeptAlive(_Faulty):
    """The same answers over HTTP/1.1, which keeps each connection for the next request."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]


@pytest.fixture
def kept_alive() -> Iterator[Any]:
    yield from _serve(_KeptAlive)


def test_a_kept_alive_connection_carries_each_answer_whole(kept_alive: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-keepalive")
    store = _store("s3://bucket/prefix", endpoint=kept_alive.endpoint, max_attempts=1)
    big, small = os.urandom(3 * MiB), b"a small object\n"
    big_oid, small_oid = hashlib.sha256(big).hexdigest(), hashlib.sha256(small).hexdigest()

    def answer(body: bytes) -> tuple[int, bytes, dict[str, str]]:
        return 200, body, {"Content-Range": f"bytes 0-{len(body) - 1}/{len(body)}"}

    kept_alive.reply = {"GET": answer(small), "HEAD": (200, b"", {"Content-Length": str(len(small))}),
                        "PUT": (200, b"")}
    # One connection serves request after request: whole objects (read through obstore)
    # on one, ranges and existence checks (http.client) on another.
    for _ in range(3):
        with store.open(small_oid) as f:
            assert f.read() == small
    assert kept_alive.connections == 1
    for _ in range(3):
        with store.open(small_oid, 0, len(small)) as f:
            assert f.read() == small
    assert store.missing({small_oid: len(small)}) == set()
    assert kept_alive.seen == ["GET"] * 6 + ["HEAD"]
    assert kept_alive.connections == 2
    # A body left before its end is never taken for the next answer: that one is read
    # whole, at the first request (an http.client connection goes with the body left).
    for whole in (True, False):
        kept_alive.reply["GET"] = answer(big)
        with store.open(big_oid, *(() if whole else (0, len(big)))) as f:
            assert f.read(1000) == big[:1000]
        kept_alive.reply["GET"] = answer(small)
        kept_alive.seen.clear()
        with store.open(small_oid, *(() if whole else (0, len(small)))) as f:
            assert f.read() == small
        assert kept_alive.seen == ["GET"]
    connections = kept_alive.connections
    # Checks from many threads, again and again, reuse the connections they opened.
    many = {hashlib.sha256(str(n).encode()).hexdigest(): len(small) for n in range(10)}
    for _ in range(5):
        assert store.missing(many) == set()
    assert kept_alive.connections <= connections + len(many)
    store.close()


def test_expired_token_and_server_errors(faulty: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-faults")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-value-123")
    store = _store("s3://bucket/prefix", endpoint=faulty.endpoint, max_attempts=1)
    # An expired token: GET says ExpiredToken; HEAD has no body, only a 400.
    faulty.reply = {"HEAD": (400, b""), "GET": (400, EXPIRED)}
    with pytest.raises(StoreAuthError, match="credentials expired") as info:
        store.missing({ABSENT: 1})
    assert "session-token-value-123" not in str(info.value)
    with pytest.raises(StoreAuthError, match="credentials expired"):
        store.open(ABSENT)
    faulty.reply = {"HEAD": (500, b""), "GET": (503, b"")}
    with pytest.raises(TransientStoreError):
        store.missing({ABSENT: 1})
    with pytest.raises(TransientStoreError):
        store.open(ABSENT)
    faulty.reply = {"HEAD": (404, b""), "GET": (404, b"")}
    assert store.missing({ABSENT: 1}) == {ABSENT}
    with pytest.raises(ObjectMissing):
        store.open(ABSENT)


def test_cut_download_raises_instead_of_truncating(s3_store: S3Fixture, tmp_path: Path) -> None:
    size = 3 * MiB
    oid = write_stream(tmp_path / "blob", size)
    _store(s3_store.url).upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
    with _proxy(s3_store, drop_after_down=MiB, drops=1) as proxy:
        store = _store(s3_store.url, endpoint=proxy.endpoint, max_attempts=1)
        with store.open(oid) as f, pytest.raises(TransientStoreError):
            while f.read(256 * 1024):
                pass
        assert proxy.dropped == 1
        with store.open(oid, MiB, 2 * MiB) as f:  # the next request goes through
            assert f.read() == (tmp_path / "blob").read_bytes()[MiB : 2 * MiB]


def test_a_store_that_keeps_other_bytes_is_caught_and_cleaned(
    faulty: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-faults")
    store = _store("s3://bucket/prefix", endpoint=faulty.endpoint, max_attempts=1)
    oid = write_stream(tmp_path / "blob", 100)
    other = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    # The server computed another SHA-256 than the oid it was sent with.
    faulty.reply = {"PUT": (200, b"", {"x-amz-checksum-sha256": other}), "DELETE": (204, b"")}
    with pytest.raises(TransientStoreError, match=f"kept SHA-256 {re.escape(other)} after upload; removed it"):
        store.upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)
    assert faulty.seen == ["PUT", "DELETE"]
    # A server that names no checksum is asked for the size it kept.
    faulty.seen.clear()
    faulty.reply = {"PUT": (200, b""), "HEAD": (200, b"", {"Content-Length": "99"}), "DELETE": (204, b"")}
    with pytest.raises(TransientStoreError, match="kept 99 bytes after upload; removed it"):
        store.upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)
    assert faulty.seen == ["PUT", "HEAD", "DELETE"]
    # An existence check that finds another size takes the object for absent.
    assert store.missing({oid: 100}) == {oid}
    faulty.reply["HEAD"] = (200, b"", {"Content-Length": "100"})
    assert store.missing({oid: 100}) == set()
    # After an upload, the HEAD also asks for the SHA-256 the server kept, where it keeps one.
    faulty.seen.clear()
    faulty.reply["HEAD"] = (200, b"", {"Content-Length": "100", "x-amz-checksum-sha256": other})
    with pytest.raises(TransientStoreError, match=f"kept SHA-256 {re.escape(other)} after upload"):
        store.upload(oid, 100, FileSource(tmp_path / "blob"), lambda n: None)
    assert faulty.seen == ["PUT", "HEAD", "DELETE"]


def test_a_throttled_request_carries_the_wait_the_server_asked_for(
    faulty: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-faults")
    store = _store("s3://bucket/prefix", endpoint=faulty.endpoint, max_attempts=1)
    for status in (429, 503):
        faulty.reply = {"HEAD": (status, b"", {"Retry-After": "7"})}
        with pytest.raises(TransientStoreError) as info:
            store.missing({ABSENT: 1})
        assert info.value.retry_after == 7
    faulty.reply = {"HEAD": (500, b"", {"Retry-After": "7"})}  # only 429 and 503 set a wait
    with pytest.raises(TransientStoreError) as info:
        store.missing({ABSENT: 1})
    assert info.value.retry_after is None


def test_a_cut_download_resumes_where_it_stopped_in_this_process_and_the_next(
    s3_store: S3Fixture, tmp_path: Path
) -> None:
    size = 8 * MiB
    oid = write_stream(tmp_path / "blob", size)
    _store(s3_store.url).upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
    cache = Cache(tmp_path / "cache")
    wanted = [Pointer(oid, size)]
    # Every body is cut after 1.5 MiB (a clean close, so no byte that arrived is lost):
    # each retry adds to what the last one kept, four attempts cannot finish, and what
    # they got stays on disk for the next run.
    with _proxy(s3_store, drop_after_down=MiB + MiB // 2, gently=True) as proxy:
        cut = download([("lake", _store(s3_store.url, endpoint=proxy.endpoint, max_attempts=1))], cache, wanted)
    assert list(cut.failed) == [oid] and not cache.has(oid)
    attempts = len(RETRY_DELAYS) + 1
    assert proxy.dropped == attempts
    with _proxy(s3_store) as proxy:
        done = download([("lake", _store(s3_store.url, endpoint=proxy.endpoint))], cache, wanted)
        assert done.done == [oid]
        assert proxy.bytes_down < size - attempts * MiB  # only the rest was asked for
    assert hashlib.sha256(cache.path(oid).read_bytes()).hexdigest() == oid
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_a_range_answered_from_another_byte_is_refused(faulty: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-faults")
    store = _store("s3://bucket/prefix", endpoint=faulty.endpoint, max_attempts=1)
    # A 206 that starts at byte 0 instead of 100: spliced into a resume, it would corrupt it.
    faulty.reply = {"GET": (206, b"x" * 10, {"Content-Range": "bytes 0-9/200"})}
    with pytest.raises(StoreError, match="did not answer the Range request .* from byte 100"):
        store.open(ABSENT, 100)
    faulty.reply = {"GET": (200, b"x" * 200)}  # the range ignored altogether
    with pytest.raises(StoreError, match="did not answer the Range request"):
        store.open(ABSENT, 100)
    faulty.reply = {"GET": (206, b"x" * 100, {"Content-Range": "bytes 100-199/200"})}
    with store.open(ABSENT, 100) as f:
        assert f.read() == b"x" * 100


@pytest.mark.parametrize("limit", [5 << 30, 1])  # one CopyObject; part by part, as over 5 GiB
def test_a_copy_between_buckets_is_done_by_the_server_and_checked(
    s3_store: S3Fixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    import git_lazydata.stores.s3 as s3

    monkeypatch.setattr(s3, "COPY_LIMIT", limit)
    size = 6 * MiB + 7
    oid = write_stream(tmp_path / "blob", size, seed=9)
    source = _store(s3_store.url)
    source.upload(oid, size, FileSource(tmp_path / "blob"), lambda n: None)
    other = f"{s3_store.bucket}-copy"
    s3_store.client.create_bucket(Bucket=other)
    dest = _store(f"s3://{other}/mirror", **SMALL_PARTS)
    assert dest.same_service(source)
    moved: list[int] = []
    dest.copy_from(source, oid, size, moved.append)
    assert sum(moved) == size
    assert dest.missing({oid: size}) == set()
    with dest.open(oid) as f:
        assert hashlib.sha256(f.read()).hexdigest() == oid
    with pytest.raises(ObjectMissing):
        dest.copy_from(source, ABSENT, 10, moved.append)
    assert _pending(S3Fixture("", other, "mirror", s3_store.endpoint, s3_store.client)) == []
