#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted commands run inside the containers
# Smoke proof for the wgpf-test image and the container settings that the
# Molecule scenarios use (see README.md beside this file). Self-contained:
# creates 2 internal networks + 3 containers, checks systemd, nftables,
# sysctl, ip rule, WireGuard (wireguard-go via wg-quick@wg0) over a routed
# path, restart behaviour; removes everything again (also on failure).
#
#   smk-a (net A) ---- smk-b (net A + net B, routes) ---- smk-c (net B)
#   WireGuard wg0: smk-a 10.199.9.1 <-> smk-c 10.199.9.3, endpoints via smk-b
#
# All traffic stays on the two internal bridges (containers we create).
# Usage: smoke.sh   (root; run ensure-docker.sh + image/build.sh first,
#                    or set SMOKE_PREPARE=1 to have this script do it)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${IMAGE:-wgpf-test:debian12}"
P=wgpf-smk
NET_A=$P-a NET_B=$P-b             # network name == bridge name (<= 15 chars)
SUB_A=10.199.1.0/24 SUB_B=10.199.2.0/24
A_IP=10.199.1.10 B_IP_A=10.199.1.11 B_IP_B=10.199.2.11 C_IP=10.199.2.12
CONTAINERS=("$P-a" "$P-b" "$P-c")
PASSED=0 FAILED=0

log()  { printf '[smoke %s] %s\n' "$(date +%T)" "$*"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS: %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s\n' "$1"; [ -z "${2:-}" ] || printf '      %s\n' "$2"; }
# check "description" cmd...   (runs the command, output shown on failure)
check() {
    local d="$1" out; shift
    if out="$("$@" 2>&1)"; then pass "$d"; else fail "$d" "$(printf '%s' "$out" | tail -n 5 | tr '\n' '|')"; fi
}
dx() { local c="$1"; shift; docker exec "$c" sh -c "$*"; }

cleanup() {
    log "cleanup"
    docker rm -f "${CONTAINERS[@]}" >/dev/null 2>&1
    local n
    for n in "$NET_A" "$NET_B"; do
        docker network rm "$n" >/dev/null 2>&1
        while iptables -D DOCKER-USER -i "$n" -o "$n" -j ACCEPT 2>/dev/null; do :; done
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${SMOKE_PREPARE:-0}" = 1 ]; then
    "$HERE/ensure-docker.sh" || exit 1
    "$HERE/image/build.sh" || exit 1
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "FAIL: image $IMAGE missing (run image/build.sh)"; exit 1; }
cleanup   # leftovers of an interrupted run

T0=$SECONDS
for n in "$NET_A:$SUB_A" "$NET_B:$SUB_B"; do
    docker network create --driver bridge --internal --subnet "${n#*:}" \
        -o com.docker.network.bridge.name="${n%%:*}" "${n%%:*}" >/dev/null \
        || { fail "create network ${n%%:*}"; exit 1; }
done
pass "internal networks $NET_A/$NET_B created (bridges $(ip -br link show "$NET_A" | awk '{print $1}'), $(ip -br link show "$NET_B" | awk '{print $1}'))"

# The exact settings of the Molecule platforms (README.md).
run() { # name net ip
    docker run -d --name "$1" --hostname "$1" \
        --cap-add NET_ADMIN --cap-add SYS_ADMIN --device /dev/net/tun \
        --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
        --cgroupns private \
        --network "$2" --ip "$3" "$IMAGE" >/dev/null
}
check "start containers" sh -c "$(declare -f run); IMAGE=$IMAGE; run $P-a $NET_A $A_IP && run $P-b $NET_A $B_IP_A && run $P-c $NET_B $C_IP && docker network connect --ip $B_IP_B $NET_B $P-b"

wait_systemd() { # container -> prints state, 0 if running/degraded within 60 s
    local s
    for _ in $(seq 60); do
        s="$(docker exec "$1" systemctl is-system-running 2>/dev/null)"
        case "$s" in running|degraded) echo "$s"; return 0 ;; esac
        sleep 1
    done
    echo "state=$s"; docker exec "$1" systemctl --failed --no-pager 2>&1; return 1
}
for c in "${CONTAINERS[@]}"; do
    check "systemd up in $c: $(wait_systemd "$c" | head -n1) ($((SECONDS - T0))s since start)" wait_systemd "$c"
done
check "no failed units in $P-a" sh -c "[ -z \"\$(docker exec $P-a systemctl --failed --plain --no-legend)\" ]"
check "python3 present ($(docker exec $P-a python3 --version 2>&1))" docker exec $P-a python3 -c 'import json, sys'

check "sysctl -w net.ipv4.ip_forward=1 + conf.all.rp_filter=2" \
    dx $P-b 'sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=2'
check "per-interface /proc/sys/net/ipv4/conf/eth0/rp_filter write" \
    dx $P-b 'echo 0 > /proc/sys/net/ipv4/conf/eth0/rp_filter && [ "$(cat /proc/sys/net/ipv4/conf/eth0/rp_filter)" = 0 ]'
check "ip rule add fwmark + table route" dx $P-b \
    'ip rule add fwmark 0x51 table 151 priority 1510 && ip route add local 0.0.0.0/0 dev lo table 151 && ip rule show | grep -q "fwmark 0x51 lookup 151" && ip rule del priority 1510'
check "nftables in container (add table/chain/rule, list ruleset)" dx $P-b \
    'nft add table inet smk && nft add chain inet smk fwd_smk "{ type filter hook forward priority 0; policy accept; }" && nft add rule inet smk fwd_smk counter && nft list ruleset | grep -q "chain fwd_smk" && nft delete table inet smk'

# Routed path A <-> C through B; this only works with the DOCKER-USER rules
# (Docker's internal-network isolation drops off-subnet src/dst).
dx $P-a "ip route add $SUB_B via $B_IP_A"
dx $P-c "ip route add $SUB_A via $B_IP_B"
if dx $P-c "ping -c1 -W2 $A_IP" >/dev/null 2>&1; then
    printf 'INFO: routed ping worked even without DOCKER-USER rules\n'
else
    printf 'INFO: routed ping C->A without DOCKER-USER rules is dropped (expected)\n'
fi
for n in "$NET_A" "$NET_B"; do iptables -I DOCKER-USER -i "$n" -o "$n" -j ACCEPT; done
check "routed ping C -> B -> A (DOCKER-USER accept rules in place)" dx $P-c "ping -c2 -W2 $A_IP"

# WireGuard A <-> C, keys generated inside, wg-quick@wg0 enabled + started.
for c in $P-a $P-c; do
    dx "$c" 'umask 077; mkdir -p /etc/wireguard; wg genkey > /etc/wireguard/key; wg pubkey < /etc/wireguard/key > /etc/wireguard/pub'
done
PUB_A="$(docker exec $P-a cat /etc/wireguard/pub)" PUB_C="$(docker exec $P-c cat /etc/wireguard/pub)"
wgconf() { # addr peerpub endpoint peerip route-to-other-net
    printf '[Interface]\nAddress = %s/24\nListenPort = 51820\nPostUp = wg set %%i private-key /etc/wireguard/key\nPreUp = ip route replace %s\n\n[Peer]\nPublicKey = %s\nEndpoint = %s:51820\nAllowedIPs = %s/32\nPersistentKeepalive = 5\n' "$1" "$5" "$2" "$3" "$4"
}
wgconf 10.199.9.1 "$PUB_C" "$C_IP" 10.199.9.3 "$SUB_B via $B_IP_A" | docker exec -i $P-a sh -c 'cat > /etc/wireguard/wg0.conf'
wgconf 10.199.9.3 "$PUB_A" "$A_IP" 10.199.9.1 "$SUB_A via $B_IP_B" | docker exec -i $P-c sh -c 'cat > /etc/wireguard/wg0.conf'
for c in $P-a $P-c; do
    check "systemctl enable --now wg-quick@wg0 in $c" dx "$c" 'systemctl enable --now wg-quick@wg0 && systemctl is-active wg-quick@wg0'
done
check "wg0 is a userspace (wireguard-go/tun) device: $(docker exec $P-a sh -c 'ip -d link show wg0 | grep -oE "tun|wireguard" | head -n1; pgrep -a wireguard-go | head -n1' 2>&1 | tr '\n' ' ')" \
    dx $P-a 'pgrep -x wireguard-go >/dev/null'
check "ping A -> C through WireGuard (10.199.9.3)" dx $P-a 'ping -c3 -W2 10.199.9.3'
check "WireGuard handshake recorded" sh -c "docker exec $P-a wg show wg0 latest-handshakes | awk '{exit !(\$2 > 0)}'"

# Optional: Ansible over the community.docker.docker connection (skipped when
# ansible or the collection is not installed on this machine).
if command -v ansible >/dev/null 2>&1 && ansible-galaxy collection list community.docker 2>/dev/null | grep -q "^community.docker "; then
    check "ansible -c community.docker.docker -m ping against $P-a" \
        env ANSIBLE_HOST_KEY_CHECKING=False ansible -i "$P-a," -c community.docker.docker all -m ansible.builtin.ping
else
    printf 'SKIP: ansible ping (ansible or community.docker collection not installed)\n'
fi

MAC_BEFORE="$(docker exec $P-a cat /sys/class/net/eth0/address)"
IP_BEFORE="$(docker exec $P-a sh -c "ip -4 -br addr show eth0 | awk '{print \$3}'")"
log "docker restart $P-a"
check "docker restart $P-a" docker restart -t 20 $P-a
check "systemd back after restart: $(wait_systemd $P-a | head -n1)" wait_systemd $P-a
check "wg-quick@wg0 active again after restart" sh -c "for i in \$(seq 20); do docker exec $P-a systemctl is-active wg-quick@wg0 && exit 0; sleep 1; done; exit 1"
check "ping A -> C through WireGuard after restart" dx $P-a 'ping -c3 -W3 10.199.9.3'
check "/proc/sys writable again after restart" dx $P-a 'sysctl -w net.ipv4.conf.all.rp_filter=2'
MAC_AFTER="$(docker exec $P-a cat /sys/class/net/eth0/address)"
IP_AFTER="$(docker exec $P-a sh -c "ip -4 -br addr show eth0 | awk '{print \$3}'")"
printf 'INFO: eth0 of %s before/after restart: MAC %s -> %s, IP %s -> %s\n' $P-a "$MAC_BEFORE" "$MAC_AFTER" "$IP_BEFORE" "$IP_AFTER"
T1=$SECONDS
check "docker stop is fast (STOPSIGNAL SIGRTMIN+3 -> systemd shutdown)" sh -c "docker stop -t 30 $P-c >/dev/null && [ \$((SECONDS - $T1)) -lt 15 ]"
printf 'INFO: docker stop took %ss\n' "$((SECONDS - T1))"

echo "smoke: $PASSED passed, $FAILED failed ($((SECONDS - T0))s)"
[ "$FAILED" = 0 ]
