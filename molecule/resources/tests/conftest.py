"""Shared fixtures of the Molecule verifier (test_forward.py, test_check_mode.py).

The scenario's inventory (``inventory/group_vars/all.yml``) holds what is
checked: ``test_expect`` (which forwards, through which public addresses,
which source the service must see) and ``wgpf_forwards`` (ports, protocols,
target host). Molecule runs the verifier with the scenario folder as working
directory and sets MOLECULE_SCENARIO_DIRECTORY; by hand, pass
``--scenario molecule/<name>``.
"""

import os

import pytest
import testinfra
from traffic import ScenarioError, cases, load_scenario


def pytest_addoption(parser):
    parser.addoption(
        "--scenario",
        default=os.environ.get("MOLECULE_SCENARIO_DIRECTORY") or ".",
        help="folder of the Molecule scenario to verify (its inventory/); default: "
        "$MOLECULE_SCENARIO_DIRECTORY, else the current directory",
    )


def scenario_of(config):
    if getattr(config, "wgpf_scenario", None) is None:
        try:
            config.wgpf_scenario = load_scenario(config.getoption("--scenario"))
        except ScenarioError as exc:
            raise pytest.UsageError(str(exc)) from exc
    return config.wgpf_scenario


def pytest_generate_tests(metafunc):
    """One test per case of the scenario: answered probes, or sources that must get no answer."""
    if "case" in metafunc.fixturenames:
        scenario = scenario_of(metafunc.config)
        wanted = metafunc.function.__name__ == "test_source_outside_sources_gets_no_answer"
        found = [pair for pair in cases(scenario) if ("bind" in pair[1]) == wanted]
        if not found:
            found = [("none", pytest.param(None, marks=pytest.mark.skip(reason="nothing of this kind in test_expect")))]
        metafunc.parametrize("case", [pair[1] for pair in found], ids=[pair[0] for pair in found])


@pytest.fixture(scope="session")
def scenario(pytestconfig):
    return scenario_of(pytestconfig)


def host_of(pytestconfig, name):
    """A container of the scenario as a testinfra host: docker://<name>, the container named as its
    inventory host. Not through Molecule's Ansible inventory: testinfra's ansible backend adds an
    inventory's ansible_port to a docker spec (static_routes sets one on public1), naming no container."""
    return testinfra.get_host("docker://" + name)


@pytest.fixture(scope="session")
def container(pytestconfig):
    """container(name): that container of the scenario as a testinfra host."""
    return lambda name: host_of(pytestconfig, name)


@pytest.fixture(scope="session")
def client(pytestconfig, scenario):
    """The Internet client container (test_expect.client), or the first of --hosts when given."""
    opt = pytestconfig.option
    if getattr(opt, "hosts", None):
        return testinfra.get_host(opt.hosts.split(",")[0], connection=opt.connection)
    return host_of(pytestconfig, scenario.get("client", "client"))
