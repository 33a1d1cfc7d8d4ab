# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an answer to a question of the tree came from, as the explanation reports it.

The model records it for each answer, the techniques and the tree read it.
"""

from __future__ import annotations

SET = "set"
INFERRED = "inferred from facts"
DEFAULT = "default"
# A question that has no meaning for the topology (Q5 for a direct peer): passed over.
NOT_APPLICABLE = "not applicable"
