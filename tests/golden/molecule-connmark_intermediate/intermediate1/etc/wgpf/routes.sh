#!/bin/sh
# Managed by wgforward.portforward for host intermediate1: local changes are overwritten.
# The routes and ip rules that follow peers and forwards (those of the WireGuard
# interfaces too), applied by wgpf-routes.service at boot, after systemd-networkd
# (re)starts and on every change, and by each WireGuard interface's PostUp.
# up: adds what is missing, then removes what an earlier up added and this plan no
# longer holds (listed in /run/wgpf/routes.applied); nothing is flushed.
# down: removes what this plan and the last up hold. Running either twice changes nothing.
# up goes on past a route or rule that fails, then exits 1 naming how many failed.
set -eu
RUN=${WGPF_RUN_DIR:-/run/wgpf}
MODE=up
# How many routes and rules of the plan `up` could not add (each is said on stderr).
FAILED=0

# ip -4|-6 rule add ...; the very same rule being there already is no error.
rule() {
    fam=$1
    shift
    echo "rule $fam $*" >>"$RUN/routes.want"
    if [ "$MODE" = up ]; then
        out=$(ip "$fam" rule add "$@" 2>&1) || case $out in
            *"File exists"*) ;;
            *) echo "routes.sh: ip $fam rule add $*: $out" >&2; FAILED=$((FAILED + 1)) ;;
        esac
    fi
}

# ip -4|-6 route replace ...: added, or changed in place. One that fails (its link is not
# up yet, its gateway not reachable yet) is said and counted, and the others go on: the
# link's manager hook or the interface's PostUp runs `up` again when it comes up.
route() {
    fam=$1
    shift
    echo "route $fam $*" >>"$RUN/routes.want"
    if [ "$MODE" = up ]; then
        out=$(ip "$fam" route replace "$@" 2>&1) \
            || { echo "routes.sh: ip $fam route replace $*: $out" >&2; FAILED=$((FAILED + 1)); }
    fi
}

# A sysctl of interface $1, when it exists: its PostUp runs this script when it comes up.
if_sysctl() {
    if [ "$MODE" = up ] && [ -d "/proc/sys/net/ipv4/conf/$1" ]; then
        sysctl -q -w "$2=$3"
    fi
}

# Lines "rule|route -4|-6 ARGS" on stdin: each deleted where it still is.
remove() {
    while read -r kind fam args; do
        [ -n "$kind" ] || continue
        if [ "$kind" = rule ]; then
            # shellcheck disable=SC2086
            while ip "$fam" rule del $args 2>/dev/null; do :; done
        else
            # shellcheck disable=SC2086
            ip "$fam" route del $args 2>/dev/null || true
        fi
    done
}

wanted() {
    rule -4 fwmark 0x1000000/0xf000000 lookup 51900 priority 5100
    if_sysctl wg0 net.ipv4.conf.wg0.rp_filter 2
}

up() {
    MODE=up
    : >"$RUN/routes.want"
    wanted
    if [ -f "$RUN/routes.applied" ]; then
        grep -vxF -f "$RUN/routes.want" "$RUN/routes.applied" | remove
    fi
    mv "$RUN/routes.want" "$RUN/routes.applied"
    if [ "$FAILED" -gt 0 ]; then
        echo "routes.sh: $FAILED route(s) or rule(s) of the plan could not be added; the others are in place" >&2
        exit 1
    fi
}

down() {
    MODE=down
    : >"$RUN/routes.want"
    wanted
    cat "$RUN/routes.want" "$RUN/routes.applied" 2>/dev/null | sort -u | remove
    rm -f "$RUN/routes.want" "$RUN/routes.applied"
}

action=${1:-up}
case $action in
up | down) ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
mkdir -p "$RUN"
# One run at a time: the unit and an interface's PostUp may start together.
exec 9>"$RUN/routes.lock"
flock 9
"$action"
