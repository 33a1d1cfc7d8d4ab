#!/bin/sh
# Managed by wgforward.portforward for host private1: local changes are overwritten.
# Routes and rules of non-WireGuard interfaces, applied by wgpf-routes.service at boot
# and whenever systemd-networkd restarts. Safe to run again: nothing is added twice.
set -eu

up() {
	ip -4 route replace default via 172.31.19.2 dev eth0 table 51900
	while ip -4 rule del ipproto 6 sport 8080 lookup 51900 priority 5100 2>/dev/null; do :; done; ip -4 rule add ipproto 6 sport 8080 lookup 51900 priority 5100
	while ip -4 rule del ipproto 17 sport 8080 lookup 51900 priority 5101 2>/dev/null; do :; done; ip -4 rule add ipproto 17 sport 8080 lookup 51900 priority 5101
	while ip -4 rule del ipproto 6 sport 8090 lookup 51900 priority 5102 2>/dev/null; do :; done; ip -4 rule add ipproto 6 sport 8090 lookup 51900 priority 5102
}

down() {
	while ip -4 rule del ipproto 6 sport 8080 lookup 51900 priority 5100 2>/dev/null; do :; done
	while ip -4 rule del ipproto 17 sport 8080 lookup 51900 priority 5101 2>/dev/null; do :; done
	while ip -4 rule del ipproto 6 sport 8090 lookup 51900 priority 5102 2>/dev/null; do :; done
	ip -4 route del default via 172.31.19.2 dev eth0 table 51900 2>/dev/null || true
}

case "${1:-up}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
