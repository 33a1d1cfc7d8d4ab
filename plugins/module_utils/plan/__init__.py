# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner: the WireGuard links, what every forward needs and what its technique adds, gathered
per host as a draft and exported as each host's plan (plain data); the checks on the finished plans.
Imports only core/, model/, techniques/ and decide/.
"""
