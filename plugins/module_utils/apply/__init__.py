# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host side, shipped to managed hosts by AnsiballZ inside the modules: read the host's state,
write what differs, run what the change needs, record what was the host's. Imports only core/ (and
apply/ itself): never model/, decide/, techniques/ or plan/, so a managed host needs no netaddr.
"""
