# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The techniques, found in this package, in the order of the decision tree.

Every module here that defines ``TECHNIQUE`` (a ``Technique``) is one: adding
a technique is adding its module, and nothing here changes. They are ordered
by their ``rank``; three roles are declared by the technique that plays them
(``ends_tree``, ``serves_several_publics``, ``unmanaged_fallback``), each by
exactly one.
"""

from __future__ import annotations

import importlib
import pkgutil

from ansible_collections.wgforward.portforward.plugins.module_utils import techniques as package
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import Technique


def discover():
    """Every technique of the package, ordered by rank; ValueError when two share a rank or a name."""
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module("%s.%s" % (package.__name__, info.name))
        technique = getattr(module, "TECHNIQUE", None)
        if isinstance(technique, Technique):
            found.append(technique)
    found.sort(key=lambda t: (t.rank, t.name))
    for attr in ("rank", "name"):
        values = [getattr(t, attr) for t in found]
        if len(set(values)) != len(values):
            raise ValueError("two techniques share a %s: %s" % (attr, ", ".join(map(str, values))))
    return tuple(found)


def the_one(techniques, role):
    """The technique that declares ``role``; ValueError unless exactly one does."""
    players = [t for t in techniques if getattr(t, role)]
    if len(players) != 1:
        raise ValueError("exactly one technique must declare %s, not %s" % (role, [t.name for t in players]))
    return players[0]


TECHNIQUES = discover()
REGISTRY = {t.name: t for t in TECHNIQUES}
NAMES = tuple(REGISTRY)

# Where the tree ends when every answer says go on.
TREE_END = the_one(TECHNIQUES, "ends_tree")
# When one intermediate carries forwards from several public servers, replies must leave by the
# interface they came in on: only per-public-server connection marks do that.
SHARED_INTERMEDIATE = the_one(TECHNIQUES, "serves_several_publics")
# A peer Ansible does not manage whose file cannot hold the tree's technique takes the full tunnel.
UNMANAGED_PEER_FALLBACK = the_one(TECHNIQUES, "unmanaged_fallback")


def get(name):
    """The technique called name (KeyError for an unknown name: the model validates names first)."""
    return REGISTRY[name]
