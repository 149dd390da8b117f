"""Scenario: explore finds the partition that loses acknowledged writes, and shrinks it.

A primary acknowledges writes before it replicates them (buggy) or after (correct). `faultctl
explore` draws schedules of partitions and latency over the nodes client, n1 (primary) and n2
(replica), runs a workload of writes beside each, and checks that every acknowledged write is
on the replica. Against the buggy primary it finds a failing schedule, shrinks it to one
partition between n1 and n2, and the replay fails again; against the correct one the same
search finds nothing.

    Scripts/scenario explore [--seeds 1,2,3,4,5] [--replays N]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ROOT, Harness, free_port  # noqa: E402


def explore_file(h, seed, fl, primary, replica):
    with open(os.path.join(ROOT, "examples/explore/explore.json")) as f:
        text = f.read()
    values = {"SEED": seed, "CLIENTS": fl.route_port("clients"), "PRIMARY": primary.port, "REPLICA": replica.port,
              "ACKS": os.path.join(h.directory, "acks.txt")}
    for key, value in values.items():
        text = text.replace("${%s}" % key, str(value))
    path = os.path.join(h.directory, "explore-%d.json" % seed)
    with open(path, "w") as f:
        f.write(text)
    return path


def faultctl(h, fl, *arguments, timeout=900):
    binary = os.path.join(os.path.dirname(h.faultlined), "faultctl")
    run = subprocess.run([binary, "--socket", fl.socket_path] + list(arguments), capture_output=True, text=True,
                         timeout=timeout, cwd=ROOT)
    return run.returncode, run.stdout + run.stderr


def variant(h, mode, seeds, replays):
    replica = h.service([sys.executable, "examples/explore/kv.py", "--port", "{port}", "--role", "replica"], name="replica")
    replication = free_port()
    primary = h.service([sys.executable, "examples/explore/kv.py", "--port", "{port}", "--role", "primary",
                         "--replica-port", str(replication), "--mode", mode], name="primary")
    fl = h.faultline("Config/scenarios/explore.json", PRIMARY=primary.port, REPLICA=replica.port, REPLICATION=replication)
    results = []
    for seed in seeds:
        out = os.path.join(h.directory, "out-%s-%d" % (mode, seed))
        status, output = faultctl(h, fl, "explore", explore_file(h, seed, fl, primary, replica), "--out", out)
        trials = [line for line in output.splitlines() if line.startswith("trial ")]
        found = status == 1
        result = {"seed": seed, "status": status, "trials": len(trials), "found": found}
        h.say("  %s, seed %d: %s" % (mode, seed, "exit %d after %d trials" % (status, len(trials))))
        if status not in (0, 1):
            h.say("\n".join("      " + line for line in output.splitlines()[-15:]))
        if found:
            with open(os.path.join(out, "summary.txt")) as f:
                summary = f.read().strip()
            with open(os.path.join(out, "minimal.json")) as f:
                minimal = json.load(f)
            steps = minimal["schedule"]["steps"]
            h.say("    " + summary)
            replay_status, replay_output = faultctl(h, fl, "explore", "--replay", os.path.join(out, "minimal.json"),
                                                    "--runs", str(replays), "--out", out + "-replay")
            last = replay_output.strip().splitlines()[-1] if replay_output.strip() else ""
            h.say("    " + last)
            failed = sum(1 for line in replay_output.splitlines() if line.startswith("replay ") and "BROKEN" in line)
            result.update(steps=len(steps), kinds=[s["apply"]["type"] for s in steps],
                          groups=[s["apply"].get("groups") for s in steps], replay_failed=failed, replays=replays)
        results.append(result)
    h.record(mode, runs=results)
    h.stop_all()
    return results


def main():
    h = Harness("explore", [a for a in sys.argv[1:] if not a.startswith("--seeds") and not a.startswith("--replays")
                            and a not in _values()])
    seeds = [int(s) for s in _option("--seeds", "7").split(",")]
    replays = int(_option("--replays", "3"))
    h.say("explore: search partitions and latency for a schedule that loses an acknowledged write\n")
    buggy = variant(h, "buggy", seeds, replays)
    for run in buggy:
        h.check(run["found"], "seed %d: a failing schedule found within the trial budget (%d trials)" % (run["seed"], run["trials"]))
        if run["found"]:
            partitions = [g for g in run["groups"] if g]
            h.check(run["steps"] == 1 and run["kinds"] == ["partition"],
                    "seed %d: shrunk to one partition step (%s)" % (run["seed"], run["kinds"]))
            cut = partitions[0] if partitions else []
            h.check(any("n1" in g for g in cut) and any("n2" in g for g in cut) and
                    not any("n1" in g and "n2" in g for g in cut),
                    "seed %d: the partition separates n1 from n2 (%s)" % (run["seed"], cut))
            h.check(run["replay_failed"] == run["replays"],
                    "seed %d: the replay fails again %d of %d times" % (run["seed"], run["replay_failed"], run["replays"]))
    correct = variant(h, "correct", seeds, replays)
    for run in correct:
        h.check(not run["found"] and run["status"] == 0,
                "seed %d: with the primary fixed the same search finds nothing (%d trials)" % (run["seed"], run["trials"]))
    return h.finish()


def _option(name, default):
    for i, a in enumerate(sys.argv):
        if a == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return default


def _values():
    return {sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a in ("--seeds", "--replays")}


if __name__ == "__main__":
    sys.exit(main())
