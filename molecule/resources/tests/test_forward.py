"""Real traffic through the forwards of a Molecule scenario.

From the client container (the Internet) every check of the scenario's
test_expect (inventory/group_vars/all.yml) connects over TCP and sends a UDP
datagram to the public server's address and each forwarded port (every port of
a range). The echo service on the private server (wgpf-echo, installed by
prepare) answers with the source address and port it saw; that must be the
client's own (the source preserved), or for masquerading exactly the
masquerading hop's address. A check's ``denied`` entries must get no answer at
all (static routes: only the listed sources are forwarded).

Every socket has a 5 s timeout; the first probe waits (bounded) for the
tunnels to come up after a restart. What a case is and how it is judged lives
in traffic.py, shared with show_seen.py (make demo); the fixtures and the
parametrisation by case are in conftest.py.
"""

import time

import pytest

from traffic import cases, parse_probe, probe_argv, problems


WARMUP_SECONDS = 60


def probe(client, case, timeout=None):
    argv = probe_argv(case, **({"timeout": timeout} if timeout else {}))
    cmd = client.run(" ".join(["%s"] * len(argv)), *argv)
    assert cmd.rc == 0, "probe failed to run in the client: rc=%s %s" % (cmd.rc, cmd.stderr)
    return parse_probe(cmd.stdout)


def answered(client, case, seconds):
    """What is wrong with the case's answer, retried until it is right or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        wrong = problems(case, probe(client, case, timeout=2))
        if not wrong or time.monotonic() > deadline:
            return wrong
        time.sleep(1)


@pytest.fixture(scope="session")
def warm(client, scenario):
    """Wait (at most WARMUP_SECONDS) until the first forward answers: tunnels are up."""
    first = [pair[1] for pair in cases(scenario) if "bind" not in pair[1]]
    deadline = time.monotonic() + WARMUP_SECONDS
    while first and time.monotonic() < deadline:
        if "reply" in probe(client, first[0], timeout=2):
            return True
        time.sleep(1)
    return False


def test_forward_answers_with_source(client, warm, case):
    result = None
    for _attempt in range(3):  # a datagram may be lost; a reply is never retried into a pass
        result = probe(client, case)
        if "reply" in result:
            break
        time.sleep(1)
    wrong = problems(case, result)
    assert not wrong, "; ".join(wrong)


def test_source_outside_sources_gets_no_answer(client, warm, case):
    assert warm, "the forwards never answered, so a refused source proves nothing"
    result = probe(client, case, timeout=3)
    assert "error" in result, "%(addr)s %(proto)s/%(port)d answered a source outside `sources` (%(bind)s): " % case \
        + str(result)
