#!/usr/bin/env python3
"""Benchmark git-lazy against git-lfs, DVC and plain git.

bench_README
============

How to run
----------
    pip install .                      # from the repo root; puts `git-lazy` on PATH
    python3 scripts/bench.py           # full run, ~20-25 min on 2 cores before the
                                       # s3rver and ssh stores, more with them
    python3 scripts/bench.py --quick   # smoke run, sizes ~10x smaller, ~3 min
(Phase 2 repeats every push/fetch --repeat times and measures each store's floor.)
    python3 scripts/bench.py --only lazy,lfs --workloads A,B --json out.json

Options: --quick, --only lazy,lfs,dvc,git, --phases 1,2,3, --workloads A,B,rss,C,D,E,H,
--stores folder,s3,s3rver,ssh (phase 2; default all four), --repeat N (default 3:
phase-1 small-file steps and every phase-2 push/fetch; median is reported),
--json FILE, --step-timeout S (a hung step is killed and reported; default 900,
--quick 180), --keep (keep the temp dir), --workdir DIR (parent of the temp dir),
--store-dir DIR (parent of the folder and ssh stores, see Phase 2), --tools-dir DIR
(where the DVC venv and s3rver live, default ~/.cache/git-lazy-bench/).
A quick look at the S3 and SSH rows alone:
    python3 scripts/bench.py --quick --repeat 1 --phases 2 --stores s3rver,ssh --only lazy,dvc

What it installs when missing
-----------------------------
- Debian's `git-lfs` and `time` (apt-get install -y; run as root); for the ssh store
  `openssh-server` and `openssh-client`, for s3rver `nodejs` and `npm`.
- DVC with S3 support in its own venv: <tools-dir>/dvc-venv (pip install 'dvc[s3]'); with
  the ssh store also 'dvc[ssh]' (dvc-ssh, asyncssh) into it, given at most 300 s: when it
  does not install, DVC is left out of the ssh rows and Notes says so.
- moto's S3 server (`moto[s3]`, flask, flask-cors) into the running interpreter (pip), for a local S3 server
  (ThreadedMotoServer on 127.0.0.1, an ephemeral port, inside this process).
- s3rver 3 from the npm registry: `npm install --prefix <tools-dir>/s3rver s3rver@3`.
It never installs git-lazy: install the repo first. A git-lazy command that is
missing or fails is reported (command, exit code, stderr) and the run goes on.

Isolation
---------
Everything happens in one temp dir: HOME and GIT_CONFIG_GLOBAL point inside it
(init.defaultBranch=main, user.name/email, gc.auto=0 and maintenance.auto=false so
no background gc lands inside a timing, the same for every tool), GIT_CONFIG_NOSYSTEM=1,
GIT_LAZY_CACHE_DIR points to a fresh dir per repo, DVC_SITE_CACHE_DIR inside the temp
dir, DVC_NO_ANALYTICS=1, AWS creds `S3RVER`/`S3RVER` (the one key pair s3rver knows; moto
takes any), no SSH_* variables (no agent), and an ~/.ssh/config of its own (see the ssh
store). The interpreter's own scripts dir is put
first on PATH so that `git-lazy` is the real console script, not a pyenv shim (a shim
costs ~50-100 ms per call, which would be charged to every hook and filter start).
Before every timed step, outside the timing, the benchmark calls os.sync() and then
waits (up to 60 s) until no task has stalled on I/O for a quarter of a second
(/proc/pressure/io): deleting many files on a filesystem mounted with `discard` keeps
the disk busy for seconds, and a step timed meanwhile took up to 20x longer. The data
copy and the previous tool leave gigabytes dirty, and the kernel writing them back
while the next tool is timed made timings move by up to 2x; with the sync no step pays
for the writeback of data another step wrote (it still pays for its own writes,
inside its timing, as far as the kernel flushes them during the step). Every timed
step of every tool and floor goes through this wait, each part of a summed step
(e.g. clone + pull) too; the S3 floor runs its PUTs, its GETs and its GETs with writes
as three client processes, each after the wait (its GETs used to follow its PUTs with
no wait).

Data
----
Generated deterministically (random.Random seeded with the workload name, 1 MiB
chunks, streamed to disk): incompressible and with no duplicate content inside or
across workloads. Each workload is generated once into a master dir and copied into
each tool's repo (untimed); expected sha256 of every file is computed while generating.

Phase 1 (local; git-lazy vs git-lfs and DVC, plain git as a baseline)
---------------------------------------------------------------------
Workloads A = 1 file of 1 GiB, B = 5,000 files of 16 KiB in data/dNN/dN/ (50 a folder),
C = 200 files of 4 MiB (the same as in phases 2 and 3; with --quick 20 files).
For each tool, in a fresh repo: install (`git lazy install --local` /
`git lfs install --local`), track "*.bin", commit .gitattributes (plain git: no filter,
same files as plain blobs; DVC: `dvc init -q`, committed). Timed:
1. add+commit: `git add -A` then `git commit -q -m data` (two processes, summed); DVC:
   `dvc add -q data`, `git add -A`, `git commit -q -m data` (three, summed).
   When the files are under 256 MiB (B, C; not A) it is repeated in fresh repos (fresh
   cache) --repeat times.
2. switch: branch `empty` (data removed with git rm) is prepared untimed; timed is
   `git checkout -q main` from `empty`, i.e. materializing all the data. DVC: on
   `empty`, data.dvc is removed with git rm and the data/ folder (which DVC leaves as
   an untracked, gitignored folder) with rm -rf; timed are `git checkout -q main` and
   `dvc checkout -q` (summed; DVC copies from its .dvc/cache in the repo, or reflinks
   where the filesystem can); before every round, untimed, `git checkout -q empty` and
   rm -rf data/. After each switch, outside the timing, every file's sha256 is checked
   (a pointer left in the working tree is a failure). Repeated --repeat times (median)
   when the files are under 256 MiB (B, C), once for A.
3. status: a no-op `git status` (after a 1.1 s sleep and two untimed warm-up runs so
   racily-clean index entries do not make the filter run), median of max(10, 3*repeat).
   Not measured for DVC.
DVC runs in phase 1 when --only has dvc (the default), on A, B and C.
Peak memory (workload rss): one 2 GiB file (200 MiB with --quick), `git add` run under
`/usr/bin/time -f %M`. Reported: the max RSS of the whole process tree (git and the
filter process; ru_maxrss of a reaped tree is the max of any single process in it, not
a sum), and, separately, the filter process alone (filter.<x>.process wrapped in
/usr/bin/time for that one command). The target applies to the whole tree, which
includes git itself. git-lfs is measured too, for reference.

Phase 2 (stores)
----------------
Workloads C = 200 files of 4 MiB, D = 5,000 files of 16 KiB, on every store; E = 1 file
of 1 GiB (100 MiB with --quick), on the ssh store only. Stores (--stores):
- folder: a local dir (on another filesystem, see below).
- s3: moto, in this process; its times are bound by moto's single-threaded Python
  server, the same for every tool.
- s3rver: a second local S3 endpoint, s3rver 3 (node) in its own process:
  `node --openssl-legacy-provider <tools-dir>/s3rver/node_modules/s3rver/bin/s3rver.js
  -d <temp>/s3rver-data -a 127.0.0.1 -p <free port> --configure-bucket bench`, ready once
  HEAD /bench answers 200. It keeps objects on disk in its data dir, and is started
  again with an empty one before each tool's round and the floor's (deleting a round's
  objects leaves its folders behind), so that no tool meets another's leftovers. Without
  --openssl-legacy-provider its listings of more than one page fail; it has no ListParts
  nor ListMultipartUploads, which is why the tests keep moto. s3 and s3rver rows take the
  same code paths, only the endpoint differs.
- ssh: OpenSSH's sshd, started as tests/servers.py's fixture does: `/usr/sbin/sshd -D -e
  -f <temp>/sshd/sshd_config` (as root; 127.0.0.1, a free port, a throwaway ed25519
  host key and user key, key auth only, PermitRootLogin yes, `Subsystem sftp
  internal-sftp`), ready once it sends its SSH-2.0 banner. The benchmark HOME gets an
  ~/.ssh/config with the alias `benchssh` (HostName, Port, User, IdentityFile,
  UserKnownHostsFile, BatchMode) and a known_hosts line for the host key. A store is a
  folder on the folder stores' filesystem, served by that sshd: git-lazy's URL is
  ssh://benchssh/<dir> (paramiko reads the config); DVC's is
  ssh://USER@127.0.0.1:PORT/<dir> + `dvc remote modify NAME keyfile KEY` (asyncssh does
  not read the config; dvc-ssh checks no host key).
git-lfs has no S3 or SSH store of its own here: it runs on the folder store only, and
the s3, s3rver and ssh rows compare git-lazy with DVC and the floor.
Repetitions: each tool's setup (repo, data copy, add+commit / dvc add, remote config)
is done once per workload; then --repeat rounds, each round running every tool in turn
(round 1: git-lazy, dvc, git-lfs, the floors; round 2: the same; ...) so that slow drift
of the machine hits all tools alike. In a round a tool pushes (timed) to a FRESH store
location of its own (folder: <tool>-<workload>-rN; ssh: ssh-<tool>-<workload>-rN; s3 and
s3rver: key prefix <tool>-<workload>-rN/ in the bucket; git-lfs: a new bare repo) under a
fresh remote name (<store>-rN, so no
per-remote state of a tool, e.g. DVC's data index or git's remote-tracking refs for
git-lfs, can make a later round skip work); the store's object count is checked; then
the tool fetches (timed) into a fresh clone with an empty cache and every file's content
is checked. The round's clone and store are then deleted (S3: its objects, moto keeps
them in RAM; moto's unfinished multipart uploads too). The median of the rounds is
reported; a failed round is listed under Failures (with its round number) and the
other rounds go on. The fetch step is the fetch into a fresh clone (what issue 11 calls
clone + fetch); the local `git clone` of the source repo before it is untimed, for every
tool.
- git-lazy: `git lazy remote add NAME URL [--endpoint http://127.0.0.1:PORT] --local`
  (in setup, one per round; the endpoint of s3 or s3rver), timed `git lazy push NAME
  --all`. Fetch: `git clone` of the source repo with an EMPTY GIT_LAZY_CACHE_DIR of its
  own, `git lazy install --local`, `git lazy remote add ... --local` (untimed), timed
  `git lazy fetch --all`. On the ssh store both timed commands run under `/usr/bin/time
  -f %M -o FILE` (the approach of workload rss): the `push: max RSS` and `fetch: max RSS`
  rows give the peak RSS of the git-lazy process tree, i.e. of the largest single
  process in it (ru_maxrss of reaped children), the max over the rounds.
- DVC: `dvc init`, `dvc add data` (timed, info only), `dvc remote add NAME URL`
  (+ `dvc remote modify NAME endpointurl ...` for s3 and s3rver, `... keyfile ...` for
  ssh; in setup, one per round,
  committed), timed `dvc push -r NAME`. Fetch: `git clone` (its cache is its own
  .dvc/cache, checked in round 1 with `dvc cache dir`; DVC_SITE_CACHE_DIR is a fresh
  empty dir per clone), timed `dvc pull -r NAME` (= fetch + checkout). -j defaults.
- Folder stores (and git-lfs's bare remote) are put on another filesystem than the
  repos, a tmpfs under /dev/shm when it has room (--store-dir to choose): on the same
  filesystem git-lfs's file transfer hardlinks objects instead of copying them, which
  is not what a shared/mounted folder gives. A hardlinking push is reported in Notes.
- git-lfs (folder only; it has no S3 transfer): a bare repo per round as git remote
  origin-rN (local path, git-lfs >= 3 uses its standalone file transfer and stores
  objects in <bare>/lfs), timed `git push -q origin-rN main` (includes git's own push of
  the commit; a plain push of the same commit with GIT_LFS_SKIP_PUSH=1 to another bare
  repo is reported as info). Fetch: `GIT_LFS_SKIP_SMUDGE=1 git clone`, `git lfs install
  --local`, timed `git lfs pull`.
- Floors (info rows, tool "floor", not an --only choice): what each store allows with
  no tool at all, the least time any tool can take here. Folder: push = `cp -r` of the
  workload into the store's filesystem; fetch = `cp -r` from there into a cache dir,
  then again into a work dir (the two copies every tool with a local cache writes; no
  hashing, no git). S3 (s3 and s3rver): what the server itself allows, with no SDK. The
  workload's object count and size (random content) are PUT with plain http.client from
  8 threads, one HTTPConnection each (unsigned PUTs; moto closes the connection after
  every answer and http.client reopens it, as any client must; s3rver keeps it), then
  all GET back the same way (on moto with a dummy Authorization header: moto refuses a
  GET without one but checks no signature; s3rver takes anonymous GETs and would check
  a signature). The client runs in a process of its own (in the benchmark's process it
  would fight moto's threads for the GIL) and times itself: no interpreter start is
  included. Step "push" = the PUTs, "fetch" = the GETs (bodies dropped). SSH: OpenSSH's
  own sftp in batch mode (`sftp -q -F <HOME>/.ssh/config -b FILE benchssh`): push =
  `put -r` of the workload's data dir into a folder the sshd serves; fetch = `get -r`
  of it into a local cache dir. Repeated each round, objects deleted.
- Fetch floor with writes (step "fetch + writes", s3, s3rver and ssh): a fetch must
  write the bytes where they go, into the cache and into the work tree, the same bytes
  twice, as any tool that fetches into a cache and then checks out must. S3: the GETs
  again, each body written to <dir>/cache/NNNNNN and <dir>/work/dNNNN/fNNN.bin by the
  thread that got it; ssh: the `get -r` above plus a `cp -r` of the cache dir into a
  work dir (timed apart, summed). The folder floor's fetch already copies twice.

Phase 3 (the workflow through git)
----------------------------------
Folder store only. Every tool gets a user-wide install in its own git config copy
(`git lazy install --global`, `git lfs install`, DVC's git hooks), so plain git runs it.
Workloads C and D: per round, the tools taking turns, each commits a fresh store as its
default and runs, timed:
- `git push` to a fresh bare repo: the tool's pre-push hook uploads the data first
  (git-lfs: its file transfer into the bare repo; DVC: `dvc push` from its hook).
- clone + fetch all, with an empty cache: `git lazy clone URL` (a plain `git clone`
  under the user-wide install is reported as info), a plain `git clone` for git-lfs (its
  smudge filter downloads; a GIT_LFS_SKIP_SMUDGE=1 clone + `git lfs pull` as info),
  `git clone` + `dvc pull`.
- clone + fetch one folder (D only: data/d00/d0, 50 of the 5,000 files):
  `git lazy clone --include 'data/d00/d0/**'`, `git lfs pull -I`, `dvc pull` of the
  folder's .dvc target; the objects fetched are counted.
The floor: `cp -r` of the data plus a plain `git push` of the pointer commit; a plain
`git clone` plus `cp -r` twice (a cache and a work tree) of everything or of the folder.
Workload H: a repository whose history holds 10,000 pointer files (all pushed once,
untimed) gets a commit that changes a plain text file; timed are each tool's pre-push
hook alone, fed the one ref line git would give it, and the whole `git push`.
Ratios: lazy/lfs (<= 1.0) and lazy/floor (<= 1.5) for `git push` and clone + fetch
all, one folder / all for git-lazy (<= 0.05), the hook alone in seconds (< 0.5);
lazy/dvc is shown for information.

Ratios and targets
------------------
lazy/lfs add+commit, switch, status per workload (<= 1.0); lazy status / git status
(<= 1.1); lazy/dvc switch empty->main per phase-1 workload (<= 1.0; DVC = git checkout
+ dvc checkout) and lazy/dvc add+commit (information only), both only when DVC ran;
git-lazy peak RSS whole tree (< 150 MB); lazy/dvc push and fetch per workload
and store (<= 0.5, but <= 0.75 for D on s3rver); lazy/lfs push and fetch (folder, <= 1.0).
lazy/floor push and fetch per workload and store, with a target where issue 11 names
one: D on s3rver <= 2, C on s3 and s3rver <= 1.5, C and E on ssh <= 2 (elsewhere shown
for information); a fetch is set against both floors, the plain one (lazy/floor) and the
one with writes (lazy/floor+writes), each with the same target. git-lazy's peak RSS of
ssh push and fetch (every process < 150 MB). PASS/MISS per ratio; n/a when a side
failed or was not run. A "Phase 2 summary" table gives, per workload, store and step,
the medians of git-lazy, DVC, git-lfs, the floor and the floor with writes, the ratios
with their verdicts, and git-lazy's peak RSS. Each lazy/dvc row also shows floor/dvc: the store's
floor time over dvc's, about the best lazy/dvc any tool could reach against this store
on this machine; when it is above the target, "(target out of reach)" says the
0.5 cannot be met here whatever git-lazy does, and lazy/dvc should be read against it.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import http.client
import importlib.util
import json
import logging
import os
import platform
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

MiB = 1 << 20
GiB = 1 << 30
CHUNK = MiB
LARGE_FILE = 256 * MiB  # files at least this big: steps run once

ALL_TOOLS = ["lazy", "lfs", "dvc", "git"]  # what --only selects
# "floor" is no tool: what the store allows with no tool at all (folder: cp -r; s3,
# s3rver: plain http.client; ssh: OpenSSH's sftp)
TOOL_NAMES = {"lazy": "git-lazy", "lfs": "git-lfs", "dvc": "dvc", "git": "git",
              "floor": "floor"}
FLOOR_CLIENT = "--s3-floor-client"  # hidden argv[1]: run the floor's client (own process)
FLOOR_THREADS = 8
ALL_STORES = ["folder", "s3", "s3rver", "ssh"]  # what --stores selects
S3_STORES = ("s3", "s3rver")  # moto and s3rver: the same code paths, another endpoint
BUCKET = "bench"
SSH_HOST = "benchssh"  # the ~/.ssh/config alias (in the benchmark's HOME) of the local sshd
FETCH_WRITES = "fetch + writes"  # the floor's fetch that also writes cache and work tree
# s3rver knows one key pair (lib/models/account.js); moto takes any, so both use it
S3_KEY = "S3RVER"
# moto does not check signatures, but answers 403 to a GET with no Authorization at all
FLOOR_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
              "SignedHeaders=host, Signature=00")

# name -> (phases, description, n files, file size, quick n, quick size)
WORKLOADS = {
    "A": ((1,), "1 file of 1 GiB", 1, GiB, 1, 100 * MiB),
    "B": ((1,), "5,000 files of 16 KiB", 5000, 16 * 1024, 500, 16 * 1024),
    "rss": ((1,), "peak RSS: git add of 1 file of 2 GiB", 1, 2 * GiB, 1, 200 * MiB),
    "C": ((1, 2, 3), "200 files of 4 MiB", 200, 4 * MiB, 20, 4 * MiB),
    "D": ((2, 3), "5,000 files of 16 KiB", 5000, 16 * 1024, 500, 16 * 1024),
    "H": ((3,), "10,000 files of 16 B in history (hook cost)", 10000, 16, 2000, 16),
    "E": ((2,), "1 file of 1 GiB", 1, GiB, 1, 100 * MiB),
}
WORKLOAD_STORES = {"E": ("ssh",)}  # workloads measured on some stores only
ALL_PHASES = ["1", "2", "3"]  # what --phases selects
PHASE_TITLES = {1: "local", 2: "stores", 3: "workflow through git"}

# Phase 3 (workflow) step names, shared by every tool and the floor
WF_PUSH = "git push"
WF_ALL = "clone + fetch all"
WF_ONE = "clone + fetch one folder"
WF_HOOK = "pre-push hook alone"
WF_NOOP = "git push, no data"
WF_FOLDER = {"D": "data/d00/d0"}  # workloads with a fetch-one-folder step: that folder
WF_HOOK_RUNS = 3  # runs of the (cheap) hook-alone step per tool and round
HOOK_CMD = {"lazy": "git lazy hook pre-push", "lfs": "git lfs pre-push",
            "dvc": "dvc git-hook pre-push"}  # what each tool's pre-push hook runs

TARGETS = {
    "lazy/lfs": 1.0,
    "lazy/git status": 1.1,
    "lazy/dvc": 0.5,
    "lazy/dvc switch": 1.0,  # phase 1: switch empty->main against git checkout + dvc checkout
    "rss_mb": 150.0,
    "lazy/floor": 1.5,  # phase 3: git push and clone + fetch all
    "one/all": 0.05,  # phase 3: lazy clone of one folder / lazy clone of everything
    "hook_s": 0.5,  # phase 3: lazy pre-push hook alone, push with no data (seconds)
}
# Phase 2 targets that hold for one store and workload only (issue 11): lazy/dvc instead of
# TARGETS["lazy/dvc"], and lazy/floor (push and fetch; fetch against both floors)
P2_DVC_TARGET = {("s3rver", "D"): 0.75}
P2_FLOOR_TARGET = {("s3rver", "D"): 2.0, ("s3", "C"): 1.5, ("s3rver", "C"): 1.5,
                   ("ssh", "C"): 2.0, ("ssh", "E"): 2.0}
P2_RSS_STORES = ("ssh",)  # git-lazy's push and fetch run under /usr/bin/time -f %M here


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class StepFailed(Exception):
    def __init__(self, cmd, cwd, rc, stderr, stdout=""):
        self.cmd = [str(c) for c in cmd]
        self.cwd = str(cwd)
        self.rc = rc
        self.stderr = (stderr or "").strip()
        self.stdout = (stdout or "").strip()
        super().__init__(f"{shlex.join(self.cmd)} exited {rc}")

    def text(self) -> str:
        err = self.stderr or self.stdout
        lines = err.splitlines()
        if len(lines) > 25:
            lines = lines[:5] + ["..."] + lines[-20:]
        return "\n".join(lines)


class VerifyFailed(Exception):
    pass


class Workload:
    def __init__(self, name: str, quick: bool):
        phases, desc, n, size, qn, qsize = WORKLOADS[name]
        self.name = name
        self.phases = phases
        self.n = qn if quick else n
        self.size = qsize if quick else size
        self.desc = desc if not quick else f"{self.n:,} file(s) of {human(self.size)} (quick)"
        self.large = self.size >= LARGE_FILE
        self.hashes: dict[str, str] = {}

    def relpaths(self) -> list[str]:
        if self.n == 1:
            return ["data/big.bin"]
        out = []
        for i in range(self.n):
            folder = i // 50
            out.append(f"data/d{folder // 10:02d}/d{folder % 10}/f{i % 50:03d}.bin")
        return out

    @property
    def total(self) -> int:
        return self.n * self.size

    def generate(self, dest: Path) -> None:
        """Write the files under dest (streamed in 1 MiB chunks), record sha256s."""
        rng = random.Random(f"git-lazy-bench:{self.name}:{self.n}:{self.size}")
        self.hashes = {}
        made = set()
        for rel in self.relpaths():
            p = dest / rel
            if p.parent not in made:
                p.parent.mkdir(parents=True, exist_ok=True)
                made.add(p.parent)
            h = hashlib.sha256()
            left = self.size
            with open(p, "wb") as f:
                while left:
                    block = rng.randbytes(min(CHUNK, left))
                    h.update(block)
                    f.write(block)
                    left -= len(block)
            self.hashes[rel] = h.hexdigest()


def human(n: int) -> str:
    for unit, div in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= div:
            v = n / div
            return f"{v:g} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} B"


def copy_data(src: Path, dest: Path) -> None:
    shutil.copytree(src / "data", dest / "data", copy_function=shutil.copyfile)


def verify_tree(repo: Path, wl: Workload, sample: int | None = None,
                folder: str | None = None) -> None:
    """Every file's sha256 (or a sample, or the files under `folder` only) as generated."""
    items = sorted(wl.hashes.items())
    if folder:
        items = [(rel, h) for rel, h in items if rel.startswith(folder + "/")]
    if sample and len(items) > sample:
        step = len(items) / sample
        items = [items[int(i * step)] for i in range(sample)]
    bad = []
    for rel, want in items:
        p = repo / rel
        if not p.is_file():
            bad.append(f"{rel}: missing")
            continue
        h = hashlib.sha256()
        with open(p, "rb") as f:
            first = f.read(CHUNK)
            h.update(first)
            while True:
                b = f.read(CHUNK)
                if not b:
                    break
                h.update(b)
        if h.hexdigest() != want:
            if first.startswith(b"version https://git-lfs.github.com/spec/v1"):
                bad.append(f"{rel}: still a pointer file")
            else:
                bad.append(f"{rel}: content differs (size {p.stat().st_size})")
    if bad:
        more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
        raise VerifyFailed(
            f"{len(bad)}/{len(items)} files wrong after the step: " + "; ".join(bad[:5]) + more
        )


POINTER_HEAD = b"version https://git-lfs.github.com/spec/v1\n"


def pointer_text(oid: str, size: int) -> str:
    """A git-lfs v1 pointer (the format git-lazy and git-lfs both commit)."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"


def verify_only_folder(repo: Path, wl: Workload, folder: str, others: str) -> None:
    """After fetching one folder: the files under it are checked by verify_tree; every
    other file must still be a pointer (others="pointer") or absent (others="absent")."""
    verify_tree(repo, wl, folder=folder)
    bad = []
    for rel in sorted(wl.hashes):
        if rel.startswith(folder + "/"):
            continue
        p = repo / rel
        if others == "absent":
            if p.exists():
                bad.append(f"{rel}: present")
        else:
            try:
                with open(p, "rb") as f:
                    head = f.read(1025)
            except OSError:
                bad.append(f"{rel}: missing")
                continue
            if len(head) > 1024 or not head.startswith(POINTER_HEAD):
                bad.append(f"{rel}: not a pointer file ({len(head)}+ bytes)")
    if bad:
        more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
        raise VerifyFailed(f"{len(bad)} files outside {folder} were fetched too: "
                           + "; ".join(bad[:5]) + more)


def count_files(top: Path) -> int:
    return sum(len(f) for _, _, f in os.walk(top))


def median(xs):
    return statistics.median(xs) if xs else None


IO_PRESSURE = Path("/proc/pressure/io")


def settle_io(limit: float = 60.0) -> None:
    """os.sync(), then wait (up to `limit` s) until no task has stalled on I/O for a
    quarter of a second, judged by the kernel's pressure stall information (Linux
    >= 4.20). Deleting many files on a filesystem mounted with `discard` keeps the
    disk busy for seconds after the deletions return, and a step timed meanwhile
    measured up to 20x its usual time."""
    os.sync()

    def stalled_us() -> int | None:
        try:
            for line in IO_PRESSURE.read_text().splitlines():
                if line.startswith("full "):
                    return int(line.rsplit("total=", 1)[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    before = stalled_us()
    if before is None:
        return
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = stalled_us()
        if now is None or now - before < 2500:  # < 1% of the interval stalled
            return
        before = now


def s3_floor(host: str, port: int, bucket: str, prefix: str, n: int, size: int,
             threads: int = FLOOR_THREADS, method: str = "PUT", auth: bool = True,
             dest: Path | None = None) -> float:
    """PUT (method "PUT") n objects of `size` random bytes to
    http://host:port/bucket/prefixNNNNNN, or GET them all back (method "GET"), with plain
    http.client from `threads` threads (one connection each; a server that closes it after
    every answer, as moto does, makes http.client reopen it, as any client must). With
    `dest`, every GET body is written twice, to dest/cache/NNNNNN and to
    dest/work/dNNNN/fNNN.bin (what a tool that fetches into a cache and then checks out
    writes). `auth` sends FLOOR_AUTH with each GET (moto wants one; s3rver takes
    anonymous requests and would check a signature). Returns the seconds taken; raises
    on any answer but 200 or a short body."""
    body = os.urandom(size) if method == "PUT" else b""
    keys = [f"/{bucket}/{prefix}{i:06d}" for i in range(n)]
    headers = {"Authorization": FLOOR_AUTH} if auth else {}

    def write(i: int, data: bytes) -> None:
        work = dest / "work" / f"d{i // 50:04d}"
        work.mkdir(parents=True, exist_ok=True)
        for path in (dest / "cache" / f"{i:06d}", work / f"f{i % 50:03d}.bin"):
            with open(path, "wb") as f:
                f.write(data)

    def worker(part: list[int]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=300)
        try:
            for i in part:
                if method == "PUT":
                    conn.request("PUT", keys[i], body=body)
                else:
                    conn.request("GET", keys[i], headers=headers)
                r = conn.getresponse()
                data = r.read()
                if r.status != 200 or (method == "GET" and len(data) != size):
                    raise RuntimeError(f"{method} {keys[i]}: HTTP {r.status}, {len(data)} bytes "
                                       f"{data[:300]!r}")
                if dest is not None:
                    write(i, data)
        finally:
            conn.close()

    if dest is not None:
        (dest / "cache").mkdir(parents=True, exist_ok=True)
    parts = [p for p in (list(range(n))[i::threads] for i in range(threads)) if p]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(parts)) as ex:
        for f in [ex.submit(worker, p) for p in parts]:
            f.result()
    return time.perf_counter() - t0


def floor_client_main(argv: list[str]) -> int:
    """`bench.py --s3-floor-client HOST PORT BUCKET PREFIX N SIZE THREADS PUT|GET AUTH
    [DEST]`: print the seconds the PUTs or GETs took (AUTH: 1 or 0; DEST: write each GET
    body there twice)."""
    host, port, bucket, prefix, n, size, threads, method, auth, *dest = argv
    print(json.dumps(s3_floor(host, int(port), bucket, prefix, int(n), int(size),
                              int(threads), method, auth == "1",
                              Path(dest[0]) if dest else None)), flush=True)
    return 0


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(ready, proc: subprocess.Popen, what: str, log_file: Path,
               limit: float = 60.0) -> None:
    """Poll ready() until it is true; a server process that exits ends the wait at once."""
    stop = time.monotonic() + limit
    delay = 0.02
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: "
                               + log_file.read_text(errors="replace")[-800:])
        if time.monotonic() > stop:
            raise RuntimeError(f"{what} not ready within {limit:g} s: "
                               + log_file.read_text(errors="replace")[-800:])
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def http_ready(port: int, path: str) -> bool:
    """True once HEAD http://127.0.0.1:port/path answers 200."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("HEAD", path)
            return conn.getresponse().status == 200
        finally:
            conn.close()
    except OSError:
        return False


def ssh_ready(port: int) -> bool:
    """True once the server on port sends its SSH-2.0 banner."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-2.0")
    except OSError:
        return False


def stop_process(proc: subprocess.Popen | None) -> None:
    """End a server the benchmark started (its own process group), and reap it."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# --------------------------------------------------------------------------- setup


def sh(cmd, **kw):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, **kw)


def ensure_apt(pkg: str, binary: str) -> bool:
    if shutil.which(binary) or os.path.exists(binary):
        return True
    log(f"installing Debian package {pkg} ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = sh(["apt-get", "install", "-y", "-q", pkg], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sh(["apt-get", "update", "-q"], env=env, capture_output=True)
        r = sh(["apt-get", "install", "-y", "-q", pkg], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        log(f"  apt-get install {pkg} failed: {r.stderr.strip()[-500:]}")
    return bool(shutil.which(binary) or os.path.exists(binary))


def ensure_moto() -> bool:
    def ok():
        return all(importlib.util.find_spec(m) for m in ("moto", "flask", "flask_cors", "boto3"))

    if ok():
        return True
    log("installing moto's S3 server ...")
    r = sh([sys.executable, "-m", "pip", "install", "-q", "moto[s3]>=5", "flask", "flask-cors"],
           capture_output=True, text=True)
    if r.returncode != 0:
        log(f"  pip install moto[s3] flask flask-cors failed: {r.stderr.strip()[-500:]}")
    importlib.invalidate_caches()
    return ok()


def ensure_dvc(tools_dir: Path) -> Path | None:
    venv = tools_dir / "dvc-venv"
    dvc = venv / "bin" / "dvc"
    if dvc.exists() and sh([str(dvc), "--version"], capture_output=True).returncode == 0:
        return dvc
    log(f"installing dvc[s3] into {venv} (a few minutes the first time) ...")
    tools_dir.mkdir(parents=True, exist_ok=True)
    r = sh([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if r.returncode == 0:
        r = sh([str(venv / "bin" / "pip"), "install", "-q", "dvc[s3]"],
               capture_output=True, text=True)
    if r.returncode != 0 or not dvc.exists():
        log(f"  dvc install failed: {(r.stderr or '').strip()[-800:]}")
        return None
    return dvc


def ensure_dvc_ssh(dvc: Path, limit: float = 300.0) -> bool:
    """dvc[ssh] (dvc-ssh, asyncssh) in DVC's venv; pip gets `limit` seconds, no more."""
    py = str(dvc.parent / "python")
    if sh([py, "-c", "import dvc_ssh"], capture_output=True).returncode == 0:
        return True
    log(f"installing dvc[ssh] into {dvc.parent.parent} (at most {limit:g} s) ...")
    try:
        r = sh([str(dvc.parent / "pip"), "install", "-q", "dvc[ssh]"], capture_output=True,
               text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        log(f"  pip install dvc[ssh] did not finish within {limit:g} s")
        return False
    if r.returncode != 0:
        log(f"  pip install dvc[ssh] failed: {(r.stderr or '').strip()[-500:]}")
    return sh([py, "-c", "import dvc_ssh"], capture_output=True).returncode == 0


def ensure_s3rver(tools_dir: Path) -> Path | None:
    """s3rver 3 from the npm registry into <tools_dir>/s3rver; returns its bin script."""
    folder = tools_dir / "s3rver"
    script = folder / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if script.exists():
        return script
    if not (ensure_apt("nodejs", "node") and ensure_apt("npm", "npm")):
        return None
    log(f"installing s3rver@3 into {folder} (npm) ...")
    folder.mkdir(parents=True, exist_ok=True)
    r = sh(["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund",
            "--loglevel=error", "s3rver@3"], capture_output=True, text=True)
    if r.returncode != 0 or not script.exists():
        log(f"  npm install s3rver@3 failed: {(r.stderr or '').strip()[-500:]}")
        return None
    return script


def tool_version(cmd) -> str:
    try:
        r = sh(cmd, capture_output=True, text=True, timeout=60)
        return (r.stdout or r.stderr).strip().splitlines()[0] if r.returncode == 0 else "?"
    except Exception:
        return "?"


# --------------------------------------------------------------------------- bench


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.repeat = max(1, args.repeat)
        self.tools = args.only
        self.results: list[dict] = []
        self.p2_runs: dict[tuple[str, str, str], dict] = {}
        self.failures: list[dict] = []
        self.notes: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="git-lazy-bench-", dir=args.workdir))
        self.moto = None
        self.endpoints: dict[str, str] = {}  # S3 store -> http://127.0.0.1:PORT
        self.s3rver: subprocess.Popen | None = None
        self.sshd: subprocess.Popen | None = None
        self.ssh: dict = {}  # port, user, key, config of the local sshd
        self.dvc_ssh = False
        self.p2_rss: dict[tuple[str, str, str], list[float]] = {}
        self.dvc = None
        self.lazy_ok = False
        self.step_timeout = args.step_timeout or (180 if args.quick else 900)
        self.env = self.make_env()
        self.store_root = None
        self.p3_envs: dict[str, dict] = {}

    # ---- environment
    def make_env(self) -> dict:
        home = self.root / "home"
        home.mkdir()
        # PYTHONDONTWRITEBYTECODE (set in some sandboxes) would make every start of an
        # editable git-lazy recompile its modules from source: not what users run
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "AWS_", "DVC_", "SSH_"))
               and k != "PYTHONDONTWRITEBYTECODE"}
        scripts = sysconfig.get_path("scripts")
        path = [scripts, str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")]
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            GIT_LAZY_CACHE_DIR=str(self.root / "lazy-cache"),
            DVC_NO_ANALYTICS="1",
            DVC_SITE_CACHE_DIR=str(self.root / "dvc-site-cache"),
            AWS_ACCESS_KEY_ID=S3_KEY,
            AWS_SECRET_ACCESS_KEY=S3_KEY,
            AWS_DEFAULT_REGION="us-east-1",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PATH=os.pathsep.join(path),
        )
        for k, v in [("init.defaultBranch", "main"), ("user.name", "Bench"),
                     ("user.email", "bench@example.invalid"), ("gc.auto", "0"),
                     ("maintenance.auto", "false"), ("advice.detachedHead", "false")]:
            sh(["git", "config", "--global", k, v], env=env, check=True)
        return env

    def env_with(self, **kw) -> dict:
        e = dict(self.env)
        e.update({k: str(v) for k, v in kw.items()})
        return e

    # ---- running
    def _exec(self, cmd, cwd, env, input=None):
        """Run one process (in its own process group, so a hung step can be ended)."""
        cmd = [str(c) for c in cmd]
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env or self.env,
                             stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             errors="replace", start_new_session=True)
        try:
            out, err = p.communicate(input=input, timeout=self.step_timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = p.communicate()
            msg = f"\n(killed by the benchmark after {self.step_timeout:g} s)"
            raise StepFailed(cmd, cwd, "timeout", (err or "") + msg, out) from None
        return time.perf_counter() - t0, subprocess.CompletedProcess(cmd, p.returncode, out, err)

    def run(self, cmd, cwd, env=None, check=True):
        _, p = self._exec(cmd, cwd, env)
        if check and p.returncode != 0:
            raise StepFailed(cmd, cwd, p.returncode, p.stderr, p.stdout)
        return p

    def timed(self, cmd, cwd, env=None, input=None) -> float:
        # Outside the timing: flush what earlier steps (data copy, the previous tool) left
        # dirty, and let the disk finish what deletions queued, so that no step pays
        # for another one's I/O.
        settle_io()
        dt, p = self._exec(cmd, cwd, env, input)
        if p.returncode != 0:
            raise StepFailed(cmd, cwd, p.returncode, p.stderr, p.stdout)
        return dt

    def record(self, phase, tool, wl, step, runs, store="", info=False, note="", unit="s",
               agg=median):
        runs = [round(r, 4) for r in runs]
        med = agg(runs)
        self.results.append(dict(phase=phase, tool=tool, workload=wl.name, store=store,
                                 step=step, value=med, unit=unit, runs=runs, info=info,
                                 note=note))
        where = f"{wl.name}{'/' + store if store else ''}"
        val = f"{med:.3f} s" if unit == "s" else f"{med:.1f} {unit}"
        extra = f"  runs={runs}" if len(runs) > 1 else ""
        log(f"  [{TOOL_NAMES[tool]:8s} {where:9s}] {step:28s} {val}{extra}")

    def fail(self, phase, tool, wl, step, exc, store=""):
        d = dict(phase=phase, tool=tool, workload=wl.name, store=store, step=step)
        if isinstance(exc, StepFailed):
            d.update(cmd=shlex.join(exc.cmd), cwd=exc.cwd, rc=exc.rc, stderr=exc.text())
        else:
            d.update(cmd="", rc=None, stderr=f"{type(exc).__name__}: {exc}")
        self.failures.append(d)
        log(f"  !! {TOOL_NAMES[tool]} {wl.name}{'/' + store if store else ''} {step} FAILED: "
            f"{d['cmd']} (rc={d['rc']})\n     " + d["stderr"].replace("\n", "\n     "))

    def get(self, tool, wl, step, store="", phase=None):
        for r in self.results:
            if ((r["tool"], r["workload"], r["step"], r["store"]) == (tool, wl, step, store)
                    and phase in (None, r["phase"])):
                return r["value"]
        return None

    def selected(self, phase: int) -> list[str]:
        """The --workloads that run in `phase` (when --phases selects it)."""
        if str(phase) not in self.args.phases:
            return []
        return [w for w in self.args.workloads if phase in WORKLOADS[w][0]]

    # ---- tool setup
    def setup(self):
        need = set(self.tools)
        if "lfs" in need and not ensure_apt("git-lfs", "git-lfs"):
            self.notes.append("git-lfs missing and could not be installed: lfs skipped")
            self.tools = [t for t in self.tools if t != "lfs"]
        if "rss" in self.selected(1) and not ensure_apt("time", "/usr/bin/time"):
            self.notes.append("/usr/bin/time missing: rss workload skipped")
            self.args.workloads = [w for w in self.args.workloads if w != "rss"]
        if ("ssh" in self.args.stores and self.selected(2)
                and not ensure_apt("time", "/usr/bin/time")):
            self.notes.append("/usr/bin/time missing: no peak RSS of the ssh rows")
        p1_dvc = [w for w in self.selected(1) if w != "rss"]  # phase 1 runs DVC here
        if "dvc" in need and (p1_dvc or self.selected(2) or self.selected(3)):
            self.dvc = ensure_dvc(Path(self.args.tools_dir).expanduser())
            if not self.dvc:
                self.notes.append("dvc could not be installed: dvc skipped")
                self.tools = [t for t in self.tools if t != "dvc"]
            elif "ssh" in self.args.stores and self.selected(2):
                self.dvc_ssh = ensure_dvc_ssh(self.dvc)
                if not self.dvc_ssh:
                    self.note("dvc[ssh] did not install (within 300 s) into DVC's venv: "
                              "DVC is left out of the ssh rows")
        if "lazy" in need:
            # `git lazy --help` would open git's man page; ask the script itself
            p = self.run(["git-lazy", "--help"], self.root, check=False) if shutil.which(
                "git-lazy", path=self.env["PATH"]) else None
            if p is None or p.returncode != 0:
                rc = p.returncode if p else None
                err = (p.stderr or p.stdout).strip()[-400:] if p else "not on PATH"
                msg = ("git-lazy is not usable (`git-lazy --help` exited "
                       f"{rc}: {err}); "
                       "run `pip install .` in the repo first. git-lazy skipped.")
                log("!! " + msg)
                self.notes.append(msg)
                self.failures.append(dict(phase=0, tool="lazy", workload="-", store="",
                                          step="git-lazy --help", cmd="git-lazy --help",
                                          rc=rc, stderr=err))
                self.tools = [t for t in self.tools if t != "lazy"]
            else:
                self.lazy_ok = True
                self.compile_lazy()
        self.versions = {
            "git": tool_version(["git", "--version"]),
            "git-lfs": tool_version(["git", "lfs", "version"]) if "lfs" in self.tools else "-",
            "dvc": tool_version([str(self.dvc), "--version"]) if self.dvc else "-",
            "git-lazy": self.lazy_version(),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        }

    def compile_lazy(self) -> None:
        """Byte-compile the git_lazydata package (untimed), as `pip install` of a wheel
        does: an editable install has no .pyc until a first run writes them, and no timed
        step should pay for compiling git-lazy's modules."""
        spec = importlib.util.find_spec("git_lazydata")
        for folder in (spec.submodule_search_locations or []) if spec else []:
            sh([sys.executable, "-m", "compileall", "-q", folder], env=self.env,
               capture_output=True)

    def lazy_version(self) -> str:
        try:
            from importlib.metadata import version
            return version("git-lazydata")
        except Exception:
            return "not installed"

    def start_moto(self) -> bool:
        if self.moto:
            return True
        if not ensure_moto():
            self.notes.append("moto's S3 server unavailable: s3 store skipped")
            return False
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.endpoints["s3"] = f"http://127.0.0.1:{port}"
        self.reset_s3()
        log(f"moto S3 server on {self.endpoints['s3']}")
        return True

    def start_s3rver(self, port: int | None = None) -> bool:
        """s3rver in its own process (node, --openssl-legacy-provider: without it a listing
        of more than one page fails) on 127.0.0.1 at a free port (or at `port`), its data
        dir in the temp dir (emptied first), the bucket made at start."""
        if self.s3rver:
            return True
        script = ensure_s3rver(Path(self.args.tools_dir).expanduser())
        if script is None:
            self.note("s3rver unavailable (node, npm or `npm install s3rver@3` failed): "
                      "s3rver store skipped")
            return False
        data, log_file = self.root / "s3rver-data", self.root / "s3rver.log"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
        port = port or free_port()
        with open(log_file, "wb") as out:
            self.s3rver = subprocess.Popen(
                ["node", "--openssl-legacy-provider", str(script), "-d", str(data),
                 "-a", "127.0.0.1", "-p", str(port), "--configure-bucket", BUCKET, "--silent"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        try:
            wait_until(lambda: http_ready(port, f"/{BUCKET}"), self.s3rver, "s3rver", log_file)
        except RuntimeError as e:
            stop_process(self.s3rver)
            self.s3rver = None
            self.note(f"s3rver did not start ({e}): s3rver store skipped")
            return False
        if "s3rver" not in self.endpoints:
            log(f"s3rver on http://127.0.0.1:{port} (data in {data})")
        self.endpoints["s3rver"] = f"http://127.0.0.1:{port}"
        return True

    def fresh_s3rver(self) -> None:
        """Restart s3rver on its port with an empty data dir, so that every tool's round,
        and the floor's, starts from the same server state whatever the order of tools
        (deleting a round's objects leaves s3rver's folders behind). It did not remove
        the spread between rounds: 5,000 objects of 16 KiB fetched in 5.3, 8.5 and 10.4 s
        on one server, and in 6.5, 9.2 and 7.8 s on fresh ones."""
        if not self.s3rver:
            return
        port = int(self.endpoints["s3rver"].rsplit(":", 1)[1])
        stop_process(self.s3rver)
        self.s3rver = None
        if not self.start_s3rver(port):
            raise RuntimeError("s3rver did not start again")

    def start_sshd(self) -> bool:
        """OpenSSH's sshd on 127.0.0.1 at a free port (as tests/servers.py's fixture):
        throwaway host and user keys, key auth only, `Subsystem sftp internal-sftp`.
        Writes the benchmark HOME's ~/.ssh/config (alias SSH_HOST) and known_hosts, read
        by git-lazy (paramiko) and, with -F, by sftp (OpenSSH reads the passwd home)."""
        if self.sshd:
            return True
        if not (ensure_apt("openssh-server", "/usr/sbin/sshd")
                and ensure_apt("openssh-client", "sftp")):
            self.note("OpenSSH sshd or sftp unavailable: ssh store skipped")
            return False
        work = self.root / "sshd"
        work.mkdir()
        for name in ("host_ed25519", "user_ed25519"):
            sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "git-lazy-bench",
                "-f", str(work / name)], check=True, capture_output=True)
        (work / "authorized_keys").write_text((work / "user_ed25519.pub").read_text())
        port = free_port()
        (work / "sshd_config").write_text(
            f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {work / 'host_ed25519'}\n"
            f"PidFile {work / 'sshd.pid'}\nAuthorizedKeysFile {work / 'authorized_keys'}\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin yes\n"
            "Subsystem sftp internal-sftp\nLogLevel ERROR\n")
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # privsep dir
        log_file = work / "sshd.log"
        with open(log_file, "wb") as out:
            self.sshd = subprocess.Popen(
                ["/usr/sbin/sshd", "-D", "-e", "-f", str(work / "sshd_config")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        try:
            wait_until(lambda: ssh_ready(port), self.sshd, "sshd", log_file)
        except RuntimeError as e:
            stop_process(self.sshd)
            self.sshd = None
            self.note(f"sshd did not start ({e}): ssh store skipped")
            return False
        ssh_dir = Path(self.env["HOME"]) / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        host_key = " ".join((work / "host_ed25519.pub").read_text().split()[:2])
        (ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
        user = getpass.getuser()
        config = ssh_dir / "config"
        config.write_text(
            f"Host {SSH_HOST}\n    HostName 127.0.0.1\n    Port {port}\n    User {user}\n"
            f"    IdentityFile {work / 'user_ed25519'}\n    IdentitiesOnly yes\n"
            f"    UserKnownHostsFile {ssh_dir / 'known_hosts'}\n    BatchMode yes\n")
        config.chmod(0o600)
        self.ssh = dict(port=port, user=user, key=work / "user_ed25519", config=config)
        log(f"sshd on 127.0.0.1:{port}")
        return True

    def start_servers(self, stores: list[str]) -> list[str]:
        """Start the servers the phase-2 stores need (once); returns the stores usable."""
        start = {"s3": self.start_moto, "s3rver": self.start_s3rver, "ssh": self.start_sshd}
        ok = []
        for store in stores:
            if store != "folder" and not start[store]():
                continue
            if store == "s3":
                self.reset_s3()
            ok.append(store)
        return ok

    def s3_client(self, store: str = "s3"):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoints[store], aws_access_key_id=S3_KEY,
                            aws_secret_access_key=S3_KEY, region_name="us-east-1")

    def reset_s3(self):
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(
            self.endpoints["s3"] + "/moto-api/reset", method="POST", data=b"")).read()
        self.s3_client().create_bucket(Bucket=BUCKET)

    def s3_keys(self, store: str, prefix: str) -> list[str]:
        s3 = self.s3_client(store)
        return [o["Key"]
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET,
                                                                        Prefix=prefix)
                for o in page.get("Contents", [])]

    def s3_count(self, store: str, prefix: str) -> int:
        return len(self.s3_keys(store, prefix))

    def s3_delete(self, store: str, prefix: str) -> None:
        """Delete every object (and, on moto, unfinished multipart upload) under prefix:
        moto keeps them in memory, s3rver in its data dir (s3rver has no
        ListMultipartUploads)."""
        s3 = self.s3_client(store)
        keys = self.s3_keys(store, prefix)
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=BUCKET, Delete={
                "Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
        if store != "s3":
            return
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=BUCKET,
                                                                        Prefix=prefix):
            for u in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=BUCKET, Key=u["Key"], UploadId=u["UploadId"])

    # ---- repo helpers
    def new_repo(self, path: Path, tool: str, env) -> None:
        path.mkdir(parents=True)
        self.run(["git", "init", "-q"], path, env)
        (path / "README").write_text("bench\n")
        if tool == "lazy":
            self.run(["git", "lazy", "install", "--local"], path, env)
            self.run(["git", "lazy", "track", "*.bin"], path, env)
        elif tool == "lfs":
            self.run(["git", "lfs", "install", "--local"], path, env)
            self.run(["git", "lfs", "track", "*.bin"], path, env)
        self.run(["git", "add", "-A"], path, env)
        self.run(["git", "commit", "-q", "-m", "init"], path, env)

    def check_pointer_committed(self, repo: Path, tool: str, wl: Workload, env) -> None:
        if tool not in ("lazy", "lfs"):
            return
        rel = wl.relpaths()[0]
        p = self.run(["git", "cat-file", "-s", f"HEAD:{rel}"], repo, env)
        if int(p.stdout.strip()) > 1024:
            raise VerifyFailed(f"HEAD:{rel} was committed as a {p.stdout.strip()}-byte blob, "
                               "not a pointer: the clean filter did not run")

    def rm(self, *paths):
        if self.args.keep:
            return
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)

    # ------------------------------------------------------------------ phase 1
    def phase1(self, wl: Workload, master: Path):
        for tool in [t for t in ("lazy", "lfs", "dvc", "git") if t in self.tools
                     and (t != "dvc" or self.dvc)]:
            log(f"phase 1, workload {wl.name} ({wl.desc}), {TOOL_NAMES[tool]}")
            try:
                self.phase1_tool(tool, wl, master)
            except (StepFailed, VerifyFailed) as e:
                self.fail(1, tool, wl, getattr(self, "_step", "?"), e)

    def phase1_tool(self, tool: str, wl: Workload, master: Path):
        """add+commit, switch empty->main and a no-op status of one tool (DVC: no status;
        its add+commit is `dvc add` + `git add` + `git commit`, its switch `git checkout`
        + `dvc checkout`, each summed)."""
        base = self.root / f"p1-{wl.name}-{tool}"
        reps = 1 if wl.large else self.repeat
        dvc = str(self.dvc) if tool == "dvc" else None
        addc, repo, env, cache = [], None, None, None
        for rep in range(reps):
            if repo is not None:
                self.rm(repo, cache)
            repo = base / f"repo{rep}"
            cache = base / f"cache{rep}"
            # DVC: its cache is the repo's .dvc/cache, its site cache keyed by repo path
            env = self.env if dvc else self.env_with(GIT_LAZY_CACHE_DIR=cache)
            self._step = "setup"
            self.new_repo(repo, tool, env)
            if dvc:
                self.run([dvc, "init", "-q"], repo, env)
                self.run(["git", "add", "-A"], repo, env)
                self.run(["git", "commit", "-q", "-m", "dvc init"], repo, env)
            copy_data(master, repo)
            self._step = "add+commit"
            t = self.timed([dvc, "add", "-q", "data"], repo, env) if dvc else 0.0
            t += self.timed(["git", "add", "-A"], repo, env)
            t += self.timed(["git", "commit", "-q", "-m", "data"], repo, env)
            addc.append(t)
            self.check_pointer_committed(repo, tool, wl, env)
            if dvc:
                self.run(["git", "cat-file", "-e", "HEAD:data.dvc"], repo, env)
        self.record(1, tool, wl, "add+commit", addc, info=(tool == "git"),
                    note="dvc add + git add + git commit" if dvc else "")

        # switch: empty -> main
        self._step = "switch"
        self.run(["git", "checkout", "-q", "-b", "empty"], repo, env)
        if dvc:
            # DVC leaves data/ behind as an untracked (gitignored) folder: removed by hand
            self.run(["git", "rm", "-q", "data.dvc"], repo, env)
            shutil.rmtree(repo / "data")
        else:
            self.run(["git", "rm", "-r", "-q", "data"], repo, env)
        self.run(["git", "commit", "-q", "-m", "empty"], repo, env)
        sw = []
        for rep in range(reps):
            if rep:
                self.run(["git", "checkout", "-q", "empty"], repo, env)
                if dvc:
                    shutil.rmtree(repo / "data", ignore_errors=True)
            if (repo / "data").exists():
                raise VerifyFailed("data/ still present on branch `empty`")
            t = self.timed(["git", "checkout", "-q", "main"], repo, env)
            if dvc:
                t += self.timed([dvc, "checkout", "-q"], repo, env)
            sw.append(t)
            verify_tree(repo, wl)
        self.record(1, tool, wl, "switch empty->main", sw, info=(tool == "git"),
                    note="git checkout + dvc checkout" if dvc else "")
        if dvc:
            self.rm(base)
            return

        # status
        self._step = "status"
        time.sleep(1.1)
        self.run(["git", "status"], repo, env)
        self.run(["git", "status"], repo, env)
        st = [self.timed(["git", "status"], repo, env) for _ in range(max(10, 3 * self.repeat))]
        p = self.run(["git", "status", "--porcelain"], repo, env)
        note = ""
        if p.stdout.strip():
            note = "working tree not clean: " + " | ".join(p.stdout.strip().splitlines()[:3])
            self.notes.append(f"{TOOL_NAMES[tool]} {wl.name}: {note}")
        self.record(1, tool, wl, "status (no-op)", st, note=note)
        self.rm(base)

    def rss(self, wl: Workload):
        for tool in [t for t in ("lazy", "lfs") if t in self.tools]:
            log(f"phase 1, peak RSS ({wl.desc}), {TOOL_NAMES[tool]}")
            base = self.root / f"rss-{tool}"
            repo = base / "repo"
            env = self.env_with(GIT_LAZY_CACHE_DIR=base / "cache")
            try:
                self.new_repo(repo, tool, env)
                wl.generate(repo)
                drv = "lazy" if tool == "lazy" else "lfs"
                proc = self.run(["git", "config", f"filter.{drv}.process"], repo, env,
                                check=False).stdout.strip()
                tot, flt = base / "rss-total", base / "rss-filter"
                cmd = ["/usr/bin/time", "-f", "%M", "-o", tot, "git"]
                if proc:
                    cmd += ["-c", f"filter.{drv}.process=/usr/bin/time -f %M -o {flt} {proc}"]
                cmd += ["add", "-A"]
                t = self.timed(cmd, repo, env)
                self.check_pointer_committed_index(repo, wl, env)
                total_mb = int(tot.read_text().split()[-1]) / 1024
                self.record(1, tool, wl, "git add: time", [t], info=True)
                self.record(1, tool, wl, "git add: max RSS, git+filter", [total_mb],
                            unit="MB", info=(tool != "lazy"))
                if flt.exists():
                    self.record(1, tool, wl, "git add: max RSS, filter only",
                                [int(flt.read_text().split()[-1]) / 1024], unit="MB", info=True)
            except (StepFailed, VerifyFailed, OSError, ValueError) as e:
                self.fail(1, tool, wl, "rss", e)
            self.rm(base)

    def check_pointer_committed_index(self, repo, wl, env):
        rel = wl.relpaths()[0]
        p = self.run(["git", "cat-file", "-s", f":{rel}"], repo, env)
        if int(p.stdout.strip()) > 1024:
            raise VerifyFailed(f":{rel} was staged as a {p.stdout.strip()}-byte blob, "
                               "not a pointer: the clean filter did not run")

    # ------------------------------------------------------------------ phase 2
    def p2_stores(self, wl: Workload) -> list[str]:
        """The --stores this workload is measured on (WORKLOAD_STORES limits some)."""
        return [s for s in self.args.stores if s in WORKLOAD_STORES.get(wl.name, ALL_STORES)]

    def phase2(self, wl: Workload, master: Path):
        """Set every tool up once, then run `repeat` rounds, each rep: lazy, dvc, lfs, floor
        (interleaved, so slow drift of the machine hits every tool alike)."""
        stores = self.p2_stores(wl)
        if {"lazy", "dvc"} & set(self.tools):
            stores = self.start_servers(stores)
        else:
            stores = [s for s in stores if s == "folder"]
        self.p2_runs: dict[tuple[str, str, str], dict] = {}
        self.p2_rss = {}
        setups = {"lazy": self.p2_setup_lazy, "dvc": self.p2_setup_dvc, "lfs": self.p2_setup_lfs}
        active: list[tuple[str, dict]] = []
        for tool in ("lazy", "dvc", "lfs"):
            if tool not in self.tools or (tool == "lfs" and "folder" not in stores):
                continue
            mine = [s for s in stores if not (tool == "dvc" and s == "ssh" and not self.dvc_ssh)]
            st = setups[tool](wl, master, mine)
            if st is not None:
                active.append((tool, st))
        for rep in range(self.repeat):
            log(f"phase 2, workload {wl.name}: repetition {rep + 1}/{self.repeat}")
            t0 = time.perf_counter()
            for tool, st in active:
                for store in st["stores"]:
                    if store == "s3rver":
                        self.fresh_s3rver()
                    self.p2_round(tool, st, wl, store, rep)
            for store in stores:
                if store == "s3rver":
                    self.fresh_s3rver()
                self.p2_round("floor", {"master": master}, wl, store, rep)
            log(f"  repetition {rep + 1} took {time.perf_counter() - t0:.0f} s")
        self.p2_record(wl)
        for _, st in active:
            self.rm(st["base"])
        for d in self.store_root.glob(f"*-{wl.name}*"):
            shutil.rmtree(d, ignore_errors=True)

    def p2_round(self, tool: str, st: dict, wl: Workload, store: str, rep: int) -> None:
        """One repetition of one tool on one store; a failure is reported, the others go on."""
        self._step = "push"
        try:
            getattr(self, f"p2_round_{tool}")(st, wl, store, rep)
        except Exception as e:  # also boto3's errors from counting or deleting objects
            self.fail(2, tool, wl, f"{self._step} (rep {rep + 1}/{self.repeat})", e, store=store)

    def lap(self, tool: str, wl: Workload, store: str, step: str, t: float, rep: int | None = None,
            info: bool = False, note: str = "") -> None:
        """Keep one phase-2 run; p2_record reports them all (median) once the rounds are over."""
        r = self.p2_runs.setdefault((tool, store, step), dict(runs=[], info=info, note=note))
        r["runs"].append(t)
        where = f"{wl.name}{'/' + store if store else ''}"
        rep_s = f"  (rep {rep + 1})" if rep is not None else ""
        log(f"  [{TOOL_NAMES[tool]:8s} {where:9s}] {step:28s} {t:.3f} s{rep_s}")

    def p2_record(self, wl: Workload, phase: int = 2) -> None:
        order = ["lazy", "dvc", "lfs", "floor"]
        for (tool, store, step), r in sorted(self.p2_runs.items(),
                                             key=lambda kv: order.index(kv[0][0])):
            self.record(phase, tool, wl, step, r["runs"], store=store, info=r["info"],
                        note=r["note"])
        for (tool, store, step), mbs in self.p2_rss.items():
            self.record(phase, tool, wl, f"{step}: max RSS", mbs, store=store, unit="MB",
                        agg=max, note="max over the rounds; any one process of the tree")
        self.p2_rss = {}

    def pick_store_root(self) -> Path:
        """Folder stores live on another filesystem than the repos (a tmpfs at /dev/shm
        when it has room), as a mounted shared folder would: on the same filesystem
        git-lfs's file transfer hardlinks objects instead of copying them."""
        if self.args.store_dir:
            return Path(tempfile.mkdtemp(prefix="git-lazy-bench-stores-",
                                         dir=self.args.store_dir))
        need = 3 * max((Workload(w, self.quick).total
                        for w in self.selected(2) + self.selected(3)), default=0) + GiB
        shm = Path("/dev/shm")
        try:
            st = os.statvfs(shm)
            if (os.stat(shm).st_dev != os.stat(self.root).st_dev
                    and st.f_bavail * st.f_frsize > need and os.access(shm, os.W_OK)):
                return Path(tempfile.mkdtemp(prefix="git-lazy-bench-stores-", dir=shm))
        except OSError:
            pass
        self.notes.append("folder stores are on the same filesystem as the repos "
                          "(no room on /dev/shm): git-lfs may hardlink instead of copying")
        d = self.root / "stores"
        d.mkdir(exist_ok=True)
        return d

    def store_url(self, tool: str, wl: Workload, store: str, rep: int) -> str:
        """A fresh location per tool, workload and repetition. ssh: a folder on the stores'
        filesystem, reached through the local sshd (git-lazy by the ~/.ssh/config alias;
        DVC, whose asyncssh does not read that file, by user, port and keyfile)."""
        if store == "folder":
            return str(self.store_root / f"{tool}-{wl.name}-r{rep}")
        if store == "ssh":
            path = self.store_root / f"ssh-{tool}-{wl.name}-r{rep}"
            if tool == "dvc":
                return f"ssh://{self.ssh['user']}@127.0.0.1:{self.ssh['port']}{path}"
            return f"ssh://{SSH_HOST}{path}"
        return f"s3://{BUCKET}/{tool}-{wl.name}-r{rep}"

    @staticmethod
    def s3_prefix(url: str) -> str:
        return url.removeprefix(f"s3://{BUCKET}/").rstrip("/") + "/"

    @staticmethod
    def local_path(store: str, url: str) -> Path:
        """Where a folder or ssh store's files are on this machine."""
        return Path(url) if store == "folder" else Path(urlsplit(url).path)

    def store_objects(self, store: str, url: str, sub: str) -> int:
        """Objects under <url>/<sub>: files in a folder or ssh store, keys in S3."""
        if store in S3_STORES:
            return self.s3_count(store, self.s3_prefix(url) + sub + "/")
        return sum(len(f) for _, _, f in os.walk(self.local_path(store, url) / sub))

    def check_pushed(self, store: str, url: str, sub: str, wl: Workload) -> None:
        """A push that skipped objects (e.g. a tool that remembers an earlier push) fails."""
        n = self.store_objects(store, url, sub)
        if n < wl.n:
            raise VerifyFailed(f"{url}/{sub} has {n} objects after push, expected {wl.n}")

    def drop_store(self, store: str, url: str) -> None:
        """Free a round's store (always, even with --keep: tmpfs and moto hold it in RAM)."""
        if store not in S3_STORES:
            shutil.rmtree(self.local_path(store, url), ignore_errors=True)
        elif store in self.endpoints:
            self.s3_delete(store, self.s3_prefix(url))

    def note(self, msg: str) -> None:
        if msg not in self.notes:
            self.notes.append(msg)

    def lazy_missing(self, subs=(("remote", "add"), ("push",), ("fetch",))) -> list[str]:
        """git-lazy commands (default: phase 2's) that the installed git-lazy does not have."""
        missing = []
        for sub in subs:
            p = self.run(["git-lazy", *sub, "--help"], self.root, check=False)
            if p.returncode != 0:
                missing.append(" ".join(sub))
        return missing

    def lazy_has_commands(self, phase: int, wl: Workload,
                          subs=(("remote", "add"), ("push",), ("fetch",))) -> bool:
        """True when git-lazy has these commands; else the phase's git-lazy steps are
        skipped and the missing commands reported as a failure."""
        missing = self.lazy_missing(subs)
        if not missing:
            return True
        msg = ("git-lazy has no command " + ", ".join(f"`git lazy {m}`" for m in missing)
               + f" yet (`git-lazy SUBCOMMAND --help` failed): its phase-{phase} steps skipped")
        log("!! " + msg)
        self.failures.append(dict(phase=phase, tool="lazy", workload=wl.name, store="",
                                  step="commands missing", cmd="", rc=None, stderr=msg))
        return False

    def lazy_remote_add(self, wl: Workload, store: str, rep: int) -> list[str]:
        cmd = ["git", "lazy", "remote", "add", f"{store}-r{rep}",
               self.store_url("lazy", wl, store, rep)]
        if store in S3_STORES:
            cmd += ["--endpoint", self.endpoints[store]]
        return cmd + ["--local"]

    def p2_setup_lazy(self, wl: Workload, master: Path, stores: list[str]) -> dict | None:
        """Untimed setup (add+commit timed as info) and one store per repetition."""
        log(f"phase 2, workload {wl.name} ({wl.desc}), git-lazy setup")
        if not self.lazy_has_commands(2, wl):
            return None
        base = self.root / f"p2-{wl.name}-lazy"
        src = base / "src"
        env = self.env_with(GIT_LAZY_CACHE_DIR=base / "cache-src")
        try:
            self.new_repo(src, "lazy", env)
            copy_data(master, src)
            t = self.timed(["git", "add", "-A"], src, env)
            t += self.timed(["git", "commit", "-q", "-m", "data"], src, env)
            self.check_pointer_committed(src, "lazy", wl, env)
            self.lap("lazy", wl, "", "add+commit", t, info=True)
        except (StepFailed, VerifyFailed) as e:
            self.fail(2, "lazy", wl, "setup", e)
            self.rm(base)
            return None
        ok = []
        for store in stores:
            try:
                for rep in range(self.repeat):
                    self.run(self.lazy_remote_add(wl, store, rep), src, env)
                ok.append(store)
            except StepFailed as e:
                self.fail(2, "lazy", wl, "remote add", e, store=store)
        return dict(base=base, src=src, env=env, stores=ok)

    def p2_round_lazy(self, st: dict, wl: Workload, store: str, rep: int) -> None:
        """Timed push to this repetition's store, timed fetch into a fresh clone whose
        GIT_LAZY_CACHE_DIR is empty; every file checked; clone and store freed."""
        url = self.store_url("lazy", wl, store, rep)
        rdir = st["base"] / f"r{rep}-{store}"
        try:
            self._step = "push"
            t = self.timed_rss(["git", "lazy", "push", f"{store}-r{rep}", "--all"],
                               st["src"], st["env"], store, "push", st["base"])
            self.check_pushed(store, url, "objects", wl)
            self.lap("lazy", wl, store, "push", t, rep)
            if store == "folder":
                self.note_hardlinks("git-lazy", wl, Path(url) / "objects")
            self._step = "fetch"
            clone = rdir / "clone"
            cenv = self.env_with(GIT_LAZY_CACHE_DIR=rdir / "cache")
            rdir.mkdir(parents=True)
            self.run(["git", "clone", "-q", st["src"], clone], rdir, cenv)
            self.run(["git", "lazy", "install", "--local"], clone, cenv)
            self.run(self.lazy_remote_add(wl, store, rep), clone, cenv)
            if (clone / wl.relpaths()[0]).stat().st_size > 1024:
                self.note(f"git-lazy {wl.name}/{store}: clone was not made of "
                          "pointer files before fetch (cache not empty?)")
            t = self.timed_rss(["git", "lazy", "fetch", "--all"], clone, cenv, store, "fetch",
                               rdir)
            verify_tree(clone, wl)
            self.lap("lazy", wl, store, "fetch", t, rep)
        finally:
            self.rm(rdir)
            self.drop_store(store, url)

    def timed_rss(self, cmd, cwd, env, store: str, step: str, scratch: Path) -> float:
        """self.timed(cmd); on the P2_RSS_STORES the command runs under `/usr/bin/time -f
        %M` and the peak RSS (MB) of its process tree (the largest single process: the
        ru_maxrss of reaped children) is kept for git-lazy's `<step>: max RSS` row."""
        if store not in P2_RSS_STORES or not os.path.exists("/usr/bin/time"):
            return self.timed(cmd, cwd, env)
        out = scratch / f"rss-{step}"
        t = self.timed(["/usr/bin/time", "-f", "%M", "-o", out, *cmd], cwd, env)
        self.p2_rss.setdefault(("lazy", store, step), []).append(
            int(out.read_text().split()[-1]) / 1024)
        out.unlink()
        return t

    def note_hardlinks(self, tool, wl, objects: Path):
        for dirpath, _, files in os.walk(objects):
            for f in files:
                if os.stat(os.path.join(dirpath, f)).st_nlink > 1:
                    self.note(f"{tool} {wl.name}/folder: push hardlinked the objects into "
                              "the store (same filesystem) instead of copying them")
                return

    def p2_setup_dvc(self, wl: Workload, master: Path, stores: list[str]) -> dict | None:
        """dvc init + dvc add (timed, info), then one committed remote per store and
        repetition (a fresh name too: DVC keeps per-remote-name state in its site cache)."""
        log(f"phase 2, workload {wl.name} ({wl.desc}), dvc setup")
        base = self.root / f"p2-{wl.name}-dvc"
        src = base / "src"
        env = self.env
        dvc = str(self.dvc)
        try:
            self.new_repo(src, "dvc", env)
            self.run([dvc, "init", "-q"], src, env)
            self.run(["git", "add", "-A"], src, env)
            self.run(["git", "commit", "-q", "-m", "dvc init"], src, env)
            copy_data(master, src)
            t = self.timed([dvc, "add", "-q", "data"], src, env)
            self.run(["git", "add", "-A"], src, env)
            self.run(["git", "commit", "-q", "-m", "data"], src, env)
            self.lap("dvc", wl, "", "dvc add", t, info=True)
        except (StepFailed, VerifyFailed) as e:
            self.fail(2, "dvc", wl, "setup", e)
            self.rm(base)
            return None
        ok = []
        for store in stores:
            try:
                for rep in range(self.repeat):
                    name = f"{store}-r{rep}"
                    self.run([dvc, "remote", "add", name, self.store_url("dvc", wl, store, rep)],
                             src, env)
                    if store in S3_STORES:
                        self.run([dvc, "remote", "modify", name, "endpointurl",
                                  self.endpoints[store]], src, env)
                    elif store == "ssh":
                        self.run([dvc, "remote", "modify", name, "keyfile", self.ssh["key"]],
                                 src, env)
                ok.append(store)
            except StepFailed as e:
                self.fail(2, "dvc", wl, "remote add", e, store=store)
        try:
            self.run(["git", "add", "-A"], src, env)
            self.run(["git", "commit", "-q", "-m", "remotes"], src, env)
        except StepFailed as e:
            self.fail(2, "dvc", wl, "setup", e)
            self.rm(base)
            return None
        return dict(base=base, src=src, env=env, stores=ok)

    def check_dvc_cache(self, clone: Path, env) -> None:
        """The clone's DVC cache must be its own (.dvc/cache), or a pull could skip work."""
        out = self.run([str(self.dvc), "cache", "dir"], clone, env).stdout.strip()
        cache = Path(out.splitlines()[-1] if out else "").resolve()
        if not cache.is_relative_to(clone.resolve()):
            raise VerifyFailed(f"the clone's DVC cache dir is {cache}, outside the clone")

    def p2_round_dvc(self, st: dict, wl: Workload, store: str, rep: int) -> None:
        """Timed `dvc push` to this repetition's remote; timed `dvc pull` in a fresh clone
        (own .dvc/cache, own empty DVC_SITE_CACHE_DIR); clone and store freed."""
        dvc = str(self.dvc)
        name, url = f"{store}-r{rep}", self.store_url("dvc", wl, store, rep)
        rdir = st["base"] / f"r{rep}-{store}"
        try:
            self._step = "push"
            t = self.timed([dvc, "push", "-q", "-r", name], st["src"], st["env"])
            self.check_pushed(store, url, "files/md5", wl)
            self.lap("dvc", wl, store, "push", t, rep)
            self._step = "fetch"
            clone = rdir / "clone"
            cenv = self.env_with(DVC_SITE_CACHE_DIR=rdir / "site-cache")
            rdir.mkdir(parents=True)
            self.run(["git", "clone", "-q", st["src"], clone], rdir, cenv)
            if rep == 0:
                self.check_dvc_cache(clone, cenv)
            t = self.timed([dvc, "pull", "-q", "-r", name], clone, cenv)
            verify_tree(clone, wl)
            self.lap("dvc", wl, store, "fetch", t, rep, note="dvc pull")
        finally:
            self.rm(rdir)
            self.drop_store(store, url)

    def lfs_bares(self, wl: Workload, rep: int) -> tuple[Path, Path]:
        return (self.store_root / f"lfs-{wl.name}-r{rep}.git",
                self.store_root / f"plain-{wl.name}-r{rep}.git")

    def p2_setup_lfs(self, wl: Workload, master: Path, stores: list[str]) -> dict | None:
        """add+commit (timed, info), then two bare repos per repetition as git remotes
        origin-rN (with LFS) and plain-rN (commit only); fresh remote names, so no remote
        tracking ref makes git-lfs think the objects are already there."""
        log(f"phase 2, workload {wl.name} ({wl.desc}), git-lfs setup")
        base = self.root / f"p2-{wl.name}-lfs"
        src = base / "src"
        env = self.env
        try:
            self.new_repo(src, "lfs", env)
            copy_data(master, src)
            t = self.timed(["git", "add", "-A"], src, env)
            t += self.timed(["git", "commit", "-q", "-m", "data"], src, env)
            self.check_pointer_committed(src, "lfs", wl, env)
            self.lap("lfs", wl, "", "add+commit", t, info=True)
            for rep in range(self.repeat):
                for name, b in zip(("origin", "plain"), self.lfs_bares(wl, rep)):
                    b.parent.mkdir(parents=True, exist_ok=True)
                    self.run(["git", "init", "-q", "--bare", b], base, env)
                    self.run(["git", "remote", "add", f"{name}-r{rep}", b], src, env)
        except (StepFailed, VerifyFailed) as e:
            self.fail(2, "lfs", wl, "setup", e, store="folder")
            self.rm(base)
            return None
        return dict(base=base, src=src, env=env, stores=["folder"])

    def p2_round_lfs(self, st: dict, wl: Workload, store: str, rep: int) -> None:
        """Timed `git push` (incl. the LFS upload) to this repetition's bare repo; timed
        `git lfs pull` in a fresh GIT_LFS_SKIP_SMUDGE clone; clone and bare repos freed."""
        src, env = st["src"], st["env"]
        bare, plain = self.lfs_bares(wl, rep)
        rdir = st["base"] / f"r{rep}-{store}"
        try:
            self._step = "push"
            t = self.timed(["git", "push", "-q", f"origin-r{rep}", "main"], src, env)
            self.check_pushed(store, str(bare / "lfs"), "objects", wl)
            self.lap("lfs", wl, store, "push", t, rep, note="git push incl. LFS upload")
            self.note_hardlinks("git-lfs", wl, bare / "lfs" / "objects")
            t = self.timed(["git", "push", "-q", f"plain-r{rep}", "main"], src,
                           self.env_with(GIT_LFS_SKIP_PUSH=1))
            self.lap("lfs", wl, store, "git push w/o LFS objects", t, rep, info=True)
            self._step = "fetch"
            clone = rdir / "clone"
            rdir.mkdir(parents=True)
            self.run(["git", "clone", "-q", bare, clone], rdir,
                     self.env_with(GIT_LFS_SKIP_SMUDGE=1))
            self.run(["git", "lfs", "install", "--local"], clone, env)
            t = self.timed(["git", "lfs", "pull"], clone, env)
            verify_tree(clone, wl)
            self.lap("lfs", wl, store, "fetch", t, rep, note="git lfs pull")
        finally:
            self.rm(rdir)
            for b in (bare, plain):
                shutil.rmtree(b, ignore_errors=True)

    def p2_round_floor(self, st: dict, wl: Workload, store: str, rep: int) -> None:
        if store == "folder":
            self.p2_folder_floor(st["master"], wl, rep)
        elif store == "ssh":
            self.p2_ssh_floor(st["master"], wl, rep)
        else:
            self.p2_s3_floor(wl, store, rep)

    def p2_folder_floor(self, master: Path, wl: Workload, rep: int) -> None:
        """What the filesystems allow with no tool: push = one `cp -r` of the data into
        the folder-store filesystem; fetch = `cp -r` from there into a cache dir and
        again into a work dir (the two copies any tool with a local cache writes)."""
        stored = self.store_root / f"floor-{wl.name}-r{rep}"
        local = self.root / f"floor-{wl.name}-r{rep}"
        local.mkdir()
        try:
            self._step = "push"
            t = self.timed(["cp", "-r", master, stored], self.root)
            self.lap("floor", wl, "folder", "push", t, rep, info=True, note="cp -r (one copy)")
            self._step = "fetch"
            t = self.timed(["sh", "-c", 'cp -r "$1" "$2/cache" && cp -r "$2/cache" "$2/work"',
                            "floor", stored, local], self.root)
            self.lap("floor", wl, "folder", "fetch", t, rep, info=True,
                     note="cp -r twice (cache + work tree)")
        finally:
            shutil.rmtree(stored, ignore_errors=True)
            self.rm(local)

    def p2_s3_floor(self, wl: Workload, store: str, rep: int) -> None:
        """What the S3 server allows with no SDK: the workload's object count and size
        PUT, then GET (bodies dropped), then GET again writing every body twice (cache +
        work tree), by plain http.client from FLOOR_THREADS threads, each pass in a process
        of its own (in this one it would fight moto's threads for the GIL) that times
        itself, each after settle_io like every timed step."""
        prefix = f"floor-{wl.name}-r{rep}/"
        host, port = self.endpoints[store].removeprefix("http://").rsplit(":", 1)
        auth = "1" if store == "s3" else "0"
        dest = self.root / f"floor-{wl.name}-r{rep}-{store}"
        note = f"{FLOOR_THREADS} threads, http.client, no SDK"
        try:
            for step, method, extra in (("push", "PUT", []), ("fetch", "GET", []),
                                        (FETCH_WRITES, "GET", [dest])):
                self._step = step
                settle_io()
                p = self.run([sys.executable, Path(__file__).resolve(), FLOOR_CLIENT, host, port,
                              BUCKET, prefix, wl.n, wl.size, FLOOR_THREADS, method, auth,
                              *extra], self.root)
                t = json.loads(p.stdout.strip().splitlines()[-1])
                if method == "PUT" and self.s3_count(store, prefix) < wl.n:
                    raise VerifyFailed(f"the floor's PUTs left fewer than {wl.n} objects")
                what = {"push": "PUT", "fetch": "GET",
                        FETCH_WRITES: "GET, each body written to a cache and a work tree"}
                self.lap("floor", wl, store, step, t, rep, info=True,
                         note=f"{note} ({what[step]})")
        finally:
            shutil.rmtree(dest, ignore_errors=True)
            self.s3_delete(store, prefix)

    def sftp(self, batch: str, scratch: Path, name: str) -> list:
        """The command that runs OpenSSH's sftp in batch mode (-b) against the local sshd
        with the benchmark's ssh config (-F); the batch file is written now, untimed."""
        f = scratch / f"{name}.sftp"
        f.write_text(batch)
        return ["sftp", "-q", "-F", self.ssh["config"], "-b", f, SSH_HOST]

    def p2_ssh_floor(self, master: Path, wl: Workload, rep: int) -> None:
        """What the sshd allows with no tool: OpenSSH's own sftp in batch mode. push =
        `put -r` of the data into a folder the sshd serves; fetch = `get -r` of it into a
        cache dir (sftp must write what it gets: one write); fetch + writes = that plus
        `cp -r` of the cache into a work dir (each timed after settle_io)."""
        store = "ssh"
        stored = self.store_root / f"ssh-floor-{wl.name}-r{rep}"
        local = self.root / f"floor-{wl.name}-r{rep}-ssh"
        local.mkdir()
        try:
            self._step = "push"
            put = self.sftp(f'put -r "{master / "data"}" "{stored}"\n', local, "put")
            t = self.timed(put, self.root)
            if count_files(stored) < wl.n:
                raise VerifyFailed(f"sftp put -r left fewer than {wl.n} files in {stored}")
            note = "OpenSSH sftp -b"
            self.lap("floor", wl, store, "push", t, rep, info=True, note=f"{note} (put -r)")
            self._step = "fetch"
            get = self.sftp(f'get -r "{stored}" "{local / "cache"}"\n', local, "get")
            t = self.timed(get, self.root)
            if count_files(local / "cache") < wl.n:
                raise VerifyFailed(f"sftp get -r left fewer than {wl.n} files")
            self.lap("floor", wl, store, "fetch", t, rep, info=True,
                     note=f"{note} (get -r into a cache dir)")
            self._step = FETCH_WRITES
            t += self.timed(["cp", "-r", local / "cache", local / "work"], self.root)
            self.lap("floor", wl, store, FETCH_WRITES, t, rep, info=True,
                     note="the get -r + cp -r of it into a work dir")
        finally:
            shutil.rmtree(stored, ignore_errors=True)
            self.rm(local)


    # ------------------------------------------------------------------ phase 3
    def phase3(self, wl: Workload, master: Path):
        """The workflow through git itself. C, D: per round and tool (interleaved: lazy,
        dvc, lfs, floor) a timed `git push` to a fresh bare repo + fresh store, then
        timed clones of it (everything; for D also one folder). H: the cost of a push
        that adds no data, in repositories whose history already holds wl.n data files."""
        others = [s for s in self.args.stores if s != "folder"]
        if others:
            self.note(f"phase 3 runs on the folder store only ({', '.join(others)}: "
                      "measured in phase 2)")
        if "folder" not in self.args.stores:
            self.note("phase 3 skipped: it needs the folder store (--stores)")
            return
        self.p2_runs = {}
        hook = wl.name == "H"
        setups = {"lazy": self.p3_setup_lazy, "dvc": self.p3_setup_dvc,
                  "lfs": self.p3_setup_lfs}
        active: list[tuple[str, dict]] = []
        for tool in ("lazy", "dvc", "lfs"):
            if tool not in self.tools:
                continue
            log(f"phase 3, workload {wl.name} ({wl.desc}), {TOOL_NAMES[tool]} setup")
            try:
                st = setups[tool](wl, master, hook)
            except (StepFailed, VerifyFailed) as e:
                self.fail(3, tool, wl, f"setup: {getattr(self, '_step', '?')}", e,
                          store="folder")
                self.rm(self.root / f"p3-{wl.name}-{tool}")
                continue
            if st is not None:
                active.append((tool, st))
        try:
            log(f"phase 3, workload {wl.name}: floor setup")
            active.append(("floor", self.p3_setup_floor(wl, master, hook)))
        except (StepFailed, VerifyFailed, OSError) as e:
            self.fail(3, "floor", wl, "setup", e, store="folder")
        for rep in range(self.repeat):
            log(f"phase 3, workload {wl.name}: repetition {rep + 1}/{self.repeat}")
            t0 = time.perf_counter()
            for tool, st in active:
                self._step = WF_HOOK if hook else WF_PUSH
                try:
                    if hook:
                        self.p3_hook_round(tool, st, wl, rep)
                    else:
                        getattr(self, f"p3_round_{tool}")(st, wl, rep)
                except Exception as e:
                    self.fail(3, tool, wl, f"{self._step} (rep {rep + 1}/{self.repeat})", e,
                              store="folder")
            log(f"  repetition {rep + 1} took {time.perf_counter() - t0:.0f} s")
        self.p2_record(wl, phase=3)
        for _, st in active:
            self.rm(st["base"])
        for d in self.store_root.glob(f"wf-*-{wl.name}*"):
            shutil.rmtree(d, ignore_errors=True)

    def p3_env(self, tool: str, **kw) -> dict:
        """The environment of one tool in phase 3. Its user-wide git config is a copy of
        the benchmark's plus the tool's user-wide install (`git lazy install --global`,
        `git lfs install`), made once, so that a plain `git clone` runs the tool's filter;
        each tool has its own copy, so no tool's filter runs in another's repositories.
        DVC's git hooks run `dvc` from PATH: a folder holding only a `dvc` link to the
        venv's is put first on PATH (not the venv's bin, whose python would shadow ours)."""
        if tool not in self.p3_envs:
            home = Path(self.env["HOME"])
            cfg = home / f".gitconfig-{tool}"
            shutil.copyfile(self.env["GIT_CONFIG_GLOBAL"], cfg)
            env = self.env_with(GIT_CONFIG_GLOBAL=cfg)
            if tool == "lazy":
                self.run(["git", "lazy", "install", "--global"], self.root, env)
            elif tool == "lfs":
                self.run(["git", "lfs", "install", "--skip-repo"], self.root, env)
            elif tool == "dvc":
                shim = self.root / "dvc-bin"
                shim.mkdir(exist_ok=True)
                if not (shim / "dvc").exists():
                    (shim / "dvc").symlink_to(self.dvc)
                env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
            self.p3_envs[tool] = env
        return dict(self.p3_envs[tool], **{k: str(v) for k, v in kw.items()})

    def p3_bare(self, tool: str, wl: Workload, rep) -> Path:
        """A fresh bare repo on the stores' filesystem (the git remote of one round)."""
        bare = self.store_root / f"wf-{tool}-{wl.name}-r{rep}.git"
        self.run(["git", "init", "-q", "--bare", bare], self.root)
        return bare

    def p3_store(self, tool: str, wl: Workload, rep) -> str:
        return str(self.store_root / f"wf-{tool}-{wl.name}-r{rep}")

    def p3_commit(self, repo: Path, env, msg: str) -> None:
        """An untimed setup commit (--no-verify: DVC's pre-commit hook runs `dvc status`)."""
        self.run(["git", "add", "-A"], repo, env)
        self.run(["git", "commit", "-q", "--no-verify", "-m", msg], repo, env)

    def p3_hook_ready(self, tool: str, st: dict, wl: Workload, url: str, sub: str) -> None:
        """Workload H: push the history once (untimed; the tool's hook uploads every
        object), then commit a change to a plain text file: the push to time."""
        src, env = st["src"], st["env"]
        self._step = "first push"
        st["bare"] = self.p3_bare(tool, wl, "hook")
        self.run(["git", "remote", "add", "origin", st["bare"]], src, env)
        self.run(["git", "push", "-q", "-u", "origin", "main"], src, env)
        if url:
            self.check_pushed("folder", url, sub, wl)
        with open(src / "README", "a") as f:
            f.write("a change to a plain text file\n")
        self.p3_commit(src, env, "text only")
        st["old"] = self.run(["git", "rev-parse", "origin/main"], src, env).stdout.strip()
        st["new"] = self.run(["git", "rev-parse", "HEAD"], src, env).stdout.strip()

    def p3_setup_lazy(self, wl: Workload, master: Path, hook: bool) -> dict | None:
        if not self.lazy_has_commands(3, wl, (("clone", ), ("remote", "add"), ("remote", "remove"))):
            return None
        base = self.root / f"p3-{wl.name}-lazy"
        src = base / "src"
        env = self.p3_env("lazy", GIT_LAZY_CACHE_DIR=base / "cache-src")
        self._step = "setup"
        self.new_repo(src, "lazy", env)
        st = dict(base=base, src=src, env=env, prev=None)
        if hook:
            url = st["store"] = self.p3_store("lazy", wl, "hook")
            self.run(["git", "lazy", "remote", "add", "lake", url], src, env)
            self.p3_commit(src, env, "store")
        copy_data(master, src)
        self.p3_commit(src, env, "data")
        self.check_pointer_committed(src, "lazy", wl, env)
        if hook:
            self.p3_hook_ready("lazy", st, wl, st["store"], "objects")
        return st

    def p3_setup_dvc(self, wl: Workload, master: Path, hook: bool) -> dict | None:
        dvc = str(self.dvc)
        base = self.root / f"p3-{wl.name}-dvc"
        src = base / "src"
        env = self.p3_env("dvc")
        self._step = "setup"
        self.new_repo(src, "dvc", env)
        self.run([dvc, "init", "-q"], src, env)
        self.run([dvc, "install"], src, env)
        st = dict(base=base, src=src, env=env, prev=None)
        if hook:
            url = st["store"] = self.p3_store("dvc", wl, "hook")
            self.run([dvc, "remote", "add", "-d", "lake", url], src, env)
        self.p3_commit(src, env, "dvc init")
        copy_data(master, src)
        self.run([dvc, "add", "-q", "data"], src, env)
        self.p3_commit(src, env, "data")
        if hook:
            self.p3_hook_ready("dvc", st, wl, st["store"], "files/md5")
        return st

    def p3_setup_lfs(self, wl: Workload, master: Path, hook: bool) -> dict | None:
        base = self.root / f"p3-{wl.name}-lfs"
        src = base / "src"
        env = self.p3_env("lfs")
        self._step = "setup"
        self.new_repo(src, "lfs", env)
        copy_data(master, src)
        self.p3_commit(src, env, "data")
        self.check_pointer_committed(src, "lfs", wl, env)
        st = dict(base=base, src=src, env=env)
        if hook:
            self.p3_hook_ready("lfs", st, wl, "", "")
            self.check_pushed("folder", str(st["bare"] / "lfs"), "objects", wl)
        return st

    def p3_setup_floor(self, wl: Workload, master: Path, hook: bool) -> dict:
        """A plain git repo (no filter) whose commit holds the workload's pointer files
        as ordinary blobs: what git itself moves for git-lazy or git-lfs."""
        base = self.root / f"p3-{wl.name}-floor"
        src = base / "src"
        env = self.env
        self._step = "setup"
        self.new_repo(src, "git", env)
        made = set()
        for rel, oid in wl.hashes.items():
            p = src / rel
            if p.parent not in made:
                p.parent.mkdir(parents=True, exist_ok=True)
                made.add(p.parent)
            p.write_text(pointer_text(oid, wl.size))
        self.p3_commit(src, env, "pointers")
        st = dict(base=base, src=src, env=env, master=master)
        if hook:
            self.p3_hook_ready("floor", st, wl, "", "")
        return st

    def p3_timed_sum(self, cmds, cwd, env) -> float:
        """Several processes run one after the other (each timed after settle_io), summed."""
        return sum(self.timed(cmd, c or cwd, env) for cmd, c in cmds)

    def p3_round_lazy(self, st: dict, wl: Workload, rep: int) -> None:
        """Commit .lazyconfig naming this round's fresh folder store; timed `git push` to a
        fresh bare repo (the pre-push hook uploads); timed `git lazy clone` with an empty
        cache (all; one folder); a plain `git clone` under the user-wide install (info)."""
        src, env, store = st["src"], st["env"], "folder"
        url, rdir = self.p3_store("lazy", wl, rep), st["base"] / f"r{rep}"
        bare = self.store_root / f"wf-lazy-{wl.name}-r{rep}.git"
        try:
            self._step = "setup"
            name = f"folder-r{rep}"
            if st["prev"]:
                self.run(["git", "lazy", "remote", "remove", st["prev"]], src, env)
            self.run(["git", "lazy", "remote", "add", name, url], src, env)
            self.run(["git", "lazy", "remote", "default", name], src, env)
            st["prev"] = name
            self.p3_commit(src, env, f"store {name}")
            self.p3_bare("lazy", wl, rep)
            self.run(["git", "remote", "add", f"origin-r{rep}", bare], src, env)
            self._step = WF_PUSH
            t = self.timed(["git", "push", "-q", f"origin-r{rep}", "main"], src, env)
            self.check_pushed(store, url, "objects", wl)
            self.lap("lazy", wl, store, WF_PUSH, t, rep, note="pre-push hook uploads")
            self.note_hardlinks("git-lazy", wl, Path(url) / "objects")
            rdir.mkdir(parents=True)
            self._step = WF_ALL
            cenv = dict(env, GIT_LAZY_CACHE_DIR=str(rdir / "cache-all"))
            t = self.timed(["git", "lazy", "clone", bare, rdir / "all"], rdir, cenv)
            verify_tree(rdir / "all", wl)
            self.lap("lazy", wl, store, WF_ALL, t, rep, note="git lazy clone")
            self.rm(rdir / "all", rdir / "cache-all")
            self._step = "git clone, user-wide install"
            genv = dict(env, GIT_LAZY_CACHE_DIR=str(rdir / "cache-g"))
            t = self.timed(["git", "clone", "-q", bare, rdir / "g"], rdir, genv)
            verify_tree(rdir / "g", wl)
            self.lap("lazy", wl, store, "git clone (install --global)", t, rep, info=True,
                     note="filter adds hooks, post-checkout fetches")
            self.rm(rdir / "g", rdir / "cache-g")
            folder = WF_FOLDER.get(wl.name)
            if folder:
                self._step = WF_ONE
                oenv = dict(env, GIT_LAZY_CACHE_DIR=str(rdir / "cache-one"))
                t = self.timed(["git", "lazy", "clone", "--include", f"{folder}/**", bare,
                                rdir / "one"], rdir, oenv)
                verify_only_folder(rdir / "one", wl, folder, "pointer")
                self.check_fetched(rdir / "cache-one" / "objects", wl, folder)
                self.lap("lazy", wl, store, WF_ONE, t, rep,
                         note=f"git lazy clone --include '{folder}/**'")
        finally:
            self.rm(rdir)
            for d in (url, bare):
                shutil.rmtree(d, ignore_errors=True)

    def check_fetched(self, objects: Path, wl: Workload, folder: str, extra: int = 0) -> None:
        """After fetching one folder, the local object store holds that folder's objects
        (+ `extra`, e.g. DVC's directory listing) and no more."""
        want = sum(1 for rel in wl.hashes if rel.startswith(folder + "/"))
        n = count_files(objects)
        if not want <= n <= want + extra:
            raise VerifyFailed(f"{objects} holds {n} objects after fetching {folder} "
                               f"({want} files)")

    def p3_round_dvc(self, st: dict, wl: Workload, rep: int) -> None:
        """Commit .dvc/config with this round's fresh remote as default; timed `git push`
        to a fresh bare repo (DVC's pre-push hook runs `dvc push`); timed `git clone` +
        `dvc pull` (all; one folder), each clone with an empty DVC_SITE_CACHE_DIR."""
        dvc, src, env, store = str(self.dvc), st["src"], st["env"], "folder"
        url, rdir = self.p3_store("dvc", wl, rep), st["base"] / f"r{rep}"
        bare = self.store_root / f"wf-dvc-{wl.name}-r{rep}.git"
        try:
            self._step = "setup"
            name = f"folder-r{rep}"
            if st["prev"]:
                self.run([dvc, "remote", "remove", st["prev"]], src, env)
            self.run([dvc, "remote", "add", "-d", name, url], src, env)
            st["prev"] = name
            self.p3_commit(src, env, f"remote {name}")
            self.p3_bare("dvc", wl, rep)
            self.run(["git", "remote", "add", f"origin-r{rep}", bare], src, env)
            self._step = WF_PUSH
            t = self.timed(["git", "push", "-q", f"origin-r{rep}", "main"], src, env)
            self.check_pushed(store, url, "files/md5", wl)
            self.lap("dvc", wl, store, WF_PUSH, t, rep, note="pre-push hook runs dvc push")
            rdir.mkdir(parents=True)
            self._step = WF_ALL
            cenv = dict(env, DVC_SITE_CACHE_DIR=str(rdir / "site-all"))
            clone = rdir / "all"
            t = self.timed(["git", "clone", "-q", bare, clone], rdir, cenv)
            if rep == 0:
                self.check_dvc_cache(clone, cenv)
            t += self.timed([dvc, "pull", "-q"], clone, cenv)
            verify_tree(clone, wl)
            self.lap("dvc", wl, store, WF_ALL, t, rep, note="git clone + dvc pull")
            self.rm(clone)
            folder = WF_FOLDER.get(wl.name)
            if folder:
                self._step = WF_ONE
                oenv = dict(env, DVC_SITE_CACHE_DIR=str(rdir / "site-one"))
                clone = rdir / "one"
                t = self.timed(["git", "clone", "-q", bare, clone], rdir, oenv)
                t += self.timed([dvc, "pull", "-q", folder], clone, oenv)
                verify_only_folder(clone, wl, folder, "absent")
                self.check_fetched(clone / ".dvc" / "cache", wl, folder, extra=1)
                self.lap("dvc", wl, store, WF_ONE, t, rep,
                         note=f"git clone + dvc pull {folder}")
        finally:
            self.rm(rdir)
            for d in (url, bare):
                shutil.rmtree(d, ignore_errors=True)

    def p3_round_lfs(self, st: dict, wl: Workload, rep: int) -> None:
        """Timed `git push` to a fresh bare repo (git-lfs's pre-push hook uploads into its
        lfs/ dir); timed plain `git clone` (the smudge filter downloads); as info
        GIT_LFS_SKIP_SMUDGE=1 git clone + git lfs pull; one folder: that clone +
        `git lfs pull -I 'FOLDER/**'`."""
        src, env, store = st["src"], st["env"], "folder"
        rdir = st["base"] / f"r{rep}"
        bare = self.store_root / f"wf-lfs-{wl.name}-r{rep}.git"
        skip = dict(env, GIT_LFS_SKIP_SMUDGE="1")
        try:
            self._step = "setup"
            self.p3_bare("lfs", wl, rep)
            self.run(["git", "remote", "add", f"origin-r{rep}", bare], src, env)
            self._step = WF_PUSH
            t = self.timed(["git", "push", "-q", f"origin-r{rep}", "main"], src, env)
            self.check_pushed(store, str(bare / "lfs"), "objects", wl)
            self.lap("lfs", wl, store, WF_PUSH, t, rep, note="pre-push hook uploads")
            self.note_hardlinks("git-lfs", wl, bare / "lfs" / "objects")
            rdir.mkdir(parents=True)
            self._step = WF_ALL
            t = self.timed(["git", "clone", "-q", bare, rdir / "all"], rdir, env)
            verify_tree(rdir / "all", wl)
            self.lap("lfs", wl, store, WF_ALL, t, rep, note="git clone (smudge downloads)")
            self.rm(rdir / "all")
            self._step = "skip-smudge clone + git lfs pull"
            t = self.timed(["git", "clone", "-q", bare, rdir / "pull"], rdir, skip)
            t += self.timed(["git", "lfs", "pull"], rdir / "pull", env)
            verify_tree(rdir / "pull", wl)
            self.lap("lfs", wl, store, "skip-smudge clone + lfs pull", t, rep, info=True)
            self.rm(rdir / "pull")
            folder = WF_FOLDER.get(wl.name)
            if folder:
                self._step = WF_ONE
                clone = rdir / "one"
                t = self.timed(["git", "clone", "-q", bare, clone], rdir, skip)
                t += self.timed(["git", "lfs", "pull", "-I", f"{folder}/**"], clone, env)
                verify_only_folder(clone, wl, folder, "pointer")
                self.check_fetched(clone / ".git" / "lfs" / "objects", wl, folder)
                self.lap("lfs", wl, store, WF_ONE, t, rep,
                         note=f"skip-smudge clone + git lfs pull -I '{folder}/**'")
        finally:
            self.rm(rdir)
            shutil.rmtree(bare, ignore_errors=True)

    def p3_round_floor(self, st: dict, wl: Workload, rep: int) -> None:
        """No tool: push = `cp -r` of the data into the stores' filesystem + a plain
        `git push` of the pointer commit to a fresh bare repo; clone = a plain `git clone`
        of that repo + `cp -r` twice (into a cache dir, then a work dir), of everything
        or of the one folder."""
        src, env, store = st["src"], st["env"], "folder"
        stored, rdir = Path(self.p3_store("floor", wl, rep)), st["base"] / f"r{rep}"
        bare = self.store_root / f"wf-floor-{wl.name}-r{rep}.git"
        try:
            self._step = "setup"
            self.p3_bare("floor", wl, rep)
            self.run(["git", "remote", "add", f"origin-r{rep}", bare], src, env)
            self._step = WF_PUSH
            t_cp = self.timed(["cp", "-r", st["master"], stored], self.root)
            t_git = self.timed(["git", "push", "-q", f"origin-r{rep}", "main"], src, env)
            self.lap("floor", wl, store, WF_PUSH, t_cp + t_git, rep, info=True,
                     note="cp -r + plain git push of the pointers")
            self.lap("floor", wl, store, "  cp -r of the data", t_cp, rep, info=True)
            self.lap("floor", wl, store, "  plain git push", t_git, rep, info=True,
                     note="the pointer files as plain blobs, no hook")
            rdir.mkdir(parents=True)
            copy2 = 'cp -r "$1" "$2/cache" && cp -r "$2/cache" "$2/work"'
            steps = [(WF_ALL, "all", stored / "data")]
            folder = WF_FOLDER.get(wl.name)
            if folder:
                steps.append((WF_ONE, "one", stored / folder))
            for step, sub, what in steps:
                self._step = step
                t_git = self.timed(["git", "clone", "-q", bare, rdir / sub], rdir, env)
                (rdir / f"{sub}-copies").mkdir()
                t_cp = self.timed(["sh", "-c", copy2, "floor", what, rdir / f"{sub}-copies"],
                                  rdir)
                self.lap("floor", wl, store, step, t_git + t_cp, rep, info=True,
                         note="plain git clone + cp -r twice (cache + work tree)")
                self.lap("floor", wl, store, f"  plain git clone ({sub})", t_git, rep,
                         info=True)
                self.lap("floor", wl, store, f"  cp -r twice ({sub})", t_cp, rep, info=True)
                self.rm(rdir / sub, rdir / f"{sub}-copies")
        finally:
            self.rm(rdir)
            for d in (stored, bare):
                shutil.rmtree(d, ignore_errors=True)

    def p3_hook_round(self, tool: str, st: dict, wl: Workload, rep: int) -> None:
        """Workload H: the pre-push hook alone, run as git would run it (WF_HOOK_RUNS
        times), then `git push` of the text-only commit and `git push --no-verify` (info);
        after each push the bare repo's main and origin/main are put back."""
        src, env, bare, old, new = st["src"], st["env"], st["bare"], st["old"], st["new"]
        store = "folder"
        line = f"refs/heads/main {new} refs/heads/main {old}\n"
        hook = {"lazy": ["git", "lazy", "hook", "pre-push", "origin", bare],
                "lfs": ["git", "lfs", "pre-push", "origin", bare],
                "dvc": [str(self.dvc), "git-hook", "pre-push", "origin", bare]}.get(tool)
        if hook:
            self._step = WF_HOOK
            for _ in range(WF_HOOK_RUNS):
                t = self.timed(hook, src, env, input=line)
                self.lap(tool, wl, store, WF_HOOK, t, rep,
                         note=f"{HOOK_CMD[tool]} origin URL < one ref line")
        pushes = [(WF_NOOP, [])] + ([("git push --no-verify", ["--no-verify"])] if hook else [])
        for step, flags in pushes:
            self._step = step
            t = self.timed(["git", "push", "-q", *flags, "origin", "main"], src, env)
            got = self.run(["git", "--git-dir", bare, "rev-parse", "main"], self.root,
                           env).stdout.strip()
            if got != new:
                raise VerifyFailed(f"after `git push` the remote's main is {got}, not {new}")
            self.run(["git", "--git-dir", bare, "update-ref", "refs/heads/main", old],
                     self.root, env)
            self.run(["git", "update-ref", "refs/remotes/origin/main", old], src, env)
            self.lap(tool, wl, store, step, t, rep, info=bool(flags) or tool == "floor",
                     note="plain git push of pointer files" if tool == "floor" else "")

    # ------------------------------------------------------------------ driver
    def main(self):
        t0 = time.perf_counter()
        self.setup()
        if self.selected(2) or self.selected(3):
            self.store_root = self.pick_store_root()
        log(f"work dir {self.root}; folder stores in {self.store_root}; "
            f"tools: {', '.join(TOOL_NAMES[t] for t in self.tools)}")
        for name in self.args.workloads:
            wl = Workload(name, self.quick)
            phases = [p for p in wl.phases if name in self.selected(p)]
            if not phases:
                continue
            if name == "rss":
                self.rss(wl)
                continue
            if phases == [2] and not self.p2_stores(wl):
                self.note(f"workload {name} skipped: it runs on "
                          f"{', '.join(WORKLOAD_STORES[name])} only (--stores)")
                continue
            if phases == [1] and not ({"lazy", "lfs", "dvc", "git"} & set(self.tools)):
                continue
            master = self.root / f"master-{name}"
            log(f"generating workload {name}: {wl.desc} ({human(wl.total)}) ...")
            tg = time.perf_counter()
            wl.generate(master)
            log(f"  generated in {time.perf_counter() - tg:.1f} s")
            for phase in phases:
                {1: self.phase1, 2: self.phase2, 3: self.phase3}[phase](wl, master)
            shutil.rmtree(master, ignore_errors=True)
        self.elapsed = time.perf_counter() - t0
        self.report()

    def ratios(self) -> list[dict]:
        out = []

        def add(label, num, den, target, wl, note="", floor=None, phase=None, step=None,
                **extra):
            r = dict(label=label, workload=wl, target=target, num=num, den=den, note=note,
                     floor=floor / den if floor is not None and den else None, **extra)
            if phase:
                r.update(phase=phase, step=step)
            if num is None or den is None or den == 0:
                r.update(ratio=None, verdict="n/a")
            elif target is None:
                r.update(ratio=num / den, verdict="info")
            else:
                r.update(ratio=num / den, verdict="PASS" if num / den <= target else "MISS")
            out.append(r)

        p1 = [w for w in self.selected(1) if w != "rss"]
        for w in p1:
            for step in ("add+commit", "switch empty->main", "status (no-op)"):
                add(f"lazy/lfs {step}", self.get("lazy", w, step, phase=1),
                    self.get("lfs", w, step, phase=1), TARGETS["lazy/lfs"], w)
            add("lazy/git status", self.get("lazy", w, "status (no-op)", phase=1),
                self.get("git", w, "status (no-op)", phase=1), TARGETS["lazy/git status"], w)
            # DVC's rows when it ran here (a failed DVC step shows as n/a)
            if any(r["phase"] == 1 and r["tool"] == "dvc" and r["workload"] == w
                   for r in self.results + self.failures):
                add("lazy/dvc switch empty->main",
                    self.get("lazy", w, "switch empty->main", phase=1),
                    self.get("dvc", w, "switch empty->main", phase=1),
                    TARGETS["lazy/dvc switch"], w)
                add("lazy/dvc add+commit", self.get("lazy", w, "add+commit", phase=1),
                    self.get("dvc", w, "add+commit", phase=1), None, w)
        if "rss" in self.selected(1):
            v = self.get("lazy", "rss", "git add: max RSS, git+filter")
            r = dict(label="lazy peak RSS (MB, git+filter)", workload="rss",
                     target=TARGETS["rss_mb"], num=v, den=None, ratio=v, unit="MB",
                     verdict="n/a" if v is None else ("PASS" if v < TARGETS["rss_mb"] else "MISS"))
            out.append(r)
        for w in self.selected(2):
            stores = [s for s in self.args.stores if s in WORKLOAD_STORES.get(w, ALL_STORES)]
            for store in stores:
                for step in ("push", "fetch"):
                    lazy = self.get("lazy", w, step, store, 2)
                    kw = dict(store=store, p2step=step)
                    add(f"lazy/dvc {step} [{store}]", lazy, self.get("dvc", w, step, store, 2),
                        P2_DVC_TARGET.get((store, w), TARGETS["lazy/dvc"]), w,
                        floor=self.get("floor", w, step, store, 2), **kw)
                    target = P2_FLOOR_TARGET.get((store, w))
                    add(f"lazy/floor {step} [{store}]", lazy,
                        self.get("floor", w, step, store, 2), target, w, **kw)
                    writes = self.get("floor", w, FETCH_WRITES, store, 2)
                    if step == "fetch" and writes is not None:
                        add(f"lazy/floor+writes {step} [{store}]", lazy, writes, target, w,
                            **kw)
                    if store in P2_RSS_STORES:
                        v = self.get("lazy", w, f"{step}: max RSS", store, 2)
                        out.append(dict(
                            label=f"lazy {step} peak RSS (MB) [{store}]", workload=w,
                            target=TARGETS["rss_mb"], num=v, den=None, ratio=v, unit="MB",
                            verdict="n/a" if v is None else
                            ("PASS" if v < TARGETS["rss_mb"] else "MISS"), **kw))
            if "folder" in stores:
                for step in ("push", "fetch"):
                    add(f"lazy/lfs {step} [folder]", self.get("lazy", w, step, "folder", 2),
                        self.get("lfs", w, step, "folder", 2), TARGETS["lazy/lfs"], w,
                        store="folder", p2step=step)
        for w in self.selected(3):
            for step in self.p3_steps(w):
                lazy, lfs, dvc, floor = (self.get(t, w, step, "folder", phase=3)
                                         for t in ("lazy", "lfs", "dvc", "floor"))
                kw = dict(phase=3, step=step)
                gated = step in (WF_PUSH, WF_ALL)  # the workflow's targets
                add(f"lazy/lfs {step} [folder]", lazy, lfs, TARGETS["lazy/lfs"], w, **kw)
                add(f"lazy/dvc {step} [folder]", lazy, dvc, None, w, floor=floor, **kw)
                add(f"lazy/floor {step} [folder]", lazy, floor,
                    TARGETS["lazy/floor"] if gated else None, w, **kw)
            if w in WF_FOLDER:
                add(f"lazy {WF_ONE} / lazy {WF_ALL}", self.get("lazy", w, WF_ONE, "folder", 3),
                    self.get("lazy", w, WF_ALL, "folder", 3), TARGETS["one/all"], w,
                    phase=3, step="one/all")
            if w == "H":
                v = self.get("lazy", w, WF_HOOK, "folder", 3)
                out.append(dict(label=f"lazy {WF_HOOK} (s)", workload=w, phase=3, step="hook_s",
                                target=TARGETS["hook_s"], num=v, den=None, ratio=v,
                                verdict="n/a" if v is None else
                                ("PASS" if v < TARGETS["hook_s"] else "MISS")))
        return out

    @staticmethod
    def p3_steps(w: str) -> list[str]:
        if w == "H":
            return [WF_HOOK, WF_NOOP]
        return [WF_PUSH, WF_ALL] + ([WF_ONE] if w in WF_FOLDER else [])

    def report(self):
        ratios = self.ratios()
        lines = []
        P = lines.append
        P("")
        P("git-lazy benchmark" + (" (--quick)" if self.quick else ""))
        P("  " + "; ".join(f"{k} {v}" for k, v in self.versions.items()))
        P(f"  total wall time {self.elapsed:.0f} s; repeat={self.repeat} (median shown)")
        for phase in (1, 2, 3):
            rows = [r for r in self.results if r["phase"] == phase]
            if not rows:
                continue
            P("")
            P(f"Phase {phase} ({PHASE_TITLES[phase]})")
            hdr = ["tool", "workload", "store", "step", "median", "runs", "note"]
            tab = []
            for r in rows:
                wl = r["workload"]
                val = (f"{r['value']:.3f} s" if r["unit"] == "s" else f"{r['value']:.1f} MB")
                runs = ", ".join(f"{x:.3f}" if r["unit"] == "s" else f"{x:.1f}" for x in r["runs"])
                if len(r["runs"]) > 5:
                    runs = (f"n={len(r['runs'])}, min {min(r['runs']):.3f}, "
                            f"max {max(r['runs']):.3f}")
                tab.append([TOOL_NAMES[r["tool"]], wl, r["store"] or "-", r["step"], val,
                            runs if len(r["runs"]) > 1 else "",
                            ("(info) " if r["info"] else "") + (r["note"] or "")])
            P(table(hdr, tab))
        P("")
        P("Workloads: " + "; ".join(f"{n} = {Workload(n, self.quick).desc}"
                                    for n in self.ran_workloads()))
        p3 = [r for r in ratios if r.get("phase") == 3]
        ratios = [r for r in ratios if r.get("phase") != 3]
        tab = []
        for r in ratios:
            if r.get("unit") == "MB":
                val = "-" if r["ratio"] is None else f"{r['ratio']:.1f} MB"
                tgt = f"< {r['target']:g} MB"
            else:
                val = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
                tgt = "-" if r["target"] is None else f"<= {r['target']:g}"
            fl = r.get("floor")
            fl = "" if fl is None else f"{fl:.2f}" + (
                " (target out of reach)" if r["target"] is not None and fl > r["target"] else "")
            tab.append([r["label"], r["workload"], val, tgt, r["verdict"], fl])
        if tab:
            P("")
            P("Ratios (git-lazy / other; lower is better)")
            P(table(["ratio", "workload", "value", "target", "verdict", "floor/dvc"], tab))
        if any(r.get("floor") is not None for r in ratios):
            P("  floor/dvc: the floor's time over dvc's, about the best ratio any tool can reach "
              "here. Floor:")
            P("  folder = cp -r of the data (push) and cp -r twice, into a cache and a work "
              "dir (fetch);")
            P(f"  s3, s3rver = the same objects PUT/GET by plain http.client from "
              f"{FLOOR_THREADS} threads, no SDK;")
            P("  ssh = OpenSSH's sftp -b: put -r (push), get -r into a cache dir (fetch).")
            P(f"  floor+writes ({FETCH_WRITES}): s3 GETs writing each body to a cache and a "
              "work tree; ssh get -r + cp -r into a work dir.")
        if any(r.get("store") for r in ratios):
            self.report_p2(P, ratios)
        if p3 and any(r["phase"] == 3 for r in self.results):
            self.report_p3(P, p3)
        if self.notes:
            P("")
            P("Notes")
            for n in self.notes:
                P("  - " + n)
        if self.failures:
            P("")
            P("Failures")
            for f in self.failures:
                P(f"  - {TOOL_NAMES.get(f['tool'], f['tool'])} {f['workload']}"
                  f"{'/' + f['store'] if f.get('store') else ''} step '{f['step']}': "
                  f"`{f.get('cmd', '')}` exited {f.get('rc')}")
                for ln in (f.get("stderr") or "").splitlines():
                    P("      " + ln)
        print("\n".join(lines), flush=True)
        if self.args.json:
            data = dict(quick=self.quick, repeat=self.repeat, versions=self.versions,
                        elapsed_s=round(self.elapsed, 1), tools=self.tools,
                        phases=[int(x) for x in self.args.phases],
                        workloads={n: dict(desc=Workload(n, self.quick).desc,
                                           files=Workload(n, self.quick).n,
                                           file_size=Workload(n, self.quick).size)
                                   for n in self.ran_workloads()},
                        results=self.results, ratios=ratios, notes=self.notes,
                        failures=self.failures)
            Path(self.args.json).write_text(json.dumps(data, indent=2) + "\n")
            log(f"wrote {self.args.json}")

    def report_p2(self, P, ratios: list[dict]) -> None:
        """Phase 2 at a glance: one row per workload, store and step, the medians of every
        tool and floor, the ratios (with the verdict where a target exists), lazy's RSS."""
        P("")
        P("Phase 2 summary (medians; ratios git-lazy / other, verdict where a target exists)")

        def secs(v):
            return "-" if v is None else f"{v:.3f}"

        def cell(r):
            if r is None or r["ratio"] is None:
                return "-"
            v = f"{r['ratio']:.1f}" if r.get("unit") == "MB" else f"{r['ratio']:.2f}"
            return v + ("" if r["verdict"] == "info" else f" {r['verdict']}")

        tab = []
        for w in self.selected(2):
            stores = [s for s in self.args.stores if s in WORKLOAD_STORES.get(w, ALL_STORES)]
            for store in stores:
                for step in ("push", "fetch"):
                    by = {r["label"].split(" [", 1)[0]: r for r in ratios
                          if r["workload"] == w and r.get("store") == store
                          and r.get("p2step") == step}
                    tab.append([w, store, step] + [
                        secs(self.get(t, w, st, store, 2)) for t, st in
                        (("lazy", step), ("dvc", step), ("lfs", step), ("floor", step),
                         ("floor", FETCH_WRITES if step == "fetch" else "-"))]
                        + [cell(by.get(f"lazy/{k} {step}")) for k in
                           ("dvc", "lfs", "floor", "floor+writes")]
                        + [cell(by.get(f"lazy {step} peak RSS (MB)"))])
        P(table(["wl", "store", "step", "git-lazy s", "dvc s", "git-lfs s", "floor s",
                 "floor+writes s", "lazy/dvc", "lazy/lfs", "lazy/floor", "lazy/floor+wr",
                 "lazy RSS MB"], tab))

    def ran_workloads(self) -> list[str]:
        return [n for n in self.args.workloads if any(n in self.selected(p) for p in (1, 2, 3))]

    def report_p3(self, P, p3: list[dict]) -> None:
        """Phase 3: one row per workload and step, the tools' medians and the ratios."""
        P("")
        P("Phase 3 ratios (workflow through git, folder store; git-lazy / other, lower is "
          "better)")
        P(f"  targets: lazy/lfs <= {TARGETS['lazy/lfs']:g}; lazy/floor <= {TARGETS['lazy/floor']:g} for "
          f"{WF_PUSH} and {WF_ALL}; lazy/dvc none (floor = no tool: cp -r + plain git)")

        def secs(v):
            return "-" if v is None else f"{v:.3f} s"

        def cell(r):
            if r is None or r["ratio"] is None:
                return "-"
            return f"{r['ratio']:.2f}" + ("" if r["verdict"] == "info" else f" {r['verdict']}")

        tab = []
        for w in self.selected(3):
            for step in self.p3_steps(w):
                by = {r["label"].split(" ", 1)[0]: r for r in p3
                      if r["workload"] == w and r["step"] == step}
                fl = by.get("lazy/dvc", {}).get("floor")
                tab.append([step, w] + [secs(self.get(t, w, step, "folder", 3))
                                        for t in ("lazy", "lfs", "dvc", "floor")]
                           + [cell(by.get(k)) for k in ("lazy/lfs", "lazy/dvc", "lazy/floor")]
                           + ["" if fl is None else f"{fl:.2f}" + (
                               " (target out of reach)" if fl > TARGETS["lazy/dvc"] else "")])
        P(table(["step", "workload", "git-lazy", "git-lfs", "dvc", "floor", "lazy/lfs",
                 "lazy/dvc", "lazy/floor", "floor/dvc"], tab))
        extra = [r for r in p3 if r["step"] in ("one/all", "hook_s")]
        if extra:
            tab = []
            for r in extra:
                if r["step"] == "hook_s":
                    val = "-" if r["ratio"] is None else f"{r['ratio']:.3f} s"
                    tgt = f"< {r['target']:g} s"
                else:
                    val = "-" if r["ratio"] is None else f"{r['ratio']:.3f}"
                    tgt = f"<= {r['target']:g}"
                tab.append([r["label"], r["workload"], val, tgt, r["verdict"]])
            P(table(["git-lazy target", "workload", "value", "target", "verdict"], tab))

    def close(self):
        if self.moto:
            try:
                self.moto.stop()
            except Exception:
                pass
        stop_process(self.s3rver)
        stop_process(self.sshd)
        if self.args.keep:
            log(f"kept {self.root}" + (f" and {self.store_root}" if self.store_root else ""))
        else:
            if self.store_root and not self.store_root.is_relative_to(self.root):
                shutil.rmtree(self.store_root, ignore_errors=True)
            shutil.rmtree(self.root, ignore_errors=True)


def table(hdr, rows) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]

    def fmt(r):
        return "  " + "  ".join(str(x).ljust(n) for x, n in zip(r, w)).rstrip()

    return "\n".join([fmt(hdr), "  " + "  ".join("-" * n for n in w)] + [fmt(r) for r in rows])


def csv_list(allowed):
    def parse(s):
        items = [x.strip() for x in s.split(",") if x.strip()]
        bad = [x for x in items if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(bad)} (choose from "
                                             f"{', '.join(allowed)})")
        return items
    return parse


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [FLOOR_CLIENT]:
        return floor_client_main(argv[1:])
    ap = argparse.ArgumentParser(description="Benchmark git-lazy vs git-lfs, DVC and git.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See the module docstring (bench_README) for details.")
    ap.add_argument("--quick", action="store_true", help="sizes ~10x smaller (smoke run)")
    ap.add_argument("--only", type=csv_list(ALL_TOOLS), default=list(ALL_TOOLS),
                    help="tools: lazy,lfs,dvc,git (default all)")
    ap.add_argument("--phases", type=csv_list(ALL_PHASES), default=list(ALL_PHASES),
                    help="1 (local), 2 (stores), 3 (workflow through git: git push, clone, "
                         "clone of one folder, pre-push hook cost); default all")
    ap.add_argument("--workloads", type=csv_list(list(WORKLOADS)), default=list(WORKLOADS),
                    help="A,B,C,rss (phase 1), C,D (phases 2 and 3), E (phase 2, ssh), "
                         "H (phase 3); default all")
    ap.add_argument("--stores", type=csv_list(ALL_STORES), default=list(ALL_STORES),
                    help="phase 2 stores: folder,s3 (moto),s3rver,ssh (default all); "
                         "phase 3 uses folder")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each cheap step and of every phase-2/3 push/fetch/clone "
                         "(median)")
    ap.add_argument("--step-timeout", type=float, default=None,
                    help="kill a step after this many seconds (default 900, --quick 180)")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--workdir", default=None, help="parent dir of the temp dir")
    ap.add_argument("--store-dir", default=None,
                    help="parent dir for the folder stores (default: /dev/shm when it is "
                         "another filesystem with room, else inside the temp dir)")
    ap.add_argument("--tools-dir", default="~/.cache/git-lazy-bench",
                    help="where the DVC venv is kept (default ~/.cache/git-lazy-bench)")
    args = ap.parse_args(argv)
    b = Bench(args)
    try:
        b.main()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
