#!/usr/bin/env python3
"""Time `git lazy prune` on a cache of 20,000 objects (target: a few seconds).

    python3 scripts/bench_prune.py                  # 20,000 objects, 3 rounds
    python3 scripts/bench_prune.py --objects 2000 --repeat 1

Run it with the interpreter git-lazy is installed in. The cache holds N small objects,
all recorded as pushed and last used three days ago; a repository's HEAD references
half of them (N/2 pointer files in one commit), so prune must list the cache, read
what the repository needs, and remove the other half. Each round starts from a fresh
copy of the cache; the time is the wall time of the whole `git lazy prune` process,
median of the rounds, next to `--dry-run` (the same work without the deletions).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build(root: Path, count: int) -> tuple[Path, Path]:
    """Make the cache and the repository; return (cache, repo)."""
    from git_lazydata.record import StoreRecord

    cache, repo = root / "cache", root / "repo"
    oids = []
    for i in range(count):
        data = f"object {i}\n".encode()
        oid = hashlib.sha256(data).hexdigest()
        folder = cache / "objects" / oid[:2] / oid[2:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / oid).write_bytes(data)
        oids.append((oid, len(data)))
    record = StoreRecord(cache, "file:///bench-store")
    record.add(oid for oid, _ in oids)
    record.close()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    data = repo / "data"
    data.mkdir()
    for i, (oid, size) in enumerate(oids[: count // 2]):
        (data / f"f{i:06}.bin").write_bytes(
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode())
    git = ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pointers"], check=True)
    return cache, repo


def age(cache: Path) -> None:
    """Make every object look last used three days ago."""
    old = time.time() - 3 * 86400
    for path in (cache / "objects").rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="parent of the temp dir (default: the system's)")
    args = parser.parse_args()
    lazy = shutil.which("git-lazy", path=os.path.dirname(sys.executable)) or "git-lazy"
    root = Path(tempfile.mkdtemp(prefix="bench-prune-", dir=args.workdir))
    try:
        cache, repo = build(root, args.objects)
        times: dict[str, list[float]] = {"prune --dry-run": [], "prune": []}
        for _ in range(args.repeat):
            for label in times:
                work = root / "work-cache"
                shutil.rmtree(work, ignore_errors=True)
                shutil.copytree(cache, work)
                age(work)  # copying read them, which counts as a use
                env = dict(os.environ, GIT_LAZY_CACHE_DIR=str(work), HOME=str(root))
                start = time.perf_counter()
                proc = subprocess.run([lazy, *label.split()], cwd=repo, env=env, capture_output=True, text=True)
                times[label].append(time.perf_counter() - start)
                if proc.returncode != 0:
                    print(proc.stderr, file=sys.stderr)
                    return 1
                left = sum(1 for p in (work / "objects").rglob("*") if p.is_file())
                want = args.objects if "dry" in label else args.objects // 2
                if left != want:
                    print(f"{label}: {left} objects left, expected {want}", file=sys.stderr)
                    return 1
        print(f"cache of {args.objects} objects, HEAD references {args.objects // 2}; median of {args.repeat}")
        for label, values in times.items():
            print(f"  git lazy {label:<16} {statistics.median(values):6.2f} s")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
