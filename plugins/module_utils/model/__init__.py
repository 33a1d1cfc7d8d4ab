# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory variables to records: read hostvars and groups as plain data, parse and validate every
forward and host, infer what facts tell, cross-check, and raise every problem at once; the technique
names and the tree's answers it reads are handed to it (vocabulary.py). Imports only core/.
"""
