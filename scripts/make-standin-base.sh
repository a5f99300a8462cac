#!/usr/bin/env bash
# Makes the stand-in base image for `npm run check:images` from files on this machine, for
# engines that cannot pull node:22-bookworm-slim or node:22-alpine. It is a glibc stand-in
# for those bases so that the real Dockerfiles build with no registry, NOT a replacement:
# the Dockerfiles keep the real bases as their defaults, and only the check passes this tag
# (as the BUILD_IMAGE and RUNTIME_IMAGE build args). It is never tagged node:*.
#
# Contents: Node 22 (scripts/install-node22.sh) with the glibc libraries it links, npm
# (pinned below), busybox-static for /bin/sh, /usr/bin/env and the usual tools, a `node`
# user (uid 1000, as in the official images), and this machine's CA bundle, which
# NODE_EXTRA_CA_CERTS names so that npm inside a build reaches the registry through
# whatever TLS this machine trusts.
#
# The tag is a hash of every input (and of this script), so an existing image is reused
# and a changed input makes a new one; older stand-ins are removed. Prints the tag.
#   bash scripts/make-standin-base.sh
set -euo pipefail

# npm 10.9 is the line Node 22 ships with, so `npm ci` in the build stage behaves as in
# node:22-bookworm-slim; the machine's own npm (11 here) would make the base depend on the machine.
NPM_VERSION="10.9.9"
CA_BUNDLE="${STANDIN_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BUSYBOX="${STANDIN_BUSYBOX:-/bin/busybox}"
REPOSITORY="event-driven-aci/standin-base"
DOCKER="${DOCKER:-docker}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
fail() { echo "make-standin-base: $*" >&2; exit 1; }

"$DOCKER" info >/dev/null 2>&1 || fail "no Docker engine answers ('$DOCKER info' failed): start dockerd first"
[ -x "$BUSYBOX" ] || fail "$BUSYBOX is missing: apt-get install busybox-static"
# A dynamically linked busybox (Debian's 'busybox' package) would need libraries the base lacks.
ldd "$BUSYBOX" >/dev/null 2>&1 && fail "$BUSYBOX is dynamically linked: apt-get install busybox-static"
[ -r "$CA_BUNDLE" ] || fail "no CA bundle at $CA_BUNDLE (apt-get install ca-certificates)"

NODE_BIN="$(bash "$ROOT/scripts/install-node22.sh")"
NPM_PREFIX="$ROOT/.tools/npm-$NPM_VERSION"
NPM_DIR="$NPM_PREFIX/node_modules/npm"
if [ ! -f "$NPM_DIR/package.json" ]; then
  npm install --prefix "$NPM_PREFIX" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
    --loglevel=error "npm@$NPM_VERSION" >&2
fi

# Every shared object the node binary loads, the dynamic loader included (absolute paths).
mapfile -t LIBS < <(ldd "$NODE_BIN" | grep -oE '/[^ ]+' | sort -u)
[ "${#LIBS[@]}" -gt 0 ] || fail "ldd found no libraries for $NODE_BIN"

INPUTS_HASH="$(
  {
    sha256sum "$0" "$NODE_BIN" "$BUSYBOX" "$CA_BUNDLE" | cut -d' ' -f1
    for lib in "${LIBS[@]}"; do echo "$lib $(sha256sum "$(readlink -f "$lib")" | cut -d' ' -f1)"; done
    echo "npm $NPM_VERSION"
  } | sha256sum | cut -c1-16
)"
TAG="$REPOSITORY:$INPUTS_HASH"

if ! "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  FS="$WORK/rootfs"
  mkdir -p "$FS"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/lib,etc/ssl/certs,root,tmp,home/node,proc,sys,dev}
  chmod 1777 "$FS/tmp"
  chmod 700 "$FS/root"

  cp "$BUSYBOX" "$FS/bin/busybox"
  while read -r applet; do
    [ -e "$FS/$applet" ] || ln -s /bin/busybox "$FS/$applet"
  done < <("$BUSYBOX" --list-full)

  cp "$NODE_BIN" "$FS/usr/local/bin/node"
  for lib in "${LIBS[@]}"; do
    mkdir -p "$FS$(dirname "$lib")"
    cp -L "$lib" "$FS$lib"
  done
  # The layout of the official images: npm in /usr/local/lib/node_modules, linked from bin.
  mkdir -p "$FS/usr/local/lib/node_modules"
  cp -R "$NPM_DIR" "$FS/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$FS/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$FS/usr/local/bin/npx"

  cp "$CA_BUNDLE" "$FS/etc/ssl/certs/ca-certificates.crt"
  cat > "$FS/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat > "$FS/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF

  # Owned by root except /home/node (uid 1000), whoever runs this script.
  tar -C "$FS" --numeric-owner --owner=0 --group=0 --exclude=./home/node -cf "$WORK/rootfs.tar" .
  tar -C "$FS" --numeric-owner --owner=1000 --group=1000 -rf "$WORK/rootfs.tar" ./home/node
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'LABEL org.opencontainers.image.description="event-driven-aci: glibc stand-in for the node:22 bases, for checks only; never deploy"' \
    --change 'CMD ["node"]' \
    "$WORK/rootfs.tar" "$TAG" >/dev/null
  echo "made the stand-in base $TAG" >&2

  # Stand-ins made from older inputs are no longer used by anything.
  for old in $("$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' "$REPOSITORY"); do
    [ "$old" = "$TAG" ] && continue
    "$DOCKER" image rm "$old" >/dev/null && echo "removed the older stand-in $old" >&2
  done
fi

echo "$TAG"
