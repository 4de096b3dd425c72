#!/usr/bin/env bash
# Install git-lazy and run its main job end to end, on this machine only: a repository
# tracks large files and `git push`es (its hook uploads the data to a local folder
# store); a clone with an empty cache fetches only the folder it includes, one more file
# by hand, and a branch's data when it checks the branch out.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/scripts/venv.sh"
use_venv "$here"  # the active virtual environment, else $here/.venv
"$python" -m pip install -q --disable-pip-version-check "$here"

demo="$(mktemp -d "${TMPDIR:-/tmp}/git-lazy-demo.XXXXXX")"
export HOME="$demo/home" GIT_CONFIG_GLOBAL="$demo/home/.gitconfig" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name "Demo" && git config --global user.email "demo@example.com"
git config --global init.defaultBranch main
step() {  # show the command as one would type it (globs quoted), then run it
    local shown="" arg
    for arg in "$@"; do
        case $arg in *[\ \*\?]*) shown+=" \"$arg\"" ;; *) shown+=" $arg" ;; esac
    done
    printf '\n\033[1m$%s\033[0m\n' "$shown"
    "$@"
}

cd "$demo"
step git lazy install
git init -q --bare origin.git   # the team's git server
git init -q project && cd project
step git lazy track "*.csv" "models/**"
mkdir -p data models
python3 - <<'PY'
import os
with open("data/train.csv", "w") as f:
    for i in range(200_000):
        f.write(f"{i},{i * 7 % 1000},{i % 3}\n")
open("data/test.csv", "w").write("id,x,y\n1,2,3\n")
with open("models/weights.bin", "wb") as f:
    f.write(os.urandom(8 * 1024 * 1024))
PY
step git add -A
step git commit -q -m "Data and model"
step git show HEAD:models/weights.bin
step git lazy remote add lake "$demo/store"
step git add .lazyconfig
step git commit -q -m "Store for the data"
step git remote add origin "$demo/origin.git"
step git push -u origin main          # the pre-push hook uploads the data first
step find "$demo/store" -type f
step git switch -q -c more-data
mkdir -p data/extra && seq 1 1000 > data/extra/valid.csv
step git add data/extra/valid.csv
step git commit -q -m "Validation data"
step git push -u origin more-data

cd "$demo"
export GIT_LAZY_CACHE_DIR="$demo/empty-cache"   # as on a collaborator's machine
step git lazy clone "$demo/origin.git" clone --include "data/**"
cd clone
step git lazy status
step git lazy fetch models/weights.bin
step git lazy ls-files
step git checkout -q more-data           # the post-checkout hook brings the branch's data
step git lazy ls-files
step git status --short

cd "$demo"
export GIT_LAZY_CACHE_DIR="$demo/another-cache"  # a third machine, empty cache again
step git clone -q "$demo/origin.git" everything   # a plain clone: the filter and hooks bring it all
step git -C everything lazy ls-files
printf '\nDemo folder: %s\n' "$demo"
