# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live check (check.yml): what each hop of a forward must show, from the plan, and the
verdicts on what the probes read. May import every phase above.
"""
