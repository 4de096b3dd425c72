#!/usr/bin/env bash
# An example of the set-up script a team commits next to its data: one command
# gives a newcomer a clone with git-lazy set up and only the data of their role.
#
#   bash setup-repo.sh URL [DIR] [ROLE]        ROLE: analyst (default), trainer, everything
#
# `git lazy clone` clones without data, sets git-lazy up in the clone (filter, hooks,
# and push permission for the stores the repository names in .lazyconfig), keeps
# the role's patterns as lazy.fetchinclude, so later checkouts and pulls fetch the
# same selection, and downloads the included files in parallel.
# Edit the patterns below to match your repository's layout.
set -euo pipefail

url=${1:?usage: setup-repo.sh URL [DIR] [ROLE]}
dir=${2:-}
role=${3:-analyst}

command -v git-lazy >/dev/null 2>&1 || {
    echo "git-lazy is not on PATH; install it first (see the README: pipx install ...)" >&2
    exit 1
}

case $role in
    analyst)    include=(--include 'data/processed/**' --include 'reports/**') ;;
    trainer)    include=(--include 'data/processed/**' --include 'models/**') ;;
    everything) include=() ;;
    *) echo "unknown role '$role' (analyst, trainer or everything)" >&2; exit 2 ;;
esac

git lazy install   # the filter for every repository of this user; repeating it is harmless
git lazy clone "$url" ${dir:+"$dir"} ${include[@]+"${include[@]}"}
