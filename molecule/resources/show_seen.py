"""Print what the private services saw, probing every forward of a running scenario.

    python3 molecule/resources/show_seen.py --scenario molecule/demo

From the scenario's client container (the Internet side) each check of its
test_expect connects over every protocol and port of the forward, exactly as
the verifier does (traffic.py), and prints one line per probe: the address and
port the service saw, and whether that is what the check expects. Exits 1 when
any probe is wrong, so `make demo` fails loudly instead of printing a bad
result.
"""

import argparse
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "tests"))

from traffic import cases, load_scenario, parse_probe, probe_argv, problems  # noqa: E402  pylint: disable=wrong-import-position


def run_probe(client, case, tries):
    result = {"error": "not run"}
    for _attempt in range(tries):
        out = subprocess.run(["docker", "exec", client] + probe_argv(case), capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            return {"error": "docker exec %s failed (rc %d): %s" % (client, out.returncode, out.stderr.strip())}
        result = parse_probe(out.stdout)
        if "reply" in result or "bind" in case:
            break
    return result


def describe(case, result):
    """(ok, line) for one probe."""
    where = "%-6s %-3s %s:%-5d" % (case["forward"], case["proto"], case["addr"], case["port"])
    if "bind" in case:
        if "error" in result:
            return True, "%s from %-15s -> no answer, as it should be (outside the forward's sources)" % (
                where, case["bind"])
        return False, "%s from %-15s -> ANSWERED, but this source is outside the forward's sources: %s" % (
            where, case["bind"], result["reply"])
    wrong = problems(case, result)
    if "reply" not in result:
        return False, "%s -> %s" % (where, wrong[0])
    reply = result["reply"]
    line = "%s from %s:%-5d -> %s:%d saw %s:%d" % (where, result["local"][0], result["local"][1], reply["host"],
                                                   reply["port"], reply["src"], reply["sport"])
    if wrong:
        return False, line + "  WRONG: " + "; ".join(wrong)
    return True, line + ("  (the client itself)" if case["seen"] == "client" else "  (the masquerading hop)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, help="folder of the Molecule scenario (molecule/<name>)")
    parser.add_argument("--tries", type=int, default=3, help="attempts per probe (a datagram may be lost)")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    client = scenario.get("client", "client")
    print("Probes from the container %r (the Internet side) through the public server; each line shows the "
          "address and port the private service saw:" % client)
    failed = 0
    for _case_id, case in cases(scenario):
        ok, line = describe(case, run_probe(client, case, args.tries))
        failed += not ok
        print(("  ok    " if ok else "  FAIL  ") + line, flush=True)
    if failed:
        print("%d probe(s) did not get the expected answer" % failed)
        return 1
    if all(case.get("seen", "client") == "client" for _case_id, case in cases(scenario)):
        print("Every forward answered, and every service saw the client's own address and port.")
    else:
        print("Every forward answered with the source address it should see.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
