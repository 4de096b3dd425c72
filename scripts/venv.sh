# Sourced by test.sh and demo.sh: the Python environment git-lazy is installed into.
#
# use_venv ROOT sets $python and puts its bin folder first on PATH, so that
# `git lazy`, which git runs as `git-lazy` from PATH, is that environment's command.
# An active virtual environment (VIRTUAL_ENV) is used as it is. Otherwise ROOT/.venv
# is used, and made when missing: Debian's and Ubuntu's python3 refuse
# `pip install` outside a virtual environment ("externally-managed-environment").
use_venv() {
    local venv out
    if [ -n "${VIRTUAL_ENV:-}" ]; then
        venv=$VIRTUAL_ENV
        if [ ! -x "$venv/bin/python" ]; then
            echo "error: VIRTUAL_ENV is $venv, which has no bin/python; activate a working virtual environment or unset VIRTUAL_ENV" >&2
            exit 1
        fi
    else
        venv="$1/.venv"
        # Missing, or left without pip by a python3 that lacked ensurepip: (re)make it.
        if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
            if ! command -v python3 >/dev/null 2>&1; then
                echo "error: python3 was not found; install Python 3.9 or newer (Debian: apt-get install python3 python3-venv)" >&2
                exit 1
            fi
            echo "Creating a virtual environment in $venv" >&2
            if ! out=$(python3 -m venv "$venv" 2>&1); then
                case $out in
                *ensurepip* | *"No module named venv"*)
                    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                        apt-get update -qq
                        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
                        python3 -m venv "$venv"
                    else
                        echo "error: python3 cannot create a virtual environment (no venv/ensurepip module): install python3-venv (sudo apt-get install python3-venv), or activate a virtual environment, then run this again" >&2
                        exit 1
                    fi
                    ;;
                *)
                    printf '%s\n' "$out" >&2
                    echo "error: could not create a virtual environment in $venv" >&2
                    exit 1
                    ;;
                esac
            fi
        fi
    fi
    python="$venv/bin/python"
    PATH="$venv/bin:$PATH"
    export PATH
}
