#!/usr/bin/env python3
"""Benchmark `git lazy migrate import` against `git lfs migrate import`.

bench_migrate_README
====================

How to run
----------
    pip install .                                     # from the repo root
    python3 scripts/bench_migrate.py                  # 500 commits, 2,000 files, 3 rounds
    python3 scripts/bench_migrate.py --quick --repeat 1   # smoke run: 150 commits, 600 files
    python3 scripts/bench_migrate.py --workdir /dev/shm --json out.json

Run it with the interpreter git-lazy is installed in (its scripts folder is put first
on PATH). It needs git and git-lfs (Debian's `git-lfs`) and installs nothing.

Options: --quick (a smaller history), --repeat N (rounds, default 3; the median is
reported), --json FILE (also write the results there), --keep (keep the temp dir),
--workdir DIR (parent of the temp dir), --step-timeout S (default 1800).

What is measured
----------------
One history is generated once with `git fast-import` (deterministic, seeded): 2,000
files (1,900 small text files of 0.5-4 KiB in data/dNN/, 100 binary `*.bin` files of
64-512 KiB in models/mNN/; --quick: 600 files, 16-64 KiB binaries) in the first
commit, then 499 commits that each change 4 text files and one binary file, a branch
`feature` of 20 commits forking at commit 450 (its own binaries changed too), an
annotated tag v1 and a lightweight tag v2. Each round copies it twice (untimed) and
runs, each in a fresh copy with its own empty object store:
- lazy: `git lazy install --local`, then, timed: `git lazy migrate import --include '*.bin' --everything`
- lfs:  `git lfs install --local`, then, timed:  `git lfs migrate import --include='*.bin' --everything`
Both rewrite every branch and tag, store the binaries' content locally (the git-lazy
cache; .git/lfs/objects) and check the new HEAD out. Times are the wall time of the
whole command, median over the rounds; the tools take turns in each round's order
so drift hits both. Peak RSS is the largest resident set of any process of the
command (getrusage of the children of a small wrapper process), as info.

Checks (each round, untimed): both commands exit 0; `git status` is clean; for every
`*.bin` at HEAD, feature and v1, git-lazy's blob is byte-identical to git-lfs's
pointer blob (the two tools agree on every pointer) and the work-tree files hold the
original bytes; the number of commits is unchanged.

Target: lazy / lfs time <= 1.0 (PASS/MISS).

Isolation: HOME and GIT_CONFIG_GLOBAL point inside the temp dir (init.defaultBranch
main, user.name/email, gc.auto=0, maintenance.auto=false), GIT_CONFIG_NOSYSTEM=1,
GIT_LAZY_CACHE_DIR a fresh folder per round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "sys.stderr.write(f'\\nmaxrss_kb={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n')\n"
    "sys.exit(rc)\n"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_env(top: Path) -> dict[str, str]:
    home = top / "home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = Bench\n\temail = bench@example.com\n"
        "[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "XDG_"))}
    scripts = os.path.dirname(sys.executable)
    env.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1",
               LC_ALL="C", PATH=scripts + os.pathsep + env.get("PATH", ""), GIT_TERMINAL_PROMPT="0")
    return env


def data(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def text(rng: random.Random, size: int) -> bytes:
    words = [b"alpha", b"beta", b"gamma", b"delta", b"data", b"model", b"value", b"row"]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
    return bytes(out[:size])


def build(repo: Path, env: dict[str, str], quick: bool) -> dict[str, int]:
    """Write the history with git fast-import; return its shape."""
    commits = 150 if quick else 500
    n_text, n_bin = (570, 30) if quick else (1900, 100)
    bin_min, bin_max = (16 << 10, 64 << 10) if quick else (64 << 10, 512 << 10)
    rng = random.Random("bench_migrate")
    texts = [f"data/d{i % 50:02d}/f{i:04d}.txt" for i in range(n_text)]
    bins = [f"models/m{i % 10:02d}/w{i:03d}.bin" for i in range(n_bin)]
    subprocess.run(["git", "init", "-q", str(repo)], env=env, check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, env=env, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    when = 1_700_000_000

    def blob(path: str, content: bytes) -> None:
        out.write(f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n")

    def commit(ref: str, mark: int, parent: int | None, message: str, changes: list[tuple[str, bytes]]) -> None:
        nonlocal when
        when += 60
        msg = message.encode()
        out.write(f"commit {ref}\nmark :{mark}\n".encode())
        out.write(f"author Bench <bench@example.com> {when} +0100\n".encode())
        out.write(f"committer Bench <bench@example.com> {when} +0100\n".encode())
        out.write(f"data {len(msg)}\n".encode() + msg + b"\n")
        if parent is not None:
            out.write(f"from :{parent}\n".encode())
        for path, content in changes:
            blob(path, content)
        out.write(b"\n")

    first = [(p, text(rng, rng.randint(512, 4096))) for p in texts]
    first += [(p, data(rng, rng.randint(bin_min, bin_max))) for p in bins]
    commit("refs/heads/main", 1, None, "Initial data\n", first)
    fork = commits * 9 // 10
    for i in range(2, commits + 1):
        changes = [(rng.choice(texts), text(rng, rng.randint(512, 4096))) for _ in range(4)]
        changes.append((bins[i % n_bin], data(rng, rng.randint(bin_min, bin_max))))
        commit("refs/heads/main", i, i - 1, f"Change {i}\n\nMore text about change {i}.\n", changes)
        if i == commits // 2:
            out.write(f"tag v1\nfrom :{i}\ntagger Bench <bench@example.com> {when} +0100\ndata 8\nRelease\n\n".encode())
        if i == commits * 4 // 5:
            out.write(f"reset refs/tags/v2\nfrom :{i}\n\n".encode())
    for j in range(20):
        mark = commits + 1 + j
        changes = [(rng.choice(texts), text(rng, 1000)), (bins[(j * 7) % n_bin], data(rng, bin_min))]
        commit("refs/heads/feature", mark, fork if j == 0 else mark - 1, f"Feature {j}\n", changes)
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed while building the history")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, env=env, check=True)
    return {"commits": commits + 20, "files": n_text + n_bin, "binary_files": n_bin}


def git(repo: Path, env: dict[str, str], *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True).stdout


def timed(cmd: list[str], repo: Path, env: dict[str, str], timeout: float) -> tuple[float, int]:
    """Run ``cmd`` through the wrapper; return (seconds, peak RSS in KiB)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], cwd=repo, env=env, capture_output=True,
                          timeout=timeout)
    seconds = time.perf_counter() - start
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    rss = int(err.rsplit("maxrss_kb=", 1)[1].split()[0])
    return seconds, rss


def check(lazy_repo: Path, lfs_repo: Path, master: Path, env: dict[str, str]) -> None:
    """Both tools gave the same pointers, clean work trees and the original bytes."""
    for repo in (lazy_repo, lfs_repo):
        status = git(repo, env, "status", "--porcelain", "--untracked-files=no")
        if status:
            raise SystemExit(f"{repo.name}: git status is not clean after the migration:\n{status.decode()[:2000]}")
        count = git(repo, env, "rev-list", "--count", "--all").strip()
        if count != git(master, env, "rev-list", "--count", "--all").strip():
            raise SystemExit(f"{repo.name}: the number of commits changed")
    for rev in ("main", "feature", "v1"):
        lazy_tree = git(lazy_repo, env, "ls-tree", "-r", rev, "--", "models").split(b"\n")
        lfs_tree = git(lfs_repo, env, "ls-tree", "-r", rev, "--", "models").split(b"\n")
        if lazy_tree != lfs_tree:
            raise SystemExit(f"{rev}: the pointers of git-lazy and git-lfs differ")
    for path in git(master, env, "ls-files", "models").decode().split():
        if (lazy_repo / path).read_bytes() != (master / path).read_bytes():
            raise SystemExit(f"lazy: {path} does not hold its original bytes after the migration")
    pointer = git(lazy_repo, env, "cat-file", "-p", "HEAD:" + path)
    if not pointer.startswith(b"version https://git-lfs.github.com/spec/v1\n"):
        raise SystemExit("lazy: HEAD does not hold pointers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="150 commits, 600 files, small binaries")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median reported)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--workdir", type=Path, default=None, help="parent of the temp dir")
    parser.add_argument("--step-timeout", type=float, default=1800.0)
    args = parser.parse_args()
    if shutil.which("git-lfs") is None:
        raise SystemExit("git-lfs is not installed (Debian: apt-get install git-lfs)")
    top = Path(tempfile.mkdtemp(prefix="bench-migrate-", dir=args.workdir))
    try:
        env = make_env(top)
        master = top / "master"
        log("building the history ...")
        shape = build(master, env, args.quick)
        log(f"history: {shape}")
        runs: dict[str, list[tuple[float, int]]] = {"lazy": [], "lfs": []}
        for round_no in range(args.repeat):
            order = ["lazy", "lfs"] if round_no % 2 == 0 else ["lfs", "lazy"]
            repos = {}
            for tool in order:
                repo = top / f"r{round_no}-{tool}"
                shutil.copytree(master, repo, symlinks=True)
                repos[tool] = repo
                tool_env = dict(env, GIT_LAZY_CACHE_DIR=str(top / f"cache-{round_no}"))
                if tool == "lazy":
                    git(repo, tool_env, "lazy", "install", "--local")
                    cmd = ["git", "lazy", "migrate", "import", "--include", "*.bin", "--everything"]
                else:
                    git(repo, tool_env, "lfs", "install", "--local")
                    cmd = ["git", "lfs", "migrate", "import", "--include=*.bin", "--everything"]
                os.sync()
                seconds, rss = timed(cmd, repo, tool_env, args.step_timeout)
                runs[tool].append((seconds, rss))
                log(f"round {round_no + 1}: {tool} {seconds:.2f} s, peak RSS {rss / 1024:.0f} MiB")
            check(repos["lazy"], repos["lfs"], master, dict(env, GIT_LAZY_CACHE_DIR=str(top / f"cache-{round_no}")))
            for repo in repos.values():
                shutil.rmtree(repo)
        med = {tool: statistics.median(s for s, _ in r) for tool, r in runs.items()}
        peak = {tool: max(m for _, m in r) for tool, r in runs.items()}
        ratio = med["lazy"] / med["lfs"]
        print(f"\nmigrate import --include '*.bin' --everything: {shape['commits']} commits, "
              f"{shape['files']} files ({shape['binary_files']} binary), median of {args.repeat} round(s)\n")
        print(f"{'tool':<10}{'seconds':>10}{'peak RSS':>12}")
        for tool in ("lazy", "lfs"):
            print(f"{tool:<10}{med[tool]:>10.2f}{peak[tool] / 1024:>9.0f} MiB")
        verdict = "PASS" if ratio <= 1.0 else "MISS"
        print(f"\nlazy / lfs = {ratio:.2f}  (target <= 1.0: {verdict})")
        if args.json:
            args.json.write_text(json.dumps({"shape": shape, "runs": runs, "median_s": med, "peak_rss_kib": peak,
                                             "ratio": ratio, "verdict": verdict}, indent=2))
        return 0
    finally:
        if args.keep:
            log(f"kept {top}")
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
