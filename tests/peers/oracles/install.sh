#!/usr/bin/env bash
# Install the npm packages the length oracles need (twitter-text, twemoji-parser,
# @atproto/lex-data) into tests/peers/oracles/node_modules, exactly as package-lock.json pins.
# CI calls this; tests/campaigns/test_length_oracles.py also runs it when node_modules is
# missing. Needs node and npm (Node 20 works; @atproto/lex-data declares >=22 but only
# uses Intl.Segmenter and Buffer, so the engine warning is harmless).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
