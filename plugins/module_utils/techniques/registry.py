# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The techniques by name, in the order of the decision tree.

Adding a technique: a module here with a ``Technique`` subclass and its
``TECHNIQUE``, a line below, and a row in tree.QUESTIONS.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import (
    connmark_intermediate, connmark_private, default_route, masquerade, policy_routing, static_routes)

REGISTRY = {t.name: t for t in (
    masquerade.TECHNIQUE,
    static_routes.TECHNIQUE,
    default_route.TECHNIQUE,
    policy_routing.TECHNIQUE,
    connmark_intermediate.TECHNIQUE,
    connmark_private.TECHNIQUE,
)}
NAMES = tuple(REGISTRY)

# When one intermediate carries forwards from several public servers, replies must leave by the
# interface they came in on: only per-public-server connection marks do that.
SHARED_INTERMEDIATE = connmark_intermediate.TECHNIQUE
# A peer Ansible does not manage whose file cannot hold the tree's technique takes the full tunnel.
UNMANAGED_PEER_FALLBACK = default_route.TECHNIQUE
# A direct peer of the public server has no Q5: it marks connections itself.
DIRECT_PEER_LAST_STEP = connmark_private.NAME


def get(name):
    """The technique called name (KeyError for an unknown name: the model validates names first)."""
    return REGISTRY[name]
