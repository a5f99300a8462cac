#!/usr/bin/env bash
# Builds the worker image on a Docker engine without a default bridge network (dockerd
# --bridge=none), as issue 32's newcomer's engine was, with the product's own build code
# (scripts/build-worker-image.mjs): its RUN npm ci reaches the registry only through the network of
# the engine's host, which a build now uses (networkmode host).
#
# The engine is a second one, of its own: its own data root, exec root, pid file, socket and
# config, and its own network namespace. The namespace matters: dockerd --bridge=none deletes the
# host's docker0 interface at start, which would break the default network of any engine already
# running here. In its namespace it deletes nothing of the machine's; slirp4netns (user-mode
# networking, as rootless Docker uses) gives that namespace the machine's outside network without
# touching its interfaces, routes or iptables. Everything is stopped by its pid and removed at the
# end. Needs root, dockerd, iproute2, slirp4netns, busybox-static (the stand-in base is made on that
# engine) and `npm run build`. .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="$(mktemp -d /tmp/eda-bridge-none.XXXXXX)"
NETNS="eda-bridge-none-$$"
SOCK="$BASE/docker.sock"
echo '{}' >"$BASE/daemon.json"
DOCKERD_PID=""
SLIRP_PID=""

stop_pid() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || return 0; sleep 1; done
  kill -9 "$1" 2>/dev/null || true
}

cleanup() {
  local status=$?
  stop_pid "$DOCKERD_PID"
  stop_pid "$SLIRP_PID"
  ip netns delete "$NETNS" 2>/dev/null || true
  [ "$status" -eq 0 ] || { echo "its dockerd's log:" >&2; tail -n 20 "$BASE/dockerd.log" >&2 || true; }
  # What the engine left mounted below its folders (its network namespace file, layers), deepest first.
  awk -v base="$BASE" 'index($2, base) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$BASE"
  exit "$status"
}
trap cleanup EXIT

ip netns add "$NETNS"
ip netns exec "$NETNS" ip link set lo up
slirp4netns --configure --mtu=65520 --disable-host-loopback --netns-type=path "/run/netns/$NETNS" tap0 >"$BASE/slirp.log" 2>&1 &
SLIRP_PID=$!
for _ in $(seq 20); do
  ip netns exec "$NETNS" ip -4 addr show tap0 2>/dev/null | grep -q inet && break
  sleep 0.5
done

# nsenter changes only the network namespace: the engine sees the machine's files and cgroups.
nsenter --net="/run/netns/$NETNS" dockerd \
  --config-file "$BASE/daemon.json" \
  --data-root "$BASE/data" \
  --exec-root "$BASE/exec" \
  --pidfile "$BASE/dockerd.pid" \
  -H "unix://$SOCK" \
  --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
  --cgroup-parent eda-bridge-none \
  >"$BASE/dockerd.log" 2>&1 &
DOCKERD_PID=$!

export DOCKER_HOST="unix://$SOCK"
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { echo "the second dockerd did not start" >&2; exit 1; }
  sleep 1
done
docker info >/dev/null
echo "dockerd $(docker info --format '{{.ServerVersion}}') at $SOCK, its networks: $(docker network ls --format '{{.Name}}' | sort | tr '\n' ' ')"
# No network named bridge: a build on the engine's default network would have no network at all.
if docker network inspect bridge >/dev/null 2>&1; then
  echo "this engine has a bridge network: --bridge=none did not take" >&2
  exit 1
fi
node scripts/build-worker-image.mjs
