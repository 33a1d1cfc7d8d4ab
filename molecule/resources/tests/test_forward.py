"""Real traffic through the forwards of a Molecule scenario.

From the client container (the Internet) every check of the scenario's
test_expect (inventory/group_vars/all.yml) connects over TCP and sends a UDP datagram to the public server's
address and each forwarded port (every port of a range). The echo service on
the private server (wgpf-echo, installed by prepare) answers with the source
address and port it saw; that must be the client's own (the source
preserved), or for masquerading exactly the masquerading hop's address. A
check's ``denied`` entries must get no answer at all (static routes: only the
listed sources are forwarded).

Every socket has a 5 s timeout; the first probe waits (bounded) for the
tunnels to come up after a restart.
"""

import ipaddress
import json
import pathlib
import time

import pytest
import testinfra
import yaml


SOCKET_TIMEOUT = 5
WARMUP_SECONDS = 60

# Runs inside the client: one TCP connection or UDP exchange, JSON result on stdout.
PROBE = r"""
import json, socket, sys
proto, addr, port, timeout, bind = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
sock.settimeout(timeout)
try:
    if bind:
        sock.bind((bind, 0))
    sock.connect((addr, port))
    local = sock.getsockname()
    if proto == "udp":
        sock.send(b"hello\n")
        data = sock.recv(4096)
    else:
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    print(json.dumps({"local": [local[0], local[1]], "reply": json.loads(data.decode())}))
except Exception as exc:
    print(json.dumps({"error": "%s: %s" % (type(exc).__name__, exc)}))
"""


def load_scenario(config):
    """The scenario's wgpf_forwards and test_expect, from its inventory/group_vars/all.yml."""
    folder = pathlib.Path(config.getoption("--scenario")).resolve()
    data = None
    for path in (folder / "inventory/group_vars/all.yml", folder / "inventory/group_vars/all/main.yml"):
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            break
    if not data or not data.get("wgpf_forwards") or not data.get("test_expect"):
        raise pytest.UsageError("no wgpf_forwards and test_expect in %s/inventory/group_vars/all.yml: "
                                "pass --scenario molecule/<name>" % folder)
    expect = dict(data["test_expect"])
    expect["name"] = folder.name
    expect["forwards"] = {f["name"]: f for f in data["wgpf_forwards"]}
    return expect


def scenario_of(config):
    if getattr(config, "wgpf_scenario", None) is None:
        config.wgpf_scenario = load_scenario(config)
    return config.wgpf_scenario


@pytest.fixture(scope="session")
def scenario(pytestconfig):
    return scenario_of(pytestconfig)


@pytest.fixture(scope="session")
def client(pytestconfig, scenario):
    """The Internet client container, as a testinfra host.

    --hosts=docker://client (first host) when given; under Molecule (--connection=ansible)
    the inventory host named in test_expect.client; else docker://<that name>.
    """
    opt = pytestconfig.option
    name = scenario.get("client", "client")
    if getattr(opt, "hosts", None):
        return testinfra.get_host(opt.hosts.split(",")[0], connection=opt.connection)
    if getattr(opt, "connection", None) == "ansible" and getattr(opt, "ansible_inventory", None):
        return testinfra.get_host("ansible://" + name, ansible_inventory=opt.ansible_inventory)
    return testinfra.get_host("docker://" + name)


def port_span(value):
    text = str(value)
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cases(scenario):
    """(id, case) for every forward x protocol x public address x port of the scenario."""
    out = []
    for check in scenario.get("checks", []):
        fwd = scenario["forwards"][check["forward"]]
        lo, hi = port_span(fwd["port"])
        to_lo = port_span(fwd.get("to_port", fwd["port"]))[0]
        for proto in fwd.get("protocols", ["tcp"]):
            for addr in as_list(check["connect"]):
                for offset in range(hi - lo + 1):
                    case = {"forward": fwd["name"], "to": fwd["to"], "proto": proto, "addr": addr,
                            "port": lo + offset, "to_port": to_lo + offset, "seen": check.get("seen", "client")}
                    out.append(("%s-%s-%s-%d" % (fwd["name"], proto, addr, lo + offset), case))
                for bind in as_list(check.get("denied")):
                    case = {"forward": fwd["name"], "proto": proto, "addr": addr, "port": lo, "bind": bind}
                    out.append(("%s-%s-%s-%d-from-%s" % (fwd["name"], proto, addr, lo, bind), case))
    return out


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        scenario = scenario_of(metafunc.config)
        wanted = metafunc.function.__name__ == "test_source_outside_sources_gets_no_answer"
        found = [(i, c) for i, c in cases(scenario) if ("bind" in c) == wanted]
        if not found:
            found = [("none", pytest.param(None, marks=pytest.mark.skip(reason="nothing of this kind in test_expect")))]
        metafunc.parametrize("case", [c for _, c in found], ids=[i for i, _ in found])


def probe(client, case, timeout=SOCKET_TIMEOUT):
    cmd = client.run("timeout %s python3 -c %s %s %s %s %s %s", str(timeout * 3), PROBE, case["proto"], case["addr"],
                     str(case["port"]), str(timeout), case.get("bind", ""))
    assert cmd.rc == 0, "probe failed to run in the client: rc=%s %s" % (cmd.rc, cmd.stderr)
    return json.loads(cmd.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def warm(client, scenario):
    """Wait (at most WARMUP_SECONDS) until the first forward answers: tunnels are up."""
    first = [c for _, c in cases(scenario) if "bind" not in c]
    deadline = time.monotonic() + WARMUP_SECONDS
    last = None
    while first and time.monotonic() < deadline:
        last = probe(client, first[0], timeout=2)
        if "reply" in last:
            return True
        time.sleep(1)
    return False


def expected_source(case, result):
    if case["seen"] == "client":
        return result["local"][0]
    family = 6 if ":" in case["addr"] else 4
    for addr in as_list(case["seen"]):
        if ipaddress.ip_address(addr).version == family:
            return addr
    raise AssertionError("test_expect: seen %r has no IPv%d address" % (case["seen"], family))


def test_forward_answers_with_source(client, warm, case):
    result = None
    for _attempt in range(3):  # a datagram may be lost; a reply is never retried into a pass
        result = probe(client, case)
        if "reply" in result:
            break
        time.sleep(1)
    assert "reply" in result, "no answer from %(to)s via %(addr)s %(proto)s/%(port)d: " % case + result["error"]
    reply = result["reply"]
    assert reply["host"] == case["to"], "answered by the wrong host: %r" % reply
    assert (reply["proto"], reply["port"]) == (case["proto"], case["to_port"]), "wrong service port: %r" % reply
    want = expected_source(case, result)
    assert ipaddress.ip_address(reply["src"]) == ipaddress.ip_address(want), (
        "%(to)s saw the connection from %(src)s, expected %(want)s (%(what)s)"
        % {"to": case["to"], "src": reply["src"], "want": want,
           "what": "the client itself" if case["seen"] == "client" else "the masquerading hop"})
    if case["seen"] == "client":
        assert reply["sport"] == result["local"][1], "source port changed: %r, client used %d" % (
            reply, result["local"][1])


def test_source_outside_sources_gets_no_answer(client, warm, case):
    assert warm, "the forwards never answered, so a refused source proves nothing"
    result = probe(client, case, timeout=3)
    assert "error" in result, "%(addr)s %(proto)s/%(port)d answered a source outside `sources` (%(bind)s): " % case \
        + json.dumps(result)
