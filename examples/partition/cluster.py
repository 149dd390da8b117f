"""The etcd side of the partition scenario: a Harness that also brings a 3-member etcd cluster
up and down with Scripts/lib/etcd-cluster.sh (one network namespace per member, peer traffic
through faultlined), and a small etcd v3 client over etcd's JSON gateway (standard library only).

Kept in this folder, not in examples/lib/harness.py: only this scenario needs it.
"""

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ROOT, Faultline, Harness  # noqa: E402

SCRIPT = os.path.join(ROOT, "Scripts", "lib", "etcd-cluster.sh")


class Skip(Exception):
    """The scenario cannot run here (no root, no namespaces, no etcd): not a failure."""


class Cluster:
    """One `etcd-cluster.sh up DIR`: its endpoints, member names and Faultline's control API."""

    def __init__(self, directory, net, env):
        self.directory = directory
        self.net = net
        self.endpoints = env["ENDPOINTS"].split(",")
        self.faultline = Faultline(None, env["CONTROL"], os.path.join(directory, "faultlined.log"))
        self.names = {}  # member id -> n1/n2/n3
        for endpoint in self.endpoints:
            status = member_status(endpoint, timeout=2.0)
            if status:
                self.names[status["member"]] = node(endpoint)

    def endpoint_of(self, name):
        return next(e for e in self.endpoints if node(e) == name)


class EtcdHarness(Harness):
    """A Harness whose teardown (on exit, on failure, on Ctrl-C) also runs `etcd-cluster.sh down`
    for every cluster it brought up, and whose finish() knows a skipped run."""

    def __init__(self, name, argv=None):
        self.clusters = []   # (directory, net) brought up, or being brought up
        self.clusters_started = 0
        self.bringing_up = None
        self.skipped = None
        super().__init__(name, argv)

    def cluster_up(self):
        """Brings a fresh cluster up; raises Skip when it cannot run here."""
        if os.geteuid() != 0:
            raise Skip("needs root to create network namespaces (run: sudo Scripts/scenario partition)")
        for tool in ("ip", "etcd", "etcdctl"):
            if shutil.which(tool) is None:
                raise Skip("%s is not installed (apt-get install iproute2 etcd-server etcd-client)" % tool)
        self.clusters_started += 1
        for attempt in range(4):
            # A second octet of our own (EtcdClusterTests draws 100…199, the demo uses 77).
            net = random.randint(200, 250)
            directory = os.path.join(self.directory, "cluster-%d-%d" % (self.clusters_started, attempt))
            os.makedirs(directory)
            self.clusters.append((directory, net))
            env = dict(os.environ, FL_NET=str(net), FAULTLINED=self.faultlined)
            with open(directory + ".up.log", "w") as log:
                # Output to a file: etcd and faultlined stay behind in the background.
                self.bringing_up = subprocess.Popen(["bash", SCRIPT, "up", directory], env=env, cwd=ROOT,
                                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
                try:
                    status = self.bringing_up.wait(60)
                except subprocess.TimeoutExpired:
                    self.bringing_up.kill()
                    status = self.bringing_up.wait()
                self.bringing_up = None
            message = self._log(log.name).strip().splitlines()
            message = message[-1] if message else ""
            if status == 0:
                values = {}
                with open(os.path.join(directory, "env")) as f:
                    for line in f:
                        if "=" in line:
                            key, value = line.strip().split("=", 1)
                            values[key] = value
                return Cluster(directory, net, values)
            if status == 4 or (status == 3 and "faultlined" not in message):
                raise Skip(message.replace("etcd-cluster: ", ""))
            if status != 5:  # 5: that address range is taken here; draw another
                raise RuntimeError("etcd-cluster.sh up exited %d: %s" % (status, message))
        raise RuntimeError("etcd-cluster.sh up: no free 10.x.0.0/16 range after 4 tries")

    def cluster_down(self, cluster):
        self._down(cluster.directory, cluster.net)
        self.clusters = [c for c in self.clusters if c[0] != cluster.directory]

    def _down(self, directory, net):
        subprocess.run(["bash", SCRIPT, "down", directory], env=dict(os.environ, FL_NET=str(net)), cwd=ROOT,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)

    def teardown(self):
        if self.bringing_up is not None and self.bringing_up.poll() is None:
            self.bringing_up.terminate()
            try:
                self.bringing_up.wait(5)
            except subprocess.TimeoutExpired:
                self.bringing_up.kill()
                self.bringing_up.wait()
        while self.clusters:
            directory, net = self.clusters.pop()
            try:
                self._down(directory, net)
            except (OSError, subprocess.SubprocessError):
                pass
        super().teardown()

    def skip(self, reason):
        self.skipped = reason
        self.record("skipped", reason=reason)

    def finish(self):
        if self.skipped is None:
            return super().finish()
        if self.args.get("json"):
            print("SCENARIO-RESULT " + json.dumps({"scenario": self.name, "passed": True, "skipped": self.skipped,
                                                   "failures": [], "results": self.results}), flush=True)
        self.say("%s: SKIPPED: %s" % (self.name, self.skipped))
        return 0


# --- etcd over its JSON gateway (POST /v3/...; 64-bit numbers come as strings) -------------

def node(endpoint):
    """n<i> for http://10.NET.<i>.2:2379."""
    return "n" + endpoint.split("//")[1].split(":")[0].split(".")[2]


def b64(text):
    return base64.b64encode(text.encode()).decode()


def gateway(endpoint, path, body, timeout):
    """One POST to etcd's gateway: the parsed answer, or None when it failed or timed out."""
    request = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def member_status(endpoint, timeout=0.5):
    """{"member", "leader", "term", "revision"} of one member as it sees itself, or None."""
    answer = gateway(endpoint, "/v3/maintenance/status", {}, timeout)
    if not answer or "header" not in answer:
        return None
    return {"member": answer["header"]["member_id"], "leader": answer.get("leader", "0"),
            "term": int(answer.get("raftTerm", answer["header"].get("raft_term", 0))),
            "revision": int(answer["header"].get("revision", 0))}


def put(endpoint, key, value, timeout):
    """True when etcd acknowledged the write (answered with a header)."""
    answer = gateway(endpoint, "/v3/kv/put", {"key": b64(key), "value": b64(value)}, timeout)
    return bool(answer and "header" in answer)


def keys(endpoint, prefix, serializable, timeout=2.0):
    """{key: value} under prefix, read from one member (serializable: its local store, no
    quorum), or None when it did not answer."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    answer = gateway(endpoint, "/v3/kv/range",
                     {"key": b64(prefix), "range_end": b64(end), "serializable": serializable}, timeout)
    if answer is None or "header" not in answer:
        return None
    return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode()
            for kv in answer.get("kvs", [])}


def wait_for(what, timeout, check, every=0.1):
    """Polls check() until it returns something truthy; raises after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(every)
