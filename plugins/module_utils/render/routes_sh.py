# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixed parts of /etc/wgpf/routes.sh; render.py puts the host's ``wanted()`` between them.

Every route and ``ip rule`` that follows peers and forwards lives in this
script, those of the WireGuard interfaces included, so that a peer or forward
change is applied without touching any ``[Interface]`` section. ``up`` adds
what is missing before it removes what an earlier ``up`` added and the plan no
longer holds: nothing is flushed, and no rule a connection needs is ever
missing while the change is applied. What an ``up`` applied is listed in
``<run dir>/routes.applied``: in /run, so it is gone when a reboot has emptied
the kernel's tables too.
"""

from __future__ import annotations

ROUTES_PREAMBLE = r"""# The routes and ip rules that follow peers and forwards (those of the WireGuard
# interfaces too), applied by wgpf-routes.service at boot, after systemd-networkd
# (re)starts and on every change, and by each WireGuard interface's PostUp.
# up: adds what is missing, then removes what an earlier up added and this plan no
# longer holds (listed in %(run)s/routes.applied); nothing is flushed.
# down: removes what this plan and the last up hold. Running either twice changes nothing.
# up goes on past a route or rule that fails, then exits 1 naming how many failed.
set -eu
RUN=${WGPF_RUN_DIR:-%(run)s}
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

"""

ROUTES_MAIN = r"""up() {
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
"""
