# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decision tree and each forward's technique: the tree's questions assembled from the
techniques, a forced technique checked against its requirements, the escalation when an intermediate
carries several public servers. Imports only core/, model/ and techniques/.
"""
