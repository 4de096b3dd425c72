#!/usr/bin/env python3
"""Read a CSV file of a git-lazy repository at any revision, with the standard library alone.

    python3 scripts/read_example.py data/train.csv            # the work tree
    python3 scripts/read_example.py data/train.csv --rev v1.0 # a branch, tag or commit

Prints the header and the number of rows. The file is read through
``git_lazydata.open``: from the work tree or the cache when its content is here, else
straight from the store, without fetching it first.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys

import git_lazydata as lazy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a CSV file of the repository, relative to the current folder")
    parser.add_argument("--rev", default=None, help="a branch, tag or commit (default: the work tree)")
    args = parser.parse_args()
    try:
        with lazy.open(args.path, rev=args.rev) as raw:
            rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            header = next(rows, [])
            count = sum(1 for _ in rows)
    except lazy.LazyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"columns: {', '.join(header)}")
    print(f"rows: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
