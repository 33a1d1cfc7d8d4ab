# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A plan to file contents: wg-quick configs, the nftables table (its sets, maps, chains and rules),
sysctl, routes.sh, the firewall spec, and the wg-quick file of a peer Ansible does not manage. Decides
nothing. Imports only core/, model/ and plan/ (the plan's own helpers).
"""
