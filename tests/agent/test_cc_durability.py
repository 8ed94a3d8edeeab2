r"""A commit reaches the agents before its fsync, and is answered only after it.

veneerd commits with SQLite's synchronous=NORMAL and fsyncs the log itself after pushing the
new revision to idle agents (docs/architecture.md, "Decision: agents hear a commit before
its fsync"), so a slow disk is not on the way of a change reaching the data plane (a virtual
IP's failover), while an API write is still answered only once it is durable. strace slows
or fails veneerd's fdatasync to show both, and that a failed sync stops veneerd rather than
answering or carrying on.

  admin --PATCH--> veneerd --commit--> push to agent h1 --fdatasync (delayed by strace)--> 200
"""

import subprocess
import threading
import time

import agentkit as ak

DELAY_S = 1.5
VIP = "10.0.1.100/32"


class Tamper:
    """strace attached to a process, delaying or failing every fdatasync it makes."""

    def __init__(self, pid, inject):
        self.pid = pid
        self.proc = subprocess.Popen(
            ["strace", "-qq", "-p", str(pid), "-e", "trace=fdatasync",
             "-e", "inject=fdatasync:" + inject, "-o", "/dev/null"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ak.wait_until(self._attached, 10, what="strace attached to %d" % pid)

    def _attached(self):
        assert self.proc.poll() is None, self.proc.stderr.read()
        with open("/proc/%d/status" % self.pid) as f:
            tracer = [ln for ln in f if ln.startswith("TracerPid:")]
        return tracer and int(tracer[0].split()[1]) == self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # strace detaches and lets the process go on
            self.proc.wait(10)


def one_port(cluster):
    b = cluster.b
    t = b.tenant()
    n = b.network(t["id"], "10.0.0.0/16")
    s = b.subnet(n["id"], "10.0.1.0/24")
    return b.port(s["id"], host="h1")


def timed_patch(cluster, path, body):
    """PATCH in a thread; returns (thread, result dict with the answer and its time)."""
    out = {}

    def run():
        out["sent"] = time.monotonic()
        try:
            out["resp"] = cluster.admin.req("PATCH", path, body, timeout=30)
        except OSError as e:  # the connection closed without an answer
            out["error"] = e
        out["answered"] = time.monotonic()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, out


def test_agent_applies_a_change_before_its_fsync(cluster):
    a1 = cluster.agent("h1")
    p = one_port(cluster)
    a1.wait_revision(cluster.veneerd.revision())
    rev = cluster.veneerd.revision()
    tamper = Tamper(cluster.veneerd.pid, "delay_enter=%dms" % int(DELAY_S * 1000))
    try:
        th, out = timed_patch(cluster, "/v1/ports/" + p["id"], {"claimable": [VIP]})
        # The agent holds the new revision while veneerd still waits for the disk ...
        ak.wait_until(lambda: a1.state()["state"]["revision"] > rev, DELAY_S * 0.8,
                      what="the agent to apply revision %d during the fsync" % (rev + 1))
        applied = time.monotonic()
        th.join(30)
    finally:
        tamper.stop()
    # ... and the write is answered only once the fsync has returned.
    assert out["resp"].status == 200, out
    assert applied < out["answered"], out
    assert out["answered"] - out["sent"] >= DELAY_S * 0.9, out
    assert out["resp"].revision == rev + 1
    port = a1.state()["state"]["ports"][p["id"]]
    assert port["claimable"] == [VIP], port


def test_a_failed_fsync_stops_veneerd_without_answering(cluster):
    a1 = cluster.agent("h1")
    p = one_port(cluster)
    a1.wait_revision(cluster.veneerd.revision())
    v = cluster.veneerd
    tamper = Tamper(v.pid, "error=EIO")
    try:
        th, out = timed_patch(cluster, "/v1/ports/" + p["id"], {"claimable": [VIP]})
        th.join(30)
        rc = v.proc.wait(10)
    finally:
        tamper.stop()
    v.expect_up = False
    # No 2xx for a write that is not known to be durable, and veneerd does not go on.
    assert "resp" not in out or out["resp"].status >= 500, out
    assert rc != 0
    assert "cannot sync" in v.log_tail(), v.log_tail()
    # A restart serves the store as it is on disk; the agent resynchronises with it.
    v.start(keep_ports=True)
    a1.wait_revision(v.revision())
    stored = v.admin.fetch("/v1/ports/" + p["id"])["claimable"]
    ak.wait_until(lambda: a1.state()["state"]["ports"][p["id"]]["claimable"] == stored, 10,
                  what="the agent to agree with the restarted store")
