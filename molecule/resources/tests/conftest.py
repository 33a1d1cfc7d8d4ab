"""Command-line option of the shared Molecule verifier (test_forward.py).

The scenario's inventory (``inventory/group_vars/all.yml``) holds what is
checked: ``test_expect`` (which forwards, through which public addresses,
which source the service must see) and ``wgpf_forwards`` (ports, protocols,
target host). Molecule runs
the verifier with the scenario folder as working directory and sets
MOLECULE_SCENARIO_DIRECTORY; by hand, pass ``--scenario molecule/<name>``.
"""

import os


def pytest_addoption(parser):
    parser.addoption(
        "--scenario",
        default=os.environ.get("MOLECULE_SCENARIO_DIRECTORY") or ".",
        help="folder of the Molecule scenario to verify (its inventory/); default: "
        "$MOLECULE_SCENARIO_DIRECTORY, else the current directory",
    )
