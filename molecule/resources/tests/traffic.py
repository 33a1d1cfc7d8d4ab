"""What a scenario checks and how one probe runs: shared by test_forward.py and show_seen.py.

A scenario's inventory holds the checks: ``test_expect`` (which forwards,
through which public addresses, which source the service must see) and
``wgpf_forwards`` (ports, protocols, target host), in group_vars/all.yml or
in any YAML file of group_vars/all/ (the demo keeps inventory.example's
forwards in one file and its checks in another).
"""

import ipaddress
import json
import pathlib

import yaml

SOCKET_TIMEOUT = 5

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


class ScenarioError(Exception):
    pass


def _group_vars_all(folder):
    single = folder / "inventory/group_vars/all.yml"
    if single.is_file():
        return [single]
    return sorted((folder / "inventory/group_vars/all").glob("*.yml"))


def load_scenario(folder):
    """The scenario's checks: test_expect plus name and forwards ({name: forward})."""
    folder = pathlib.Path(folder).resolve()
    data = {}
    for path in _group_vars_all(folder):
        data.update(yaml.safe_load(path.read_text()) or {})
    if not data.get("wgpf_forwards") or not data.get("test_expect"):
        raise ScenarioError("no wgpf_forwards and test_expect in %s/inventory/group_vars/all: "
                            "pass --scenario molecule/<name>" % folder)
    expect = dict(data["test_expect"])
    expect["name"] = folder.name
    expect["forwards"] = {f["name"]: f for f in data["wgpf_forwards"]}
    return expect


def port_span(value):
    parts = str(value).split("-")
    return int(parts[0]), int(parts[-1])


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cases(scenario):
    """(id, case) for every forward x protocol x public address x port of the scenario.

    A case with "bind" is a source outside the forward's sources: it must get no answer.
    """
    out = []
    for check in scenario.get("checks", []):
        if "connect" not in check:  # a technique check only (prepare), probed by another test
            continue
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


def probe_argv(case, timeout=SOCKET_TIMEOUT):
    """The command that runs one probe in the client (bounded by timeout(1) as well)."""
    return ["timeout", str(timeout * 3), "python3", "-c", PROBE, case["proto"], case["addr"],
            str(case["port"]), str(timeout), case.get("bind", "")]


def parse_probe(stdout):
    """The probe's result: {"local": [addr, port], "reply": {...}} or {"error": "..."}."""
    return json.loads(stdout.strip().splitlines()[-1])


def expected_source(case, result):
    """The address the service must have seen: the client's own, or the masquerading hop's."""
    if case["seen"] == "client":
        return result["local"][0]
    family = 6 if ":" in case["addr"] else 4
    for addr in as_list(case["seen"]):
        if ipaddress.ip_address(addr).version == family:
            return addr
    raise ScenarioError("test_expect: seen %r has no IPv%d address" % (case["seen"], family))


def problems(case, result):
    """Why a probe's answer is wrong (empty when it is right)."""
    if "reply" not in result:
        return ["no answer from %(to)s via %(addr)s %(proto)s/%(port)d: " % case + result["error"]]
    reply, out = result["reply"], []
    if reply["host"] != case["to"]:
        out.append("answered by the wrong host: %r" % reply)
    if (reply["proto"], reply["port"]) != (case["proto"], case["to_port"]):
        out.append("wrong service port: %r" % reply)
    want = expected_source(case, result)
    if ipaddress.ip_address(reply["src"]) != ipaddress.ip_address(want):
        out.append("%s saw the connection from %s, expected %s (%s)" % (
            case["to"], reply["src"], want,
            "the client itself" if case["seen"] == "client" else "the masquerading hop"))
    if case["seen"] == "client" and reply["sport"] != result["local"][1]:
        out.append("source port changed: %r, client used %d" % (reply, result["local"][1]))
    return out
