# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an answer to a question of the tree came from, as the explanation reports it.

Its own module so that the techniques can read it without importing the tree,
which imports them.
"""

from __future__ import annotations

SET = "set"
INFERRED = "inferred from facts"
DEFAULT = "default"
