# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a rendered wg-quick config refers to a preshared key it never holds.

The renderer writes this line where the key goes (render/render.py); apply_plan
finds it on the host and puts the key in (apply/preshared.py), so nothing on the
controller ever renders a preshared key.
"""

from __future__ import annotations

import re

REFERENCE = "PresharedKey = <the key in %s>"
REFERENCE_RE = re.compile(r"^PresharedKey = <the key in (/[^>\s]+)>$", re.MULTILINE)
