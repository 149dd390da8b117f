"""Scenario: the etcd leader is cut off; a client pinned to it loses writes, one using every member does not.

A real 3-member etcd cluster (Scripts/lib/etcd-cluster.sh: one network namespace per member,
every peer message through Faultline). A writer puts one key after another; Faultline isolates
the leader (POST /v1/partitions {"kind": "isolate"}); the other two elect a new leader (the term
rises) and go on accepting writes; the partition heals and the members converge.
Buggy client: it talks to the member that was the leader when it started, only, and does not
check its writes' answers: during the partition every write times out, it counts them as done,
and after the heal they are not there. Correct client: it knows all three endpoints, counts a
write only when etcd acknowledged it, and retries an unanswered (idempotent) put on the next
member: it keeps writing through the partition and every acknowledged write is present on every
member afterwards. Needs root and etcd; skips (exit 0) with a message otherwise.
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import EtcdHarness, Skip, keys, member_status, node, put, wait_for  # noqa: E402

PREFIX = "scenario/"
WRITE_TIMEOUT_S = 0.5     # one put's budget
WRITE_EVERY_S = 0.05      # the writer's pace
BEFORE_S = 1.0            # writing before the partition
AFTER_ELECTION_S = 2.0    # the partition lasts this long after the new leader is elected
AFTER_HEAL_S = 0.5        # writing after the members converged


class Writer(threading.Thread):
    """Puts PREFIX k0000, k0001, … until stopped. `pinned`: one endpoint, results ignored;
    otherwise every endpoint, a put retried on the next member until one acknowledges it (or
    each was tried)."""

    def __init__(self, endpoints, pinned):
        super().__init__(daemon=True)
        self.endpoints, self.pinned = endpoints, pinned
        self.current = 0
        self.writes = []  # (sent at, key, acknowledged, member that acknowledged, answered at)
        self.stopping = threading.Event()

    def run(self):
        i = 0
        while not self.stopping.is_set():
            key, value = "%sk%04d" % (PREFIX, i), str(i)
            sent, acked, by = time.monotonic(), False, None
            tries = 1 if self.pinned else len(self.endpoints)
            for _ in range(tries):
                endpoint = self.endpoints[self.current]
                if put(endpoint, key, value, WRITE_TIMEOUT_S):
                    acked, by = True, node(endpoint)
                    break
                self.current = (self.current + 1) % len(self.endpoints)  # the next member
            self.writes.append((sent, key, acked, by, time.monotonic()))
            i += 1
            self.stopping.wait(WRITE_EVERY_S)

    def stop(self):
        self.stopping.set()
        self.join()


def variant(h, mode, label):
    cluster = h.cluster_up()
    fl = cluster.faultline
    endpoints = cluster.endpoints
    members = wait_for("one leader all three agree on", 10, lambda: (
        lambda s: s if len(s) == 3 and len({m["leader"] for m in s}) == 1 and s[0]["leader"] != "0" else None)(
        [m for m in (member_status(e) for e in endpoints) if m]))
    old = next(m for m in members if m["member"] == m["leader"])
    leader = cluster.names[old["leader"]]
    leader_endpoint = cluster.endpoint_of(leader)
    writer = Writer([leader_endpoint] if mode == "buggy" else endpoints, pinned=mode == "buggy")
    h.say(label)
    h.say("    cluster: leader %s, term %d; the client writes to %s" % (
        leader, old["term"], leader_endpoint if mode == "buggy" else "all three members"))
    writer.start()
    time.sleep(BEFORE_S)

    fl.expect(201, "POST", "/v1/partitions", {"kind": "isolate", "node": leader})
    isolated_at = time.monotonic()
    blocked = fl.metric("faultline_partition_links_blocked")
    others = [e for e in endpoints if e != leader_endpoint]

    def elected():
        seen = [member_status(e) for e in others]
        if all(seen) and seen[0]["leader"] == seen[1]["leader"] and seen[0]["leader"] not in ("0", old["leader"]):
            return next(m for m in seen if m["member"] == m["leader"])
        return None
    new = wait_for("a new leader among the majority", 15, elected)
    election_s = time.monotonic() - isolated_at
    h.say("    Faultline isolates %s (%d links blocked); %s elected in %.1f s, term %d → %d" % (
        leader, blocked, cluster.names[new["member"]], election_s, old["term"], new["term"]))
    time.sleep(AFTER_ELECTION_S)
    stale = keys(leader_endpoint, PREFIX, serializable=True, timeout=1.0)     # its local store, no quorum
    majority = keys(others[0], PREFIX, serializable=False, timeout=2.0)      # linearizable

    fl.expect(200, "DELETE", "/v1/partitions")
    healed_at = time.monotonic()
    converged = wait_for("all three members on one leader", 20, lambda: (
        lambda s: s if len(s) == 3 and len({m["leader"] for m in s}) == 1 and s[0]["leader"] != "0" else None)(
        [m for m in (member_status(e) for e in endpoints) if m]))
    heal_s = time.monotonic() - healed_at
    time.sleep(AFTER_HEAL_S)
    writer.stop()

    # Every member on one revision, then every member's own store is checked.
    wait_for("all three members on one revision", 20, lambda: (
        lambda s: len(s) == 3 and len({m["revision"] for m in s}) == 1)(
        [m for m in (member_status(e) for e in endpoints) if m]))
    stores = {node(e): keys(e, PREFIX, serializable=True) or {} for e in endpoints}
    final = keys(leader_endpoint, PREFIX, serializable=False)  # the healed member serves linearizable reads again

    writes = writer.writes
    during = [w for w in writes if isolated_at <= w[0] < healed_at]
    acked_during = [w for w in during if w[2] and w[4] < healed_at]  # answered while the partition lasted
    acked = [w for w in writes if w[2]]
    believed = writes if mode == "buggy" else acked  # the buggy client never looked at the answers
    missing_believed = [w for w in believed if w[1] not in (final or {})]
    missing_acked = sum(1 for w in acked for store in stores.values() if w[1] not in store)
    journal = fl.journal()
    numbers = {
        "leader": leader, "new_leader": cluster.names[new["member"]], "term_before": old["term"],
        "term_elected": new["term"], "term_after_heal": converged[0]["term"], "election_s": round(election_s, 2),
        "heal_s": round(heal_s, 2), "links_blocked": int(blocked),
        "writes": len(writes), "acked": len(acked), "believed": len(believed),
        "during_partition": len(during), "acked_during_partition": len(acked_during),
        "missing_believed": len(missing_believed), "missing_acked": missing_acked,
        "stale_read_keys": len(stale) if stale is not None else -1,
        "majority_keys": len(majority) if majority is not None else -1,
        "partition_events": sum(1 for e in journal if e["event"] in ("partition.applied", "partition.healed")),
    }
    h.say("    during the partition: %d writes sent, %d acknowledged before the heal%s" % (
        len(during), len(acked_during), " (by %s)" % ", ".join(sorted({w[3] for w in acked_during})) if acked_during else ""))
    h.say("    just before the heal: a serializable read on the isolated %s sees %d keys, a linearizable one on the majority %d" % (
        leader, numbers["stale_read_keys"], numbers["majority_keys"]))
    h.say("    healed: all three follow one leader (%s, term %d) %.1f s later" % (
        cluster.names[converged[0]["leader"]], converged[0]["term"], heal_s))
    if mode == "buggy":
        h.say("    the client believes it made %d writes; after the heal %d of them are missing" % (len(believed), len(missing_believed)))
    else:
        gave_up = len(writes) - len(acked)
        h.say("    the client counts %d acknowledged writes (%d it gave up on after trying every member %s not counted); after the heal %d are missing" % (
            len(acked), gave_up, "is" if gave_up == 1 else "are", len(missing_believed)))
    h.say("    etcd acknowledged %d of the %d writes: %s" % (
        len(acked), len(writes), "every one present on all three members" if missing_acked == 0 else "%d missing on a member" % missing_acked))
    h.record(mode, **numbers)
    h.cluster_down(cluster)
    return numbers


def main():
    h = EtcdHarness("partition")
    h.say("partition: isolate the etcd leader with Faultline, elect, heal; are the client's writes all there?\n")
    started = time.monotonic()
    try:
        buggy = variant(h, "buggy", "buggy: the client writes to the leader's endpoint only and does not check the answers")
    except Skip as reason:
        h.skip(str(reason))
        return h.finish()
    h.check(buggy["term_elected"] > buggy["term_before"] and buggy["new_leader"] != buggy["leader"],
            "the majority elected a new leader (%s, term %d → %d)" % (buggy["new_leader"], buggy["term_before"], buggy["term_elected"]))
    h.check(buggy["acked_during_partition"] == 0 and buggy["during_partition"] > 0,
            "pinned to the isolated member, none of its %d writes during the partition was acknowledged while it lasted" % buggy["during_partition"])
    h.check(buggy["missing_believed"] > 0,
            "it believes %d writes were made; %d of them are not in the cluster after the heal" % (buggy["believed"], buggy["missing_believed"]))
    h.check(buggy["missing_acked"] == 0, "etcd lost none of the writes it acknowledged")
    correct = variant(h, "correct", "correct: the client uses all three endpoints and counts only acknowledged writes")
    h.check(correct["term_elected"] > correct["term_before"] and correct["new_leader"] != correct["leader"],
            "the majority elected a new leader (%s, term %d → %d)" % (correct["new_leader"], correct["term_before"], correct["term_elected"]))
    h.check(correct["acked_during_partition"] > 0,
            "it kept writing through the partition (%d writes acknowledged by the majority)" % correct["acked_during_partition"])
    h.check(0 <= correct["stale_read_keys"] < correct["majority_keys"],
            "a serializable read on the isolated member is stale (%d keys; the majority has %d)" % (correct["stale_read_keys"], correct["majority_keys"]))
    h.check(correct["missing_believed"] == 0 and correct["missing_acked"] == 0,
            "every one of its %d acknowledged writes is present on all three members" % correct["acked"])
    h.check(buggy["links_blocked"] == 8 and correct["links_blocked"] == 8 and buggy["partition_events"] == 2 and correct["partition_events"] == 2,
            "Faultline blocked 8 links and journaled partition.applied and partition.healed in each run")
    h.say("\n(%.1f s)" % (time.monotonic() - started))
    return h.finish()


if __name__ == "__main__":
    sys.exit(main())
