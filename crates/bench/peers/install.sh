#!/usr/bin/env bash
# Installs the peer servers the benchmark compares ChitChat with, outside the
# workspace: Synapse (Matrix) from PyPI in a virtualenv under
# ~/.cache/chitchat-bench/synapse, and ejabberd (XMPP) from Debian's package. Run
# as root (apt-get); running it again changes nothing that is already there.
set -euo pipefail

cache="${CHITCHAT_BENCH_CACHE:-$HOME/.cache/chitchat-bench}"
mkdir -p "$cache"

if [ ! -x "$cache/synapse/bin/synctl" ]; then
    python3 -m venv "$cache/synapse"
    "$cache/synapse/bin/pip" install --quiet --upgrade pip
    "$cache/synapse/bin/pip" install --quiet matrix-synapse
fi
"$cache/synapse/bin/python" -c 'import synapse; print("synapse", synapse.__version__)'

# erlang-p1-sqlite3 is the SQLite driver of ejabberd's SQL backend, which the
# configuration with mod_mam archives every message into.
if ! command -v ejabberdctl >/dev/null 2>&1 || ! dpkg-query -W erlang-p1-sqlite3 >/dev/null 2>&1; then
    apt-get update -qq
    # The package's own service is not used: the benchmark starts ejabberd itself,
    # with a configuration of its own.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ejabberd erlang-p1-sqlite3
    if command -v service >/dev/null 2>&1; then service ejabberd stop >/dev/null 2>&1 || true; fi
fi
dpkg-query -W -f='${Package} ${Version}\n' ejabberd erlang-p1-sqlite3
