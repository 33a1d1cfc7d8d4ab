# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The packages the collection needs on a host, and how host_state asks which are installed there.

host_state runs the query on the host; the roles then install what the host's
role needs of what is missing (plugin_utils/packages.py).
"""

from __future__ import annotations

# By ansible_facts.os_family: what the collection needs on a host.
PACKAGES = {
    "Debian": ["wireguard-tools", "nftables", "iproute2"],
    "RedHat": ["wireguard-tools", "nftables", "iproute"],
}
# What one role needs on top: the public server deletes stale conntrack entries of new UDP forwards.
ROLE_PACKAGES = {
    "public": {"Debian": ["conntrack"], "RedHat": ["conntrack-tools"]},
}
# How to ask which are installed without python3-apt or a package cache; prints "<name> installed".
PACKAGE_QUERY = {
    "Debian": ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n"],
    "RedHat": ["rpm", "--query", "--queryformat=%{NAME} installed\\n"],
}


def needed_packages(os_family, role=None):
    """The packages a host of ``role`` needs; every role's when ``role`` is None (what host_state asks about)."""
    roles = ROLE_PACKAGES if role is None else (role,)
    extra = [name for r in roles for name in ROLE_PACKAGES.get(r, {}).get(os_family, [])]
    return PACKAGES[os_family] + extra


def package_query(os_family):
    """argv that lists which of the needed packages are installed; ValueError for a family not supported."""
    if os_family not in PACKAGES:
        raise ValueError("installing packages on the %s family is not supported: install wireguard-tools, nftables "
                         "and iproute2 yourself and set wireguard_<role>_install_packages to false" % os_family)
    return PACKAGE_QUERY[os_family] + needed_packages(os_family)


def not_installed(query_lines, os_family):
    """The needed packages (of any role) the query did not report as installed."""
    installed = set()
    for line in query_lines:
        words = line.split()
        if len(words) == 2 and words[1] == "installed":
            installed.add(words[0])
    return [name for name in needed_packages(os_family) if name not in installed]
