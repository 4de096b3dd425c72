#!/usr/bin/env bash
# Install what the tests need and run them all. Extra arguments go to pytest.
# Installs into the active virtual environment, or else into .venv (made when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v git-lfs >/dev/null 2>&1 || missing+=(git-lfs)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v man >/dev/null 2>&1 || missing+=(man-db)  # `git lazy --help` shows the manual page
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "note: ${missing[*]} not installed; tests that need them are skipped (sudo apt-get install ${missing[*]})" >&2
    fi
fi

. scripts/venv.sh
use_venv "$PWD"
started=$SECONDS
# Without byte-compiling every installed module (moto alone brings some 1,500): Python
# caches each module the first time a process imports it, which needs bytecode writing
# on for the thousands of git-lazy processes the tests start.
unset PYTHONDONTWRITEBYTECODE
"$python" -m pip install -q --disable-pip-version-check --no-compile -e '.[test]'
echo "test.sh: installed in $((SECONDS - started)) s" >&2
# pytest's temp folders in memory where the machine has a tmpfs (they are removed at the
# end): the tests write and delete thousands of small repositories, caches and stores.
args=()
if [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=$(mktemp -d /dev/shm/git-lazy-tests.XXXXXX); then
    trap 'rm -rf "$tmp"' EXIT
    args+=(--basetemp "$tmp")
fi
# worksteal: a worker that runs out of tests takes some from the other, so the long
# ones do not end up queued behind each other on one worker.
"$python" -m pytest -n 2 --dist worksteal --durations=15 ${args[@]+"${args[@]}"} "$@"
