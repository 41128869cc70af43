#!/usr/bin/env bash
# Install axe-core (the accessibility checker the web view's browser tests inject) into
# tests/peers/axe/node_modules, exactly as package-lock.json pins. CI calls this.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
