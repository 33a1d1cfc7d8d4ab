# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which packages the roles install on a host, from what host_state found missing there.

The package lists and the query host_state runs on the host are apply/packages.py's.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.packages import needed_packages
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import PrepareError


def packages_to_install(state, explicit, host_vars, role):
    """The packages to install on a host: none when installing is off (the role's variable, else the
    host's wireguard_<role>_install_packages, else on), else what host_state found missing of those
    the host's role needs (conntrack on a public server only)."""
    install = boolean(explicit) if explicit is not None else \
        boolean(host_vars.get("wireguard_%s_install_packages" % role, True))
    if not install:
        return []
    if state.get("missing_packages") is None:
        raise PrepareError(
            "installing packages on the %s family is not supported: install wireguard-tools, nftables and "
            "iproute2 yourself and set wireguard_%s_install_packages to false" % (state.get("os_family"), role))
    needed = needed_packages(state["os_family"], role)
    return [name for name in state["missing_packages"] if name in needed]
