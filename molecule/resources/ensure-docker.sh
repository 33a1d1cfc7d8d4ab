#!/usr/bin/env bash
# Make sure a Docker engine is usable on this (Debian 12, root) machine.
# Idempotent: installs docker.io + iptables when dockerd is missing, starts
# dockerd in the background when `docker info` fails, waits for it.
#
# dockerd flags: none needed. Checked on the project machine (kernel 6.18,
# Firecracker VM without systemd, cgroup v1 hybrid): Debian's docker.io
# 20.10 picks overlay2 on ext4 and the iptables-nft backend (Debian 12's
# default alternative) by itself, and starts its own containerd. Note that
# /usr/local/bin/docker may be a newer client (28.x): it negotiates the API
# version down to the 20.10 daemon, so it is fine; we only require `dockerd`.
#
# Env: DOCKERD_LOG (default /var/log/dockerd.log), DOCKER_WAIT (seconds, 60)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKER_WAIT="${DOCKER_WAIT:-60}"
log() { printf '[ensure-docker] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

if docker info >/dev/null 2>&1; then
    log "docker engine already running"
    exit 0
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker  >/dev/null 2>&1 || missing+=(docker.io)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
    # Wait for a concurrent apt/dpkg (up to 10 min) instead of failing on the lock.
    apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
    log "installing: ${missing[*]}"
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        log "starting docker via systemd"
        systemctl start docker || true
    fi
fi

if ! docker info >/dev/null 2>&1 && ! pgrep -x dockerd >/dev/null 2>&1; then
    # No systemd here (or it failed): run dockerd ourselves, detached.
    rm -f /var/run/docker.pid
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 < /dev/null &
fi

for _ in $(seq "$DOCKER_WAIT"); do
    if docker info >/dev/null 2>&1; then
        log "docker engine ready ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
        exit 0
    fi
    sleep 1
done
tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
die "docker engine not ready after ${DOCKER_WAIT}s (see $DOCKERD_LOG)"
