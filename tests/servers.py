"""Real servers on 127.0.0.1 for store tests: moto (S3), OpenSSH sshd (SFTP), a TCP relay.

Loaded as a pytest plugin by conftest.py. Nothing here patches git_lazydata: stores
under test talk to these servers over loopback sockets, as they would in use.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "MotoServer", "S3Fixture", "SSHFixture", "Sshd", "TcpProxy", "FolderFixture",
    "run_killed_upload", "unavailable",
]


def unavailable(what: str, install: str) -> None:
    """Fail on CI (a missing server must not hide tests there), skip elsewhere."""
    message = f"{what} is not available; install with: {install}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


_KILLED_UPLOAD = """
import json, os, signal, sys
from pathlib import Path
from git_lazydata.stores import open_store
from git_lazydata.stores.base import FileSource
from git_lazydata.stores.urls import parse_store_url
url, oid, size, path, limit, options = sys.argv[1:7]
store = open_store(parse_store_url(url), **json.loads(options))
moved = 0
def progress(n):
    global moved
    moved += n
    if moved >= int(limit):  # die mid-transfer, as `kill -9` would
        os.kill(os.getpid(), signal.SIGKILL)
store.upload(oid, int(size), FileSource(Path(path)), progress)
sys.exit(3)
"""


def run_killed_upload(
    url: str, oid: str, size: int, path: Path, limit: int, **options: Any
) -> None:
    """Upload in a child process that SIGKILLs itself once progress reaches ``limit`` bytes."""
    import git_lazydata

    env = dict(os.environ, PYTHONPATH=str(Path(git_lazydata.__file__).parents[1]))
    argv = [url, oid, str(size), str(path), str(limit), json.dumps(options)]
    child = subprocess.run(
        # A cap for a hung child, not a timing: a loaded machine may take minutes.
        [sys.executable, "-c", _KILLED_UPLOAD, *argv], env=env, capture_output=True, timeout=600
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode(errors="replace")


# --- S3 (moto) -------------------------------------------------------------------------


@dataclass
class MotoServer:
    """A moto server in this process; ``endpoint`` is ``http://127.0.0.1:PORT``."""

    endpoint: str
    server: Any

    def _reset_auth(self, count: str) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth", data=count.encode(), method="POST",
            headers={"Content-Type": "text/plain"},  # a form type would hide the body
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            assert reply.status == 200

    def enforce_auth(self) -> None:
        """Make moto check signatures and IAM policies from now on (process-wide)."""
        self._reset_auth("0")

    def relax_auth(self) -> None:
        """Go back to moto's default: any request is allowed."""
        self._reset_auth("inf")


@pytest.fixture(scope="session")
def moto_server() -> Any:
    """One moto server on a free loopback port for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        unavailable("moto server", "pip install 'moto[s3]' flask flask-cors")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoServer(f"http://{host}:{port}", server)
    server.stop()


@dataclass
class S3Fixture:
    """A fresh bucket: ``url`` is ``s3://bucket/prefix``; ``client`` is for assertions."""

    url: str
    bucket: str
    prefix: str
    endpoint: str
    client: Any

    def objects(self) -> set[str]:
        """The oids stored under ``<prefix>/objects/``."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/objects/"
        )
        return {o["Key"].rsplit("/", 1)[-1] for page in pages for o in page.get("Contents", [])}


def s3_client(
    endpoint: str, key: str = "testing", secret: str = "testing", service: str = "s3"
) -> Any:
    """Return a boto3 client for checking what the store did."""
    import boto3

    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
    )


@pytest.fixture
def s3_store(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> S3Fixture:
    """A new bucket on the moto server, with env credentials and endpoint set for it."""
    bucket = f"lazy-{uuid.uuid4().hex[:16]}"
    client = s3_client(moto_server.endpoint)
    client.create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint)
    prefix = "team/data"
    return S3Fixture(f"s3://{bucket}/{prefix}", bucket, prefix, moto_server.endpoint, client)


# --- SSH (OpenSSH sshd) ------------------------------------------------------------------


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> str:
    """Make an ed25519 key pair at ``path``; return the public line ``ssh-ed25519 AAAA...``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "git-lazy-test", "-f", str(path)],
        check=True, stdin=subprocess.DEVNULL,
    )
    return " ".join(path.with_name(path.name + ".pub").read_text().split()[:2])


def wait_for_banner(port: int, proc: subprocess.Popen[bytes], deadline: float = 120.0) -> None:
    """Return once the server on ``port`` sends ``SSH-2.0``; waiting doubles each try."""
    stop = time.monotonic() + deadline
    delay = 0.005
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-2.0"):
                    return
        except OSError:
            pass
        if time.monotonic() > stop:
            raise TimeoutError(f"sshd gave no banner on port {port} within {deadline} s")
        try:  # wait on the process itself: an sshd that dies ends the wait at once
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            delay = min(delay * 2, 0.5)
        else:
            raise RuntimeError(f"sshd exited with {proc.returncode}")


@dataclass
class Sshd:
    """A running sshd: its port, host key line, a login key and an unrelated key."""

    port: int
    host_key: str  # "ssh-ed25519 AAAA..."
    other_key: str  # a different ed25519 public key, for "changed host key" tests
    user_key: Path
    log: Path
    sftp_home: Path  # the login directory of SFTP sessions

    def known_hosts_line(self, port: int | None = None, key: str | None = None) -> str:
        """Return a known_hosts line for 127.0.0.1 on ``port`` (default: sshd's)."""
        return f"[127.0.0.1]:{port or self.port} {key or self.host_key}\n"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """OpenSSH's sshd on a free loopback port, key auth only, with internal-sftp."""
    binary = Path("/usr/sbin/sshd")
    if not binary.exists() or shutil.which("ssh-keygen") is None:
        unavailable("OpenSSH sshd", "apt-get install openssh-server")
    work = tmp_path_factory.mktemp("sshd")
    host_key = keygen(work / "host_ed25519")
    other_key = keygen(work / "other_ed25519")
    keygen(work / "user_ed25519")
    (work / "authorized_keys").write_text((work / "user_ed25519.pub").read_text())
    port = free_port()
    config = work / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {work / 'host_ed25519'}\n"
        f"PidFile {work / 'sshd.pid'}\nAuthorizedKeysFile {work / 'authorized_keys'}\n"
        "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        # -d: the SFTP login directory, where scp-style relative paths land.
        f"PermitRootLogin yes\nSubsystem sftp internal-sftp -d {work / 'sftp-home'}\n"
        "LogLevel VERBOSE\n"
    )
    (work / "sftp-home").mkdir()
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # privilege separation
    log = work / "sshd.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [str(binary), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )
    try:
        wait_for_banner(port, proc)
    except (TimeoutError, RuntimeError) as exc:
        proc.kill()
        proc.wait()
        pytest.fail(f"{exc}; sshd said:\n{log.read_text(errors='replace')}")
    yield Sshd(port, host_key, other_key, work / "user_ed25519", log, work / "sftp-home")
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class SSHFixture:
    """A fresh remote folder: ``url`` is ``ssh://lazytest/<abs dir>``, the same dir as ``root``."""

    url: str
    root: Path
    port: int
    sshd: Sshd
    ssh_dir: Path

    def objects(self) -> set[str]:
        """The oids stored under ``objects/`` (hidden temp names left out)."""
        return _folder_objects(self.root)


@pytest.fixture
def ssh_store(sshd: Sshd, tmp_path: Path) -> SSHFixture:
    """Write ~/.ssh/config (alias ``lazytest``) and known_hosts in the test HOME."""
    root = tmp_path / "sshstore"
    root.mkdir()
    ssh_dir = Path(os.environ["HOME"]) / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "config").write_text(
        f"Host lazytest\n    HostName 127.0.0.1\n    Port {sshd.port}\n"
        f"    User {getpass.getuser()}\n    IdentityFile {sshd.user_key}\n"
    )
    (ssh_dir / "known_hosts").write_text(sshd.known_hosts_line())
    return SSHFixture(f"ssh://lazytest{root}", root, sshd.port, sshd, ssh_dir)


# --- folder --------------------------------------------------------------------------


@dataclass
class FolderFixture:
    """A fresh local folder store."""

    url: str
    root: Path

    def objects(self) -> set[str]:
        """The oids stored under ``objects/`` (hidden temp names left out)."""
        return _folder_objects(self.root)


def _folder_objects(root: Path) -> set[str]:
    return {p.name for p in (root / "objects").rglob("*") if p.is_file() and not p.name.startswith(".")}


@pytest.fixture
def folder_store(tmp_path: Path) -> FolderFixture:
    """An empty folder used as a store."""
    root = tmp_path / "folderstore"
    root.mkdir()
    return FolderFixture(str(root), root)


# --- TCP relay ---------------------------------------------------------------------


class TcpProxy:
    """A loopback TCP relay to ``target`` that counts, records and can cut connections.

    ``drop_after`` / ``drop_after_down``: cut a connection (with a RST; ``gently``: a
    FIN after the bytes that went through, a body cut at N bytes) once that many bytes
    went upstream / downstream on it; ``drops`` limits how many connections are cut
    (None: all of them).
    """

    def __init__(
        self, target: tuple[str, int], *, drop_after: int | None = None,
        drop_after_down: int | None = None, drops: int | None = None, record: bool = False,
        gently: bool = False,
    ) -> None:
        self.target = target
        # A RST makes the receiver's kernel drop bytes it got but was not asked for yet,
        # as many as timing decides; a FIN delivers all of them first.
        self.gently = gently
        self.limits = {True: drop_after, False: drop_after_down}
        self.drops = drops
        self.record = record
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.dropped = 0
        self.upstream = bytearray()  # what clients sent, when ``record``
        self._cond = threading.Condition()
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._cond:
                self.connections += 1
                self._sockets += [client, upstream]
            state = {"up": 0, "down": 0, "done": 0}
            for args in ((client, upstream, True, state), (upstream, client, False, state)):
                threading.Thread(target=self._pipe, args=args, daemon=True).start()

    def _cut(self, *socks: socket.socket) -> None:
        for s in socks:
            try:
                if not self.gently:  # linger 0: close with a RST, like a dropped link
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # close() alone does not wake the relay thread blocked in recv() on this
                # socket, and the kernel keeps the connection while that call holds it.
                s.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            s.close()

    def _pipe(
        self, src: socket.socket, dst: socket.socket, up: bool, state: dict[str, int]
    ) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:  # orderly end: pass the FIN on, close once both ways are done
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                with self._cond:
                    state["done"] += 1
                    last = state["done"] == 2
                if last:
                    src.close()
                    dst.close()
                return
            cut = False
            way = "up" if up else "down"
            with self._cond:
                limit = self.limits[up]
                if limit is not None and (self.drops is None or self.dropped < self.drops):
                    if state[way] + len(data) >= limit:
                        data = data[: max(0, limit - state[way])]
                        cut = True
                        self.dropped += 1
                state[way] += len(data)
                if up:
                    self.bytes_up += len(data)
                    if self.record:
                        self.upstream += data
                else:
                    self.bytes_down += len(data)
                self._cond.notify_all()
            try:
                if data:
                    dst.sendall(data)
            except OSError:
                cut = True
            if cut:
                self._cut(src, dst)
                return

    def wait_up(self, count: int, timeout: float = 600) -> bool:
        """Block until ``count`` bytes went upstream in total; False on timeout.

        The timeout only catches a transfer that never comes: it returns as soon as the
        bytes are there, and a loaded machine can take minutes to start a push.
        """
        with self._cond:
            return self._cond.wait_for(lambda: self.bytes_up >= count, timeout=timeout)

    def close(self) -> None:
        """Stop accepting and cut every live connection."""
        if self._closed:
            return
        self._closed = True
        try:  # on Linux only shutdown() wakes a thread blocked in accept()
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._cond:
            socks, self._sockets = self._sockets, []
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        self._thread.join(timeout=5)
