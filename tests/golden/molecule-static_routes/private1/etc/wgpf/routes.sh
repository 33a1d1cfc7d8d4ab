#!/bin/sh
# Managed by wgforward.portforward for host private1: local changes are overwritten.
# Routes and rules of non-WireGuard interfaces, applied by wgpf-routes.service at boot
# and whenever systemd-networkd restarts. Safe to run again: nothing is added twice.
set -eu

up() {
	ip -4 route replace 198.51.100.34/32 via 172.31.12.2 dev eth0
	ip -4 route replace 192.0.2.144/30 via 172.31.12.2 dev eth0
}

down() {
	ip -4 route del 198.51.100.34/32 via 172.31.12.2 dev eth0 2>/dev/null || true
	ip -4 route del 192.0.2.144/30 via 172.31.12.2 dev eth0 2>/dev/null || true
}

case "${1:-up}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
