#!/bin/sh
# Managed by wgforward.portforward for host intermediate1: local changes are overwritten.
# Routes and rules of non-WireGuard interfaces, applied by wgpf-routes.service at boot
# and whenever systemd-networkd restarts. Safe to run again: nothing is added twice.
set -eu

up() {
	while ip -4 rule del from 172.31.19.3 ipproto 6 sport 8080 lookup 51900 priority 5100 2>/dev/null; do :; done; ip -4 rule add from 172.31.19.3 ipproto 6 sport 8080 lookup 51900 priority 5100
	while ip -4 rule del from 172.31.19.3 ipproto 17 sport 8080 lookup 51900 priority 5101 2>/dev/null; do :; done; ip -4 rule add from 172.31.19.3 ipproto 17 sport 8080 lookup 51900 priority 5101
	while ip -4 rule del from 172.31.19.3 ipproto 6 sport 8090 lookup 51900 priority 5102 2>/dev/null; do :; done; ip -4 rule add from 172.31.19.3 ipproto 6 sport 8090 lookup 51900 priority 5102
}

down() {
	while ip -4 rule del from 172.31.19.3 ipproto 6 sport 8080 lookup 51900 priority 5100 2>/dev/null; do :; done
	while ip -4 rule del from 172.31.19.3 ipproto 17 sport 8080 lookup 51900 priority 5101 2>/dev/null; do :; done
	while ip -4 rule del from 172.31.19.3 ipproto 6 sport 8090 lookup 51900 priority 5102 2>/dev/null; do :; done
}

case "${1:-up}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
