#!/usr/bin/env python3
"""Benchmark `lazy.open` (ranged reads from a store) against `git lazy fetch` of a whole object.

bench_open_README
=================

How to run
----------
    pip install .                                   # from the repo root, with the test extras
    python3 scripts/bench_open.py                   # 1 GiB object, 3 rounds; ~15-30 min on 2 cores
    python3 scripts/bench_open.py --quick --repeat 1   # smoke run: a 64 MiB object, ~1-2 min
    python3 scripts/bench_open.py --workdir /dev/shm --json out.json

Run it with the interpreter git-lazy is installed in: every timed step runs that
interpreter (`python -c ...`) or the `git-lazy` script next to it, and the benchmark
itself needs moto's server (`moto[s3]`, flask, flask-cors), boto3 and OpenSSH's sshd
(/usr/sbin/sshd, ssh-keygen; run as root, as CI does). It installs nothing.

Options: --quick (a 64 MiB object instead of 1 GiB), --repeat N (rounds, default 3;
the median is reported), --json FILE (also write the results there), --keep (keep the
temp dir), --workdir DIR (parent of the temp dir; a tmpfs such as /dev/shm keeps disk
noise out), --step-timeout S (a hung step is killed and reported; default 3600).

What is measured
----------------
One object, data/big.bin at tag v1 (1 GiB of incompressible seeded bytes), is read at
that OLD revision: HEAD holds another, smaller version of the file, so nothing in the
work tree can serve it. For each kind of store (S3: moto's server; SSH: OpenSSH's sshd
with internal-sftp), every round runs, each in a fresh process with a fresh, empty
cache (GIT_LAZY_CACHE_DIR points at a new folder, deleted afterwards):
1. fetch: `git lazy fetch --rev v1 data/big.bin`, the whole object into the cache.
2. open: `python -c` that imports git_lazydata, calls
   `lazy.open("data/big.bin", rev="v1")` and reads its first 1 MiB (read(1), then the
   rest of the MiB). The child also reports, as info, the time from the call to
   lazy.open to its first byte and to the end of the first MiB (no interpreter start,
   no imports), and the bytes its reader asked the store for.
3. read all: `python -c` that reads the same file object to its end in 1 MiB reads (the
   reader checks the sha256 at the end; a mismatch fails the step).
Info rows, no target, each its own process timed from inside: what importing the
store's SDK costs (`import boto3` and making a client; `import paramiko`), and for S3
moto's own floors with plain http.client (no SDK, no git-lazy): one ranged GET of the
first MiB, the whole object in one GET, and the whole object in the ranged GETs
lazy.open makes for 1 MiB reads (its window schedule, from git_lazydata.reader); the
last two run in round 1 only.
Times are the wall time of the whole process (interpreter start included, as a user
pays it), median over the rounds. Steps 2 and 3 check afterwards that their cache is
still empty of the object (so the bytes really came from the store); step 1 checks
that the object landed in the cache with its size. Rounds take the stores in turn
(round 1: S3 then SSH, round 2: the same, ...) so slow drift of the machine hits both.

Bytes moved: each store's endpoint is a TCP relay inside this process (a thread per
direction of each connection, loopback to the real server), and the store is
configured with the relay's port. What the relay forwards from the server to the
client during a step is that step's bytes moved (protocol overhead included: HTTP
headers; SSH's handshake, framing and MACs). Upstream bytes go to the JSON only.

Targets (PASS/MISS per store)
-----------------------------
- open / fetch time  <= 0.05  (the first MiB costs under 5% of fetching it all)
- open bytes moved   <  2 MiB
- read all / fetch   <= 1.2   (a whole sequential read through lazy.open)

Isolation and set-up (untimed)
------------------------------
One temp dir holds everything: HOME and GIT_CONFIG_GLOBAL point inside it
(init.defaultBranch=main, user.name/email, gc.auto=0, maintenance.auto=false),
GIT_CONFIG_NOSYSTEM=1, AWS credentials `testing`, no SSH agent, and the interpreter's
folder first on PATH. S3: ThreadedMotoServer on 127.0.0.1 (ephemeral port) in this
process, bucket `bench`, store `s3://bench/open` with `--endpoint` the relay; moto's
spill files for large objects go to the temp dir too. SSH: sshd on a free loopback
port with a fresh host key and user key (key auth only, `Subsystem sftp
internal-sftp`), ~/.ssh/config (Host 127.0.0.1, User, IdentityFile) and known_hosts
for the relay's port, store `ssh://127.0.0.1:<relay port>/<temp dir>/ssh-store`.
Repositories: `git init`, `git lazy install --local`, `git lazy track "*.bin"`,
data/big.bin written in 1 MiB chunks (sha256 computed meanwhile), commit, tag v1, a
different 16 MiB data/big.bin (4 MiB with --quick), commit; `git lazy remote add lake
<S3 URL> --endpoint <relay>` and `git lazy push lake --all`. The SSH repository is a
plain `git clone` of that one (so the same commits and oids) with `git lazy install
--local`, its own `lake` store (the SSH URL) and `git lazy push lake --all`. Each
repository names one store only, so every read goes to the store under test. The
package is byte-compiled and imported once before the first timing.

Caveats
-------
moto answers a ranged GET by reading the whole object into memory and slicing it, so
on S3 every window lazy.open opens costs moto a read of the full object: the S3 open
and read-all times carry a per-request cost that grows with the object's size and that
real S3 does not have. The moto floor rows show that cost without git-lazy: compare
"whole object, 1 GET" with "lazy.open's windows". Both sides of every ratio go through
the same relay, so its cost is shared. The report ends with the CPU pressure and steal
seen during the timed steps (/proc/pressure/cpu, /proc/stat): on a busy or
overcommitted machine, read the ratios with them.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import logging
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30
CHUNK = MiB

PATH_IN_REPO = "data/big.bin"
REV = "v1"
BUCKET = "bench"
PREFIX = "open"
STORE = "lake"
KINDS = ("s3", "ssh")

TARGET_OPEN_RATIO = 0.05  # open (first MiB) / fetch (whole object), process times
TARGET_OPEN_BYTES = 2 * MiB  # bytes moved by open + first MiB, strictly under
TARGET_READ_RATIO = 1.2  # read all through lazy.open / fetch

STEP_FETCH = "fetch whole (git lazy fetch --rev v1)"
STEP_OPEN = "open + first 1 MiB (lazy.open)"
STEP_READ = "read all, 1 MiB reads (lazy.open)"
# Info steps (no target): the time reported is the child's own, in process.
STEP_SDK = {"s3": "import boto3 + make a client", "ssh": "import paramiko"}
STEP_FLOOR_MIB = "moto floor: 1 MiB ranged GET"
STEP_FLOOR_WHOLE = "moto floor: whole object, 1 GET"
STEP_FLOOR_WINDOWS = "moto floor: lazy.open's windows"
FLOOR_MODES = {STEP_FLOOR_MIB: "first-mib", STEP_FLOOR_WHOLE: "whole",
               STEP_FLOOR_WINDOWS: "windows"}

# The children: each prints one JSON line on stdout. Imports are timed inside the child.
CHILD_OPEN = """
import json, time
t0 = time.perf_counter()
import git_lazydata as lazy
t1 = time.perf_counter()
f = lazy.open(PATH, rev=REV)
t2 = time.perf_counter()
first = f.read(1)
t3 = time.perf_counter()
rest = f.read((1 << 20) - len(first))
t4 = time.perf_counter()
raw = getattr(f, "raw", f)
out = dict(import_s=t1 - t0, open_s=t2 - t1, first_byte_s=t3 - t1, first_mib_s=t4 - t1,
           bytes=len(first) + len(rest), reader=type(raw).__name__,
           requested=getattr(raw, "requested", None))
f.close()
print(json.dumps(out))
"""

CHILD_READ = """
import json, time
t0 = time.perf_counter()
import git_lazydata as lazy
t1 = time.perf_counter()
total = 0
with lazy.open(PATH, rev=REV) as f:
    raw = getattr(f, "raw", f)
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
    requested = getattr(raw, "requested", None)
t2 = time.perf_counter()
print(json.dumps(dict(import_s=t1 - t0, read_s=t2 - t1, bytes=total, reader=type(raw).__name__,
                      requested=requested)))
"""

# moto itself, with no SDK: plain http.client GETs of the object (a new connection for each;
# moto checks no signature, but refuses a GET without an Authorization header). Modes:
# "first-mib" one ranged GET of [0, 1 MiB); "whole" one GET of everything; "windows" the
# ranged GETs lazy.open makes for 1 MiB reads from the start to the end (its window
# schedule is computed from git_lazydata.reader's constants, outside the timing).
CHILD_FLOOR = """
import http.client, json, sys, time
from git_lazydata.reader import FIRST_WINDOW, next_window
port, path, mode, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
MiB = 1 << 20
if mode == "first-mib":
    ranges = [(0, MiB)]
elif mode == "whole":
    ranges = [(0, None)]
else:
    ranges, pos, window = [(0, min(size, FIRST_WINDOW))], min(size, FIRST_WINDOW), FIRST_WINDOW
    while pos < size:
        window = next_window(window)
        end = size if window == 0 else min(size, pos + max(window, MiB - pos % MiB))
        ranges.append((pos, end))
        pos = end
auth = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=00")
got = 0
t0 = time.perf_counter()
for start, end in ranges:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": auth}
    if end is not None:
        headers["Range"] = "bytes=%d-%d" % (start, end - 1)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    if r.status not in (200, 206):
        sys.exit("HTTP %d for %r" % (r.status, headers))
    while True:
        chunk = r.read(MiB)
        if not chunk:
            break
        got += len(chunk)
    c.close()
t1 = time.perf_counter()
print(json.dumps(dict(secs=t1 - t0, bytes=got, requests=len(ranges))))
"""

# What a first use of the store's SDK costs before any byte moves: import and set up.
CHILD_SDK = """
import json, sys, time
t0 = time.perf_counter()
if sys.argv[1] == "s3":
    import boto3
    boto3.session.Session().client("s3", region_name="us-east-1",
                                   endpoint_url="http://127.0.0.1:9")
else:
    import paramiko
t1 = time.perf_counter()
print(json.dumps(dict(secs=t1 - t0)))
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def human(n: float | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def cpu_stalled_us() -> int | None:
    """Microseconds tasks have waited for a CPU so far (/proc/pressure/cpu "some"), if known."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().split("total=")[1])
    except (OSError, IndexError, ValueError):
        return None


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs so far, from /proc/stat: time the host gave elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


class StepFailed(Exception):
    def __init__(self, what: str, rc: object, stderr: str) -> None:
        lines = (stderr or "").strip().splitlines()
        if len(lines) > 20:
            lines = lines[:4] + ["..."] + lines[-15:]
        self.what, self.rc, self.stderr = what, rc, "\n".join(lines)
        super().__init__(f"{what} exited {rc}")


# --- the relay ---------------------------------------------------------------------------


class Relay:
    """A loopback TCP relay to 127.0.0.1:``target`` that counts the bytes it forwards."""

    BUFFER = 1 << 20

    def __init__(self, target: int) -> None:
        self.target = target
        self.down = 0  # server -> client
        self.up = 0  # client -> server
        self.connections = 0
        self.active = 0
        self._cond = threading.Condition()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._serve, name="relay-accept", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=30)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._cond:
                self.connections += 1
                self.active += 1
                self._open.update((client, server))
            state = {"ends": 0}
            threading.Thread(target=self._pump, args=(client, server, False, state),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True, state),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, down: bool,
              state: dict[str, int]) -> None:
        buf = bytearray(self.BUFFER)
        view = memoryview(buf)
        broken = False
        while True:
            try:
                n = src.recv_into(buf)
            except OSError:
                n, broken = 0, True
            if n == 0:
                break
            with self._cond:
                if down:
                    self.down += n
                else:
                    self.up += n
            try:
                dst.sendall(view[:n])
            except OSError:
                broken = True
                break
        if broken:  # wake the other direction too: the connection is over
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        else:  # an orderly end: pass the FIN on
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        with self._cond:
            state["ends"] += 1
            if state["ends"] < 2:
                return
            self.active -= 1
            self._open.difference_update((src, dst))
            self._cond.notify_all()
        src.close()
        dst.close()

    def reset(self) -> None:
        with self._cond:
            self.down = self.up = self.connections = 0

    def wait_idle(self, timeout: float = 60) -> bool:
        """True once every connection has ended (the step's bytes are all counted)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.active == 0, timeout=timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._cond:
            socks = list(self._open)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --- the benchmark -----------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.size = 64 * MiB if args.quick else GiB
        self.head_size = 4 * MiB if args.quick else 16 * MiB
        self.repeat = max(1, args.repeat)
        self.root = Path(tempfile.mkdtemp(prefix="lazy-open-", dir=args.workdir))
        self.oid = ""
        self.env: dict[str, str] = {}
        self.repos: dict[str, Path] = {}
        self.relays: dict[str, Relay] = {}
        self.moto = None
        self.moto_port = 0
        self.sshd: subprocess.Popen[bytes] | None = None
        self.runs: dict[tuple[str, str], list[dict]] = {}
        self.failures: list[dict] = []
        self.notes: list[str] = []
        self._fresh = 0
        self.package = "?"

    # ---- environment and processes
    def make_env(self) -> None:
        home = self.root / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        drop = ("GIT_", "AWS_", "PYTHON")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(drop) and k not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID")}
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            GIT_LAZY_CACHE_DIR=str(self.root / "setup-cache"),
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                  os.environ.get("PATH", "/usr/bin:/bin")]),
        )
        self.env = env
        for key, value in (("init.defaultBranch", "main"), ("user.name", "Bench"),
                           ("user.email", "bench@example.invalid"), ("gc.auto", "0"),
                           ("maintenance.auto", "false"), ("advice.detachedHead", "false")):
            self.run(["git", "config", "--global", key, value], self.root)

    def run(self, cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
        """Run one process, return (wall seconds, result); raise StepFailed when it fails."""
        cmd = [str(c) for c in cmd]
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env or self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             errors="replace", start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout or self.args.step_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            out, err = p.communicate()
            raise StepFailed(" ".join(cmd[:4]), "timeout", err) from None
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise StepFailed(" ".join(cmd[:4]), p.returncode, err or out)
        return dt, subprocess.CompletedProcess(cmd, p.returncode, out, err)

    def lazy(self, repo: Path, *args: str) -> None:
        self.run(["git", "lazy", *args], repo)

    def git(self, repo: Path, *args: str) -> None:
        self.run(["git", *args], repo)

    def fresh_cache(self, label: str) -> Path:
        self._fresh += 1
        path = self.root / "caches" / f"{self._fresh:03d}-{label}"
        path.mkdir(parents=True)
        return path

    # ---- servers
    def start_moto(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto spools objects over its buffer size to temp files: keep them in the temp dir
        spill = self.root / "moto-tmp"
        spill.mkdir()
        tempfile.tempdir = str(spill)
        from moto.server import ThreadedMotoServer

        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        _, self.moto_port = self.moto.get_host_and_port()
        import boto3

        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.moto_port}",
                     aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        self.relays["s3"] = Relay(self.moto_port)
        log(f"moto S3 server on 127.0.0.1:{self.moto_port}, relay on {self.relays['s3'].port}")

    def start_sshd(self) -> None:
        work = self.root / "sshd"
        work.mkdir()
        for name in ("host_ed25519", "user_ed25519"):
            self.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench-open",
                      "-f", str(work / name)], work)
        (work / "authorized_keys").write_text((work / "user_ed25519.pub").read_text())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        config = work / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {work / 'host_ed25519'}\n"
            f"PidFile {work / 'sshd.pid'}\nAuthorizedKeysFile {work / 'authorized_keys'}\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin yes\n"
            "Subsystem sftp internal-sftp\nLogLevel INFO\n")
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        with open(work / "sshd.log", "wb") as err:
            self.sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    if s.recv(64).startswith(b"SSH-2.0"):
                        break
            except OSError:
                pass
            if self.sshd.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sshd did not start: "
                                   + (work / "sshd.log").read_text(errors="replace")[-2000:])
            time.sleep(0.05)
        relay = self.relays["ssh"] = Relay(port)
        ssh = Path(self.env["HOME"]) / ".ssh"
        (ssh / "config").write_text(
            f"Host 127.0.0.1\n    User {getpass.getuser()}\n"
            f"    IdentityFile {work / 'user_ed25519'}\n")
        host_key = " ".join((work / "host_ed25519.pub").read_text().split()[:2])
        (ssh / "known_hosts").write_text(f"[127.0.0.1]:{relay.port} {host_key}\n")
        log(f"sshd on 127.0.0.1:{port}, relay on {relay.port}")

    # ---- repositories
    def write_data(self, path: Path, size: int, seed: str) -> str:
        rng = random.Random(seed)
        h = hashlib.sha256()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            left = size
            while left:
                block = rng.randbytes(min(CHUNK, left))
                h.update(block)
                f.write(block)
                left -= len(block)
        return h.hexdigest()

    def make_repos(self) -> None:
        s3 = self.repos["s3"] = self.root / "repo-s3"
        s3.mkdir()
        self.git(s3, "init", "-q")
        self.lazy(s3, "install", "--local")
        self.lazy(s3, "track", "*.bin")
        self.git(s3, "add", ".gitattributes")
        t0 = time.perf_counter()
        self.oid = self.write_data(s3 / PATH_IN_REPO, self.size, f"bench-open:v1:{self.size}")
        log(f"wrote {PATH_IN_REPO} v1 ({human(self.size)}, sha256 {self.oid[:12]}...) "
            f"in {time.perf_counter() - t0:.1f} s")
        self.git(s3, "add", PATH_IN_REPO)
        self.git(s3, "commit", "-q", "-m", "v1")
        self.git(s3, "tag", REV)
        self.write_data(s3 / PATH_IN_REPO, self.head_size, f"bench-open:v2:{self.head_size}")
        self.git(s3, "add", PATH_IN_REPO)
        self.git(s3, "commit", "-q", "-m", "v2: another, smaller version")
        self.lazy(s3, "remote", "add", STORE, f"s3://{BUCKET}/{PREFIX}",
                  "--endpoint", f"http://127.0.0.1:{self.relays['s3'].port}")
        t0 = time.perf_counter()
        self.lazy(s3, "push", "-q", STORE, "--all")
        log(f"pushed to S3 in {time.perf_counter() - t0:.1f} s")

        ssh = self.repos["ssh"] = self.root / "repo-ssh"
        self.git(self.root, "clone", "-q", str(s3), str(ssh))
        self.lazy(ssh, "install", "--local")
        store_dir = self.root / "ssh-store"
        self.lazy(ssh, "remote", "add", STORE,
                  f"ssh://127.0.0.1:{self.relays['ssh'].port}{store_dir}")
        t0 = time.perf_counter()
        self.lazy(ssh, "push", "-q", STORE, "--all")
        log(f"pushed to SSH in {time.perf_counter() - t0:.1f} s")
        stored = next(store_dir.rglob(self.oid), None)
        if stored is None or stored.stat().st_size != self.size:
            raise RuntimeError(f"the SSH store lacks {self.oid} after the push")
        for kind in KINDS:  # HEAD must not be the measured version
            _, p = self.run(["git", "lazy", "ls-files", "--long"], self.repos[kind])
            if self.oid in p.stdout:
                raise RuntimeError(f"HEAD of {kind} repo still references the v1 object")
        # The setup cache holds the object: no timed step may see it.
        shutil.rmtree(self.root / "setup-cache", ignore_errors=True)

    def warm_up(self) -> None:
        """Byte-compile git-lazy and load the interpreter's files once (untimed)."""
        _, p = self.run([sys.executable, "-c",
                         "import git_lazydata, os; print(os.path.dirname(git_lazydata.__file__))"],
                        self.root)
        self.package = p.stdout.strip()
        self.run([sys.executable, "-m", "compileall", "-q", self.package], self.root)
        self.run([sys.executable, "-c", "import git_lazydata, boto3, paramiko, botocore.session"],
                 self.root)

    # ---- timed steps
    def step_env(self, cache: Path) -> dict[str, str]:
        return dict(self.env, GIT_LAZY_CACHE_DIR=str(cache))

    def cached_object(self, cache: Path) -> Path | None:
        return next((p for p in cache.rglob(self.oid) if p.is_file()), None)

    def timed(self, kind: str, step: str, cmd: list[str], cache: Path) -> tuple[float, dict]:
        relay = self.relays[kind]
        if not relay.wait_idle(60):
            self.notes.append(f"{kind}: relay still had {relay.active} connection(s) open "
                              f"before '{step}'")
        os.sync()
        relay.reset()
        stalled, ticks = cpu_stalled_us(), cpu_ticks()
        dt, p = self.run(cmd, self.repos[kind], env=self.step_env(cache))
        after, ticks_after = cpu_stalled_us(), cpu_ticks()
        idle = relay.wait_idle(60)
        row = dict(seconds=dt, down=relay.down, up=relay.up, connections=relay.connections)
        if stalled is not None and after is not None:
            # the share of the step's wall time during which some task waited for a CPU
            row["cpu_wait"] = round(min(1.0, (after - stalled) / 1e6 / dt), 3)
        if ticks and ticks_after and ticks_after[1] > ticks[1]:
            row["cpu_steal"] = round((ticks_after[0] - ticks[0]) / (ticks_after[1] - ticks[1]), 3)
        if not idle:
            self.notes.append(f"{kind}: '{step}': a connection was still open 60 s after the "
                              "process ended; its bytes may be undercounted")
        if p.stdout.strip():
            row.update(json.loads(p.stdout.strip().splitlines()[-1]))
        return dt, row

    def command(self, kind: str, step: str) -> list[str]:
        prelude = f"PATH, REV = {PATH_IN_REPO!r}, {REV!r}\n"
        if step == STEP_FETCH:
            return ["git", "lazy", "fetch", "-q", "--rev", REV, PATH_IN_REPO]
        if step == STEP_OPEN:
            return [sys.executable, "-c", prelude + CHILD_OPEN]
        if step == STEP_READ:
            return [sys.executable, "-c", prelude + CHILD_READ]
        if step == STEP_SDK[kind]:
            return [sys.executable, "-c", CHILD_SDK, kind]
        key = f"/{BUCKET}/{PREFIX}/objects/{self.oid[:2]}/{self.oid[2:4]}/{self.oid}"
        return [sys.executable, "-c", CHILD_FLOOR, str(self.relays["s3"].port), key,
                FLOOR_MODES[step], str(self.size)]

    def check(self, step: str, row: dict, cache: Path) -> None:
        """Raise StepFailed when a step did not do what it is meant to measure."""
        found = self.cached_object(cache)
        if step == STEP_FETCH:
            if found is None or found.stat().st_size != self.size:
                raise StepFailed(step, "check", "the object is not in the cache after fetch")
            return
        if found is not None:
            raise StepFailed(step, "check", "the object came into the cache: not a store read")
        want = {STEP_OPEN: MiB, STEP_READ: self.size, STEP_FLOOR_MIB: MiB,
                STEP_FLOOR_WHOLE: self.size, STEP_FLOOR_WINDOWS: self.size}.get(step)
        if want is not None and row.get("bytes") != want:
            raise StepFailed(step, "check", f"read {row.get('bytes')} bytes, expected {want}")
        if step in (STEP_OPEN, STEP_READ) and row.get("reader") != "ObjectReader":
            raise StepFailed(step, "check", f"lazy.open gave a {row.get('reader')}, "
                             "not a reader over a store")

    def one(self, kind: str, step: str, rnd: int) -> None:
        cache = self.fresh_cache(f"{kind}-r{rnd}")
        try:
            dt, row = self.timed(kind, step, self.command(kind, step), cache)
            self.check(step, row, cache)
            row["round"] = rnd
            self.runs.setdefault((kind, step), []).append(row)
            extra = ""
            if "first_byte_s" in row:
                extra = (f"  (in process: first byte {row['first_byte_s']:.3f} s, "
                         f"1 MiB {row['first_mib_s']:.3f} s, asked {human(row['requested'])})")
            elif "read_s" in row:
                extra = f"  (in process: {row['read_s']:.2f} s, asked {human(row['requested'])})"
            elif "secs" in row:
                extra = f"  (in process: {row['secs']:.3f} s)"
            log(f"  [{kind:3s} r{rnd}] {step:38s} {dt:8.3f} s  {human(row['down']):>10s} moved"
                f"{extra}")
            if step in (STEP_FETCH, STEP_READ) and row["down"] > self.size * 1.01 + MiB:
                self.notes.append(f"{kind} round {rnd}: '{step}' moved {human(row['down'])} "
                                  f"for a {human(self.size)} object")
        except (StepFailed, ValueError) as exc:
            d = dict(store=kind, step=step, round=rnd,
                     error=str(exc), stderr=getattr(exc, "stderr", ""))
            self.failures.append(d)
            log(f"  !! [{kind} r{rnd}] {step} FAILED: {exc}\n     "
                + d["stderr"].replace("\n", "\n     "))
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def steps(self, kind: str, rnd: int) -> list[str]:
        info = [STEP_SDK[kind]]
        if kind == "s3":  # the whole-object floors are long and only explain: round 1 only
            info += [STEP_FLOOR_MIB] + ([STEP_FLOOR_WHOLE, STEP_FLOOR_WINDOWS] if rnd == 1 else [])
        return [STEP_FETCH, STEP_OPEN, STEP_READ, *info]

    def measure(self) -> None:
        for rnd in range(1, self.repeat + 1):
            log(f"round {rnd}/{self.repeat}")
            for kind in KINDS:
                for step in self.steps(kind, rnd):
                    self.one(kind, step, rnd)

    # ---- report
    def summary(self) -> list[dict]:
        rows: list[dict] = []
        for kind in KINDS:
            def med(step: str, key: str, kind: str = kind) -> float | None:
                return median([r[key] for r in self.runs.get((kind, step), []) if key in r])

            def add(step: str, seconds: float | None, nbytes: float | None,
                    ratio: float | None = None, target: str = "", met: bool | None = None,
                    info: bool = False, of: str | None = None, kind: str = kind) -> None:
                """One table row; ``of``: the step whose runs it summarizes (default: itself)."""
                key = of or step
                runs = self.runs.get((kind, key), [])
                rows.append(dict(
                    store=kind, step=step, of=key, seconds=seconds, bytes=nbytes, ratio=ratio,
                    target=target, met=met, info=info,
                    process_s=[round(r["seconds"], 3) for r in runs],
                    bytes_runs=[r["down"] for r in runs], up_runs=[r["up"] for r in runs]))

            def ratio(a: float | None, b: float | None) -> float | None:
                return None if a is None or not b else a / b

            fetch = med(STEP_FETCH, "seconds")
            add(STEP_FETCH, fetch, med(STEP_FETCH, "down"))

            opened = med(STEP_OPEN, "seconds")
            r = ratio(opened, fetch)
            add(STEP_OPEN, opened, med(STEP_OPEN, "down"), r, f"ratio <= {TARGET_OPEN_RATIO}",
                None if r is None else r <= TARGET_OPEN_RATIO)
            moved = med(STEP_OPEN, "down")
            add("  its bytes moved", None, moved, None, f"bytes < {human(TARGET_OPEN_BYTES)}",
                None if moved is None else moved < TARGET_OPEN_BYTES, of=STEP_OPEN)
            add("  in process: open -> first byte", med(STEP_OPEN, "first_byte_s"), None,
                info=True, of=STEP_OPEN)
            add("  in process: open -> 1 MiB read", med(STEP_OPEN, "first_mib_s"), None,
                info=True, of=STEP_OPEN)

            read = med(STEP_READ, "seconds")
            r = ratio(read, fetch)
            add(STEP_READ, read, med(STEP_READ, "down"), r, f"ratio <= {TARGET_READ_RATIO}",
                None if r is None else r <= TARGET_READ_RATIO)
            add("  in process: open -> end", med(STEP_READ, "read_s"), None, info=True,
                of=STEP_READ)

            add(STEP_SDK[kind] + " (in process)", med(STEP_SDK[kind], "secs"), None, info=True,
                of=STEP_SDK[kind])
            if kind == "s3":
                for step in (STEP_FLOOR_MIB, STEP_FLOOR_WHOLE, STEP_FLOOR_WINDOWS):
                    r = None
                    if step == STEP_FLOOR_WINDOWS:
                        r = ratio(med(step, "secs"), med(STEP_FLOOR_WHOLE, "secs"))
                    add(step + " (in process)", med(step, "secs"), med(step, "down"), r,
                        "(windows / 1 GET)" if r is not None else "", info=True)
        return rows

    def report(self, rows: list[dict], wall: float) -> None:
        print()
        print(f"git-lazy lazy.open vs git lazy fetch: {PATH_IN_REPO} at {REV}, "
              f"{human(self.size)} object, median of {self.repeat} round(s)")
        print(f"python {platform.python_version()}, {platform.machine()}, "
              f"{os.cpu_count()} cpus, git-lazy from {self.package}")
        for kind in KINDS:
            print()
            print(f"Store: {kind}  ({'moto S3 server' if kind == 's3' else 'OpenSSH sshd, SFTP'}"
                  ", through the counting relay)")
            head = f"{'step':52s} {'median s':>9s} {'bytes moved':>12s} {'ratio':>10s}" \
                   f"  {'target':20s} {'met':4s}  runs (s, whole process)"
            print(head)
            print("-" * len(head))
            for r in rows:
                if r["store"] != kind:
                    continue
                secs = "-" if r["seconds"] is None else f"{r['seconds']:.3f}"
                ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3f}"
                met = "" if r["info"] or not r["target"] else (
                    "n/a" if r["met"] is None else ("PASS" if r["met"] else "MISS"))
                label = r["step"] + (" [info]" if r["info"] and not r["step"].startswith(" ")
                                     else "")
                runs = " ".join(f"{x:.1f}" for x in r["process_s"]) if r["of"] == r["step"] else ""
                print(f"{label:52s} {secs:>9s} {human(r['bytes']):>12s} {ratio:>10s}"
                      f"  {r['target']:20s} {met:4s}  {runs}".rstrip())
        print()
        print("Ratios are over the fetch's median (both whole processes). In-process rows: time")
        print("inside the child (no interpreter start; the open rows from the call to lazy.open);")
        print("moto floors: plain http.client against moto, no SDK, no git-lazy.")
        if self.failures:
            print()
            print("Failures:")
            for f in self.failures:
                print(f"  {f['store']} round {f['round']}: {f['step']}: {f['error']}")
                if f["stderr"]:
                    print("    " + f["stderr"].replace("\n", "\n    "))
        for key, what in (("cpu_wait", "CPU pressure (share of the time some task waited for a CPU)"),
                          ("cpu_steal", "CPU steal (share of CPU time the host gave elsewhere)")):
            vals = [r[key] for runs in self.runs.values() for r in runs if key in r]
            if vals:
                print(f"{what} during the timed steps: median {median(vals):.0%}, "
                      f"max {max(vals):.0%}.")
        if self.notes:
            print()
            print("Notes:")
            for n in self.notes:
                print(f"  - {n}")
        print()
        print(f"wall time: {wall:.0f} s; temp dir: {self.root}"
              + (" (kept)" if self.args.keep else " (removed)"))

    def close(self) -> None:
        for relay in self.relays.values():
            relay.close()
        if self.moto is not None:
            try:
                self.moto.stop()
            except Exception as exc:  # at the end: say it, go on cleaning up
                log(f"stopping moto: {exc}")
        if self.sshd is not None:
            self.sshd.terminate()
            try:
                self.sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait()
        if not self.args.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(
        description="Benchmark lazy.open (ranged reads) against git lazy fetch of one object.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true", help="a 64 MiB object instead of 1 GiB")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median is reported")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--workdir", default=None, help="parent dir of the temp dir")
    ap.add_argument("--step-timeout", type=float, default=3600.0,
                    help="kill a step after this many seconds (default 3600)")
    args = ap.parse_args()
    for tool in ("git", "ssh-keygen"):
        if shutil.which(tool) is None:
            log(f"{tool} is not on PATH")
            return 2
    if not Path("/usr/sbin/sshd").exists():
        log("/usr/sbin/sshd is missing (apt-get install openssh-server)")
        return 2
    if shutil.which("git-lazy", path=str(Path(sys.executable).parent)) is None:
        log(f"git-lazy is not installed next to {sys.executable}: run this with the "
            "interpreter git-lazy is installed in")
        return 2
    start = time.perf_counter()
    bench = Bench(args)
    log(f"temp dir {bench.root}")
    try:
        bench.make_env()
        bench.warm_up()
        bench.start_moto()
        bench.start_sshd()
        bench.make_repos()
        log(f"set-up done in {time.perf_counter() - start:.0f} s")
        bench.measure()
        rows = bench.summary()
        wall = time.perf_counter() - start
        bench.report(rows, wall)
        if args.json:
            Path(args.json).write_text(json.dumps(dict(
                object_size=bench.size, oid=bench.oid, repeat=bench.repeat,
                quick=args.quick, python=platform.python_version(),
                machine=f"{platform.machine()}, {os.cpu_count()} cpus",
                targets=dict(open_ratio=TARGET_OPEN_RATIO, open_bytes=TARGET_OPEN_BYTES,
                             read_ratio=TARGET_READ_RATIO),
                results=rows, runs={f"{k}/{s}": v for (k, s), v in bench.runs.items()},
                failures=bench.failures, notes=bench.notes, wall_s=round(wall, 1)), indent=1))
        return 1 if bench.failures else 0
    except StepFailed as exc:
        log(f"set-up failed: {exc}\n{exc.stderr}")
        return 1
    finally:
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
