# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module per technique: its question of the decision tree, its requirements and what it puts
on each host; base.py, steps.py (what several share) and registry.py (finds the technique modules).
Imports only core/ and model/.
"""
