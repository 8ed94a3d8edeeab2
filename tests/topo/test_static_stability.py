r"""Static stability: the agents keep forwarding with their last state while veneerd is away.

  root ns: veneerd (stopped with SIGTERM for DOWN seconds, then started again with the same
           command line, read from /proc/PID/cmdline)
  tenant T, network 10.0.0.0/16
                    main
                  /      \
       A 10.0.1.0/24      B 10.0.2.0/24
        |    |    |          |
       a1   a2   n1*        b1
      (h1) (h2)  (h2)      (h2)

  Two ping flows (-i 0.05) run through the whole outage and the reconnection: a1 -> a2 (same
  subnet) and a1 -> b1 (routed); neither may lose a packet. *n1's port is created through
  the API after veneerd is back: it must get a VM and reach the others (state converges).
"""

import re
import time
import urllib.request

import pytest

from topolab import wait_until

LAB_HOSTS = 2
DOWN = 30            # seconds without veneerd
INTERVAL = 0.05
# Before the stop (1 s), the outage, the agents' reconnection (backoff at most 8 s + 20%
# jitter) and a few seconds of resynchronised forwarding.
PING_SECONDS = 1 + DOWN + 10 + 4


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    return {
        "sa": sa,
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2"),
        "b1": lab.vm(lab.port(sb, "h2"), "b1"),
    }


def _health(lab):
    try:
        with urllib.request.urlopen(lab.env["VENEER_URL"] + "/v1/health", timeout=1) as f:
            return f.status == 200
    except OSError:
        return False


def test_no_loss_while_veneerd_is_down(topo, lab):
    a1 = topo["a1"]
    count = int(PING_SECONDS / INTERVAL)
    flows = {dst: a1.popen("ping", "-n", "-q", "-i", str(INTERVAL), "-W", "1", "-c", str(count),
                           topo[dst].ip) for dst in ("a2", "b1")}
    # Both flows are answered before veneerd goes.
    wait_until(lambda: all(lab.port_counters(h, topo[d].id)["tx"] > 5
                           for d, h in (("a2", "h2"), ("b1", "h2"))), 5,
               what="both flows running")
    argv = lab.veneerd_stop()
    stopped = time.monotonic()
    for i in range(1, lab.hosts + 1):
        wait_until(lambda: lab.agent_status("h%d" % i)["sync"]["connected"] is False, 5,
                   what="agent h%d sees veneerd gone" % i)
    assert not _health(lab)
    time.sleep(max(0.0, DOWN - (time.monotonic() - stopped)))  # the outage itself
    assert all(p.poll() is None for p in flows.values()), "a ping flow ended during the outage"
    lab.veneerd_start(argv)
    lab.wait_connected(timeout=20)
    outs = {}
    for dst, p in flows.items():
        outs[dst], _ = p.communicate(timeout=PING_SECONDS + 30)
    for dst, out in outs.items():
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        assert m, out
        assert (int(m.group(1)), int(m.group(2))) == (count, count), \
            "a1 -> %s lost packets across the veneerd outage:\n%s" % (dst, out)


def test_state_converges_after_veneerd_returns(topo, lab):
    lab.wait_connected(timeout=20)
    port = lab.port(topo["sa"], "h2")
    lab.wait_applied(port["revision"])
    n1 = lab.vm(port, "n1")
    assert n1.addrs() == [(port["ip"], 24)]
    wait_until(lambda: lab.api.get("/v1/ports/" + port["id"])["state"] == "up", 10,
               what="port state up")
    for peer in ("a1", "a2", "b1"):
        assert n1.ping_ok(topo[peer].ip, count=2), "n1 -> %s" % peer
    assert topo["a1"].ping_ok(n1.ip, count=2)
