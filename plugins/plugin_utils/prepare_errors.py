# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error of the roles' controller-side steps (plugin_utils/), and the filters' wrapper for it.

The steps' logic and its tests are beside this file; each filter over one of
them only turns its error into an AnsibleFilterError.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


class PrepareError(Exception):
    """A host the roles cannot prepare; the message names it."""


def checked(function):
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PrepareError as exc:
            raise AnsibleFilterError("wgforward.portforward: %s" % exc)
    wrapper.__name__ = function.__name__
    return wrapper
