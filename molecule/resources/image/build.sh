#!/usr/bin/env bash
# Build the local Molecule test image (no registry needed): debootstrap a
# minimal Debian root, add the init wrapper, `docker import` it.
#
# Usage: build.sh [SUITE...]      SUITE = bookworm (default) | trixie
#   tags: bookworm -> wgpf-test:debian12, trixie -> wgpf-test:debian13
# Env:   FORCE=1        rebuild even if the tag exists
#        MIRROR=URL     Debian mirror (default: the one apt uses on this host)
#        CACHE_DIR=DIR  .deb cache (default /var/cache/wgpf-image)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${CACHE_DIR:-/var/cache/wgpf-image}"
PACKAGES="systemd,systemd-sysv,dbus,wireguard-tools,wireguard-go,nftables,iproute2,python3,procps,iputils-ping,iperf3,iptables,conntrack,ufw"
# The network stacks of Ubuntu (netplan, networkd-dispatcher) and of the RHEL family
# (NetworkManager, firewalld), and an SSH server: installed by apt in the new root
# after debootstrap (polkitd, which firewalld needs, fails in debootstrap's own
# configure step), never started unless a scenario's prepare enables them.
STACK_PACKAGES="openssh-server netplan.io networkd-dispatcher network-manager firewalld"
# The image is labelled with what went into it (content only, not paths: every clone
# shares the tag): a changed list (or this script)
# rebuilds an existing tag instead of reusing a stale one.
RECIPE="$(cat "$HERE/build.sh" "$HERE/wgpf-init" | sha256sum | cut -c1-16)"

log() { printf '[build %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
command -v docker >/dev/null || die "docker missing: run molecule/resources/ensure-docker.sh first"
docker info >/dev/null 2>&1 || die "docker engine not reachable: run molecule/resources/ensure-docker.sh first"
if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >/dev/null
fi

# Mirror: reuse whatever apt on this host uses (deb822 `URIs:` or one-line
# `deb URL suite`), first entry that is a Debian archive (not -security).
detect_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk '
          /^[[:space:]]*#/ {next}
          /^URIs:/ { for (i=2;i<=NF;i++) if ($i ~ /\/debian\/?$/) {print $i; exit} }
          /^deb[[:space:]]/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($i ~ /\/debian\/?$/) {print $i; exit} else break } }
        ' "$f"
    done | head -n1
}
MIRROR="${MIRROR:-$(detect_mirror)}"
[ -n "$MIRROR" ] || die "no Debian mirror found in /etc/apt/sources.list*; set MIRROR="

# apt in the new root, services kept from starting (policy-rc.d), the .debs cached.
install_stacks() {
    local root="$1" cache="$2" rc=0
    mkdir -p "$cache"
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    mount -t proc proc "$root/proc"
    mount --bind "$cache" "$root/var/cache/apt/archives"
    # $STACK_PACKAGES is a list of package names: split into words on purpose.
    # shellcheck disable=SC2086
    chroot "$root" apt-get update -qq \
        && chroot "$root" apt-get install -y -qq --no-install-recommends $STACK_PACKAGES </dev/null || rc=$?
    umount "$root/var/cache/apt/archives" "$root/proc"
    rm -f "$root/usr/sbin/policy-rc.d"
    return $rc
}

build_one() {
    local suite="$1" tag
    case "$suite" in
        bookworm|12|debian12) suite=bookworm; tag=wgpf-test:debian12 ;;
        trixie|13|debian13)   suite=trixie;   tag=wgpf-test:debian13 ;;
        *) die "unknown suite $suite" ;;
    esac
    if [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect -f '{{index .Config.Labels "wgpf.recipe"}}' "$tag" 2>/dev/null)" = "$RECIPE" ]; then
        log "$tag exists, skipping (FORCE=1 to rebuild)"
        return 0
    fi
    local t0=$SECONDS root
    WORK="$(mktemp -d /var/tmp/wgpf-image.XXXXXX)"
    local work="$WORK"
    root="$work/rootfs"
    mkdir -p "$CACHE_DIR/$suite"
    log "debootstrap $suite from $MIRROR (cache $CACHE_DIR/$suite)"
    debootstrap --variant=minbase --include="$PACKAGES" \
        --cache-dir="$CACHE_DIR/$suite" \
        --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
        "$suite" "$root" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
        || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    log "debootstrap done after $((SECONDS - t0))s; configuring"

    install -m 0755 "$HERE/wgpf-init" "$root/usr/local/sbin/wgpf-init"
    # machine-id: empty here, wgpf-init writes a random one at first start so
    # every container gets its own and no "first boot" logic runs.
    : > "$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    ln -sf /etc/machine-id "$root/var/lib/dbus/machine-id"
    echo wgpf-test > "$root/etc/hostname"
    printf 'deb %s %s main\n' "$MIRROR" "$suite" > "$root/etc/apt/sources.list"
    install_stacks "$root" "$CACHE_DIR/$suite/apt" >"$work/apt.log" 2>&1 \
        || { tail -n 30 "$work/apt.log" >&2; die "installing $STACK_PACKAGES failed"; }
    # Units that cannot work (or only slow the boot) in an unprivileged container.
    local u
    for u in \
        systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
        systemd-udev-trigger.service systemd-udev-settle.service \
        getty@.service serial-getty@.service console-getty.service getty.target \
        systemd-networkd-wait-online.service systemd-timesyncd.service \
        systemd-firstboot.service systemd-remount-fs.service systemd-modules-load.service \
        sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
        sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
        systemd-journald-audit.socket systemd-pstore.service systemd-hwdb-update.service \
        systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
        e2scrub_all.timer e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer \
        fstrim.timer systemd-tmpfiles-clean.timer \
        cryptsetup.target veritysetup.target remote-fs.target ; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
    done
    # Installed for the scenarios that prove these stacks, off by default: a scenario's
    # prepare enables what it proves (a test host must not start NetworkManager or
    # firewalld by surprise, and the inventory's connection is docker exec, not SSH).
    chroot "$root" systemctl disable NetworkManager.service NetworkManager-wait-online.service \
        NetworkManager-dispatcher.service firewalld.service networkd-dispatcher.service \
        ssh.service ssh.socket wpa_supplicant.service >/dev/null 2>&1 || true
    # Slim down (docs, man pages, locales, apt lists/caches).
    rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
           "$root"/usr/share/locale/* "$root"/var/lib/apt/lists/* \
           "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
           "$root"/var/log/*.log "$root"/var/log/apt/*
    log "importing as $tag"
    tar -C "$root" --numeric-owner -c . | docker import \
        --change 'CMD ["/usr/local/sbin/wgpf-init"]' \
        --change 'ENV container=docker' \
        --change "LABEL wgpf.recipe=$RECIPE" \
        --message "wgforward.portforward test image ($suite, debootstrap minbase)" \
        - "$tag-import" >/dev/null
    # `docker import` cannot set STOPSIGNAL; systemd (PID 1) shuts down on
    # SIGRTMIN+3 (SIGTERM would only make it re-exec, and `docker stop` would
    # wait 10 s for SIGKILL). A local one-line build adds it, no registry.
    if printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$tag-import" \
        | DOCKER_BUILDKIT=0 docker build -q -t "$tag" - >"$work/build.log" 2>&1; then
        docker rmi "$tag-import" >/dev/null
    else
        log "warning: could not add STOPSIGNAL ($(tail -n1 "$work/build.log")); set stop_signal in the platform"
        docker tag "$tag-import" "$tag" && docker rmi "$tag-import" >/dev/null
    fi
    rm -rf "$work"; WORK=""
    log "built $tag in $((SECONDS - t0))s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

WORK=""
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT
[ $# -gt 0 ] || set -- bookworm
for s in "$@"; do build_one "$s"; done
