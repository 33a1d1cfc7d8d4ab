# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the filters over module_utils/apply_prepare.py: its errors as filter errors.

The logic and its tests are in apply_prepare.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_prepare import PrepareError


def checked(function):
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PrepareError as exc:
            raise AnsibleFilterError("wgforward.portforward: %s" % exc)
    wrapper.__name__ = function.__name__
    return wrapper
