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
"$python" -m pip install -q --disable-pip-version-check -e '.[test]'
# The editable install leaves the package uncompiled; where PYTHONDONTWRITEBYTECODE is
# set, every git-lazy process git starts in the tests would compile it again.
"$python" -m compileall -q git_lazydata
# worksteal: a worker that runs out of tests takes some from the other, so the long
# ones do not end up queued behind each other on one worker.
exec "$python" -m pytest -n 2 --dist worksteal "$@"
