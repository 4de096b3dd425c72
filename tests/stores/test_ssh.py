"""SSH store specifics against a real sshd: host keys, ssh config, paths, dropped links."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import paramiko
import pytest
from lazyhelpers import write_stream
from paramiko.sftp import CMD_READ
from servers import SSHFixture, TcpProxy

from git_lazydata.errors import (
    ConfigError,
    ObjectMissing,
    StoreAuthError,
    StoreUnreachable,
    TransientStoreError,
)
from git_lazydata.pointer import object_key
from git_lazydata.stores.base import FileSource
from git_lazydata.stores.ssh import SSHStore, request_size
from git_lazydata.stores.urls import parse_store_url

MiB = 1 << 20


def _store(url: str) -> SSHStore:
    return SSHStore(parse_store_url(url))


def _fingerprint(pub_line: str, tmp_path: Path) -> str:
    path = tmp_path / "key.pub"
    path.write_text(pub_line + "\n")
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(path)], capture_output=True, text=True, check=True
    )
    return out.stdout.split()[1]  # "256 SHA256:... comment (ED25519)"


def test_unknown_host_is_refused_with_how_to_accept(ssh_store: SSHFixture, tmp_path: Path) -> None:
    known = ssh_store.ssh_dir / "known_hosts"
    known.write_text("")
    store = _store(ssh_store.url)
    with pytest.raises(StoreAuthError) as info:
        store.missing({"0" * 64: 1})
    message = str(info.value)
    assert "\n" not in message
    assert f"[127.0.0.1]:{ssh_store.port} is not in known_hosts" in message
    assert _fingerprint(ssh_store.sshd.host_key, tmp_path) in message
    scan = f"ssh-keyscan -t ssh-ed25519 -p {ssh_store.port} 127.0.0.1 >> ~/.ssh/known_hosts"
    assert scan in message
    assert known.read_text() == ""  # never added on our own

    # Doing what the message says makes it work.
    scanned = ssh_store.sshd.known_hosts_line()
    known.write_text(scanned)
    assert store.missing({"0" * 64: 1}) == {"0" * 64}


def test_changed_host_key_is_refused(ssh_store: SSHFixture, tmp_path: Path) -> None:
    sshd = ssh_store.sshd
    (ssh_store.ssh_dir / "known_hosts").write_text(sshd.known_hosts_line(key=sshd.other_key))
    blob = tmp_path / "blob"
    oid = write_stream(blob, 1000)
    with pytest.raises(StoreAuthError, match="host key CHANGED") as info:
        _store(ssh_store.url).upload(oid, 1000, FileSource(blob), lambda n: None)
    assert _fingerprint(sshd.host_key, tmp_path) in str(info.value)
    assert _fingerprint(sshd.other_key, tmp_path) in str(info.value)
    assert "ssh-keygen -R" in str(info.value)
    assert not any(ssh_store.root.iterdir())


def test_scp_form_through_config_alias(ssh_store: SSHFixture, tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    oid = write_stream(blob, 5000)
    store = _store(f"lazytest:{ssh_store.root}")
    store.upload(oid, 5000, FileSource(blob), lambda n: None)
    assert (ssh_store.root / object_key(oid)).read_bytes() == blob.read_bytes()


def test_relative_path_is_under_the_login_directory(ssh_store: SSHFixture, tmp_path: Path) -> None:
    name = f"rel-{uuid.uuid4().hex[:8]}/lake"
    blob = tmp_path / "blob"
    oid = write_stream(blob, 100)
    try:
        for url in (f"lazytest:{name}", f"ssh://lazytest/~/{name}"):
            store = _store(url)
            store.upload(oid, 100, FileSource(blob), lambda n: None)
            assert store.missing({oid: 100}) == set()
            store.close()
        assert (ssh_store.sshd.sftp_home / name / object_key(oid)).is_file()
    finally:
        shutil.rmtree(ssh_store.sshd.sftp_home / name.split("/")[0], ignore_errors=True)


def test_default_key_user_and_port_from_url(ssh_store: SSHFixture, tmp_path: Path) -> None:
    (ssh_store.ssh_dir / "config").unlink()  # no alias, no IdentityFile: ~/.ssh/id_ed25519
    shutil.copy(ssh_store.sshd.user_key, ssh_store.ssh_dir / "id_ed25519")
    (ssh_store.ssh_dir / "id_ed25519").chmod(0o600)
    import getpass

    store = _store(f"ssh://{getpass.getuser()}@127.0.0.1:{ssh_store.port}{ssh_store.root}")
    store.prepare_push()
    assert (ssh_store.root / "git-lazy.json").is_file()


def test_no_usable_key_is_an_auth_error(ssh_store: SSHFixture) -> None:
    (ssh_store.ssh_dir / "config").write_text(
        f"Host lazytest\n  HostName 127.0.0.1\n  Port {ssh_store.port}\n"
    )
    with pytest.raises(StoreAuthError, match="authentication failed"):
        _store(ssh_store.url).missing({"0" * 64: 1})


def test_refused_connection_is_unreachable(ssh_store: SSHFixture) -> None:
    with socket_closed_port() as port:
        with pytest.raises(StoreUnreachable, match="cannot connect"):
            _store(f"ssh://127.0.0.1:{port}/srv").missing({"0" * 64: 1})


class socket_closed_port:
    """A loopback port that refuses connections while the block runs."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))  # bound, never listening: connect() is refused
        return int(self._sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


def test_missing_root_and_hostile_config(ssh_store: SSHFixture, tmp_path: Path) -> None:
    with pytest.raises(StoreUnreachable, match="does not exist"):
        _store(f"ssh://lazytest{tmp_path}/nowhere").open("0" * 64)
    with pytest.raises(ObjectMissing):
        _store(ssh_store.url).open("0" * 64)
    (ssh_store.ssh_dir / "config").write_text("Host evil\n  HostName -oProxyCommand=touch_pwned\n")
    with pytest.raises(ConfigError, match="must not start with '-'"):
        _store("ssh://evil/srv")


def test_existence_checks_in_a_new_a_missing_and_a_filled_store(ssh_store: SSHFixture, tmp_path: Path) -> None:
    absent = {hashlib.sha256(str(n).encode()).hexdigest(): 5 for n in range(30)}
    with pytest.raises(StoreUnreachable, match="does not exist"):
        _store(f"ssh://lazytest{tmp_path}/nowhere").missing(absent)
    store = _store(ssh_store.url)
    assert store.missing(absent) == set(absent)  # no objects/ folder yet
    stored = {}
    for seed in range(3):
        oid = write_stream(tmp_path / f"blob{seed}", 100 + seed, seed=seed)
        store.upload(oid, 100 + seed, FileSource(tmp_path / f"blob{seed}"), lambda n: None)
        stored[oid] = 100 + seed
    # A neighbour in the same ab/ folder as a stored object is still absent.
    same_shard = next(oid for oid in (hashlib.sha256(str(n).encode()).hexdigest() for n in range(10**5))
                      if oid[:2] == next(iter(stored))[:2] and oid not in stored)
    resized = next(iter(stored))
    query = {**stored, **absent, same_shard: 7, resized: stored[resized] + 1}
    assert store.missing(query) == {*absent, same_shard, resized}
    store.close()


def test_parallel_uploads_share_the_channel_pool(ssh_store: SSHFixture, tmp_path: Path) -> None:
    store = _store(ssh_store.url)
    blobs = []
    for seed in range(20):
        path = tmp_path / f"b{seed}"
        blobs.append((write_stream(path, 50_000 + seed, seed), 50_000 + seed, path))
    errors: list[BaseException] = []

    def push(part: list[tuple[str, int, Path]]) -> None:
        try:
            for oid, size, path in part:
                store.upload(oid, size, FileSource(path), lambda n: None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(blobs[i::10],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.missing({**{oid: size for oid, size, _ in blobs}, "0" * 64: 1}) == {"0" * 64}
    for oid, _, _ in blobs:
        with store.open(oid) as f:
            assert hashlib.sha256(f.read()).hexdigest() == oid
    store.close()


def test_dropped_connection_mid_upload(ssh_store: SSHFixture, tmp_path: Path) -> None:
    size = 4 * MiB
    blob = tmp_path / "blob"
    oid = write_stream(blob, size)
    with TcpProxy(("127.0.0.1", ssh_store.port), drop_after=2 * MiB, drops=1) as proxy:
        known = ssh_store.ssh_dir / "known_hosts"
        known.write_text(ssh_store.sshd.known_hosts_line(port=proxy.port))
        (ssh_store.ssh_dir / "config").write_text(
            f"Host 127.0.0.1\n  IdentityFile {ssh_store.sshd.user_key}\n"
        )
        store = _store(f"ssh://127.0.0.1:{proxy.port}{ssh_store.root}")
        with pytest.raises(TransientStoreError, match="connection lost"):
            store.upload(oid, size, FileSource(blob), lambda n: None)
        assert proxy.dropped == 1
        final = ssh_store.root / object_key(oid)
        assert not final.exists()

        store.upload(oid, size, FileSource(blob), lambda n: None)  # reconnects on its own
        assert proxy.connections == 2
        assert hashlib.sha256(final.read_bytes()).hexdigest() == oid


def test_cut_download_raises_instead_of_truncating(ssh_store: SSHFixture, tmp_path: Path) -> None:
    size = 3 * MiB
    blob = tmp_path / "blob"
    oid = write_stream(blob, size)
    _store(ssh_store.url).upload(oid, size, FileSource(blob), lambda n: None)
    with TcpProxy(("127.0.0.1", ssh_store.port), drop_after_down=2 * MiB, drops=1) as proxy:
        (ssh_store.ssh_dir / "known_hosts").write_text(
            ssh_store.sshd.known_hosts_line(port=proxy.port)
        )
        (ssh_store.ssh_dir / "config").write_text(
            f"Host 127.0.0.1\n  IdentityFile {ssh_store.sshd.user_key}\n"
        )
        store = _store(f"ssh://127.0.0.1:{proxy.port}{ssh_store.root}")
        with store.open(oid) as f, pytest.raises(TransientStoreError):
            while f.read(256 * 1024):
                pass
        assert proxy.dropped == 1
        with store.open(oid, 5, 100) as f:  # reconnects
            assert f.read() == blob.read_bytes()[5:100]
        store.close()


def test_requests_are_no_longer_than_the_server_answers_in_full(ssh_store: SSHFixture, tmp_path: Path) -> None:
    # OpenSSH before 8.7 answers reads of at most 64 KiB; other servers are only
    # known to answer paramiko's 32 KiB. A longer request would come back short.
    assert request_size("SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5") == 64 << 10
    assert request_size("SSH-2.0-dropbear_2022.83") == 32 << 10
    # The test server is a current OpenSSH: objects move in 128 KiB requests, whole.
    store = _store(ssh_store.url)
    blob = tmp_path / "blob"
    size = 3 * MiB + 12345
    oid = write_stream(blob, size)
    store.upload(oid, size, FileSource(blob), lambda n: None)
    assert store._request_size == 128 << 10
    with store.open(oid) as f:
        assert hashlib.sha256(f.read()).hexdigest() == oid
    store.close()


def test_every_byte_of_a_read_is_asked_for_once(
    ssh_store: SSHFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read asks for a window of requests at once. When a reply is read before the
    # window's next request has gone out (a busy machine), the rest of the window
    # must still come from the requests already sent, not from new ones beside them.
    store = _store(ssh_store.url)
    blob = tmp_path / "blob"
    size = 3 * MiB + 12345
    oid = write_stream(blob, size)
    store.upload(oid, size, FileSource(blob), lambda n: None)

    reader = threading.get_ident()
    replied = threading.Event()
    asked: list[tuple[int, int]] = []
    send, receive = paramiko.SFTPClient._async_request, paramiko.SFTPFile._async_response

    def async_request(self, fileobj, t, *args):  # type: ignore[no-untyped-def]
        if t == CMD_READ:
            if asked and threading.get_ident() != reader:
                replied.wait(5)  # a helper thread sending late: the first reply is in
            asked.append((args[1], args[2]))
        return send(self, fileobj, t, *args)

    def async_response(self, t, msg, num):  # type: ignore[no-untyped-def]
        replied.set()
        return receive(self, t, msg, num)

    monkeypatch.setattr(paramiko.SFTPClient, "_async_request", async_request)
    monkeypatch.setattr(paramiko.SFTPFile, "_async_response", async_response)
    with store.open(oid) as f:
        assert hashlib.sha256(f.read()).hexdigest() == oid
    store.close()
    offsets = [offset for offset, _ in asked]
    assert len(offsets) == len(set(offsets))
    assert sum(length for _, length in asked) == size
