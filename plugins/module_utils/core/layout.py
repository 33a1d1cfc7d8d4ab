# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the collection's artefacts live on a host, defined once.

The renderer writes files at these paths, the helper units and the apply step
find, replace and remove them here, and the plan filter reports them (each
plan's ``layout`` key).
"""

from __future__ import annotations

HEADER = "# Managed by wgforward.portforward"
WG_DIR = "/etc/wireguard"
KEY_DIR = "/etc/wireguard/wgpf"
ETC_DIR = "/etc/wgpf"
NFT_PATH = "/etc/wgpf/wgpf.nft"
NFT_TABLE = "wgpf"  # the one table the collection owns, family inet
SYSCTL_PATH = "/etc/sysctl.d/90-wgpf.conf"
ROUTES_PATH = "/etc/wgpf/routes.sh"
# What routes.sh applied last (volatile, like the kernel state it lists).
RUN_DIR = "/run/wgpf"
ROUTES_STATE = "/run/wgpf/routes.applied"
SYNC_SCRIPT = "/usr/local/sbin/wgpf-wg-sync"
NFT_UNIT = "wgpf-nftables.service"
ROUTES_UNIT = "wgpf-routes.service"
FIREWALL_PATH = "/etc/wgpf/firewall.json"
FIREWALL_SCRIPT = "/usr/local/sbin/wgpf-firewall"
FIREWALL_UNIT = "wgpf-firewall.service"
# What the collection changed that was the host's own (apply/host_record.py): root only.
RECORD_DIR = "/var/lib/wgpf"
RECORD_PATH = "/var/lib/wgpf/record.json"
# What the kernel listed right after the last load of NFT_PATH (apply/live_nft.py): root only.
NFT_LISTING = "/var/lib/wgpf/nft.listing"
# The arguments of the last apply that succeeded, and their digest (apply/applied.py): root only.
APPLIED_PATH = "/var/lib/wgpf/applied.json"


def wg_config_path(ifname):
    return "%s/%s.conf" % (WG_DIR, ifname)


def key_path(ifname):
    return "%s/%s.key" % (KEY_DIR, ifname)


def as_dict():
    """The layout as plain data, for the roles."""
    return {"header": HEADER, "wg_dir": WG_DIR, "key_dir": KEY_DIR, "etc_dir": ETC_DIR, "nft_path": NFT_PATH,
            "nft_table": NFT_TABLE, "sysctl_path": SYSCTL_PATH, "routes_path": ROUTES_PATH, "run_dir": RUN_DIR,
            "sync_script": SYNC_SCRIPT, "nft_unit": NFT_UNIT, "routes_unit": ROUTES_UNIT,
            "firewall_path": FIREWALL_PATH, "firewall_script": FIREWALL_SCRIPT, "firewall_unit": FIREWALL_UNIT}
