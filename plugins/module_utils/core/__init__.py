# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every phase shares: the grammar of values that land in files (with the one port-range
formatter), address parsing, the problem list, where an answer came from, where the collection's
files live on a host, what a WireGuard key is and how a config refers to a preshared key. Imports
nothing else of the collection.
"""
