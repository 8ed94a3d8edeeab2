r"""An agent that restarts (or stops and starts) resumes forwarding by itself.

  tenant T, network 10.0.0.0/16
                    main
                  /      \
       A 10.0.1.0/24      B 10.0.2.0/24
        |    |    |          |
       a1   a3   a2         b1
      (h1) (h1) (h2)       (h2)

  `veneer-lab agent h1 restart`: the VMs keep their TAPs (persistent devices, same ifindex,
  addresses kept: no new DHCP), the agent finds them again through its run dir, and traffic
  from and to h1's VMs (same host, other host, routed) flows again within a few seconds,
  with nothing else done.
"""

import time

import pytest

from topolab import wait_until

LAB_HOSTS = 2
RESUME_WITHIN = 5.0  # seconds


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    return {
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a3": lab.vm(lab.port(sa, "h1"), "a3"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2"),
        "b1": lab.vm(lab.port(sb, "h2"), "b1"),
    }


PAIRS = [("a1", "a2"), ("a2", "a1"), ("a1", "a3"), ("a1", "b1"), ("b1", "a3")]


def _all_flows_ok(topo):
    return all(topo[x].ping_ok(topo[y].ip, count=1, wait=1) for x, y in PAIRS)


def _tap(vm):
    link = vm.link()
    return link and (link["ifindex"], link["address"], link["mtu"])


def test_agent_restart_resumes_forwarding(topo, lab):
    a1, a3 = topo["a1"], topo["a3"]
    assert _all_flows_ok(topo)
    taps = {n: _tap(topo[n]) for n in ("a1", "a3")}
    addrs = {n: topo[n].addrs() for n in ("a1", "a3")}
    old_pid = (lab.dir / "agent-h1.pid").read_text().strip()
    lab.agent("h1", "restart")
    t0 = time.monotonic()
    assert (lab.dir / "agent-h1.pid").read_text().strip() != old_pid
    wait_until(lambda: _all_flows_ok(topo), 15, interval=0.1, what="forwarding after restart")
    took = time.monotonic() - t0
    print("h1 restart: all flows answered again after %.2fs" % took)
    assert took <= RESUME_WITHIN, "forwarding resumed only after %.1fs" % took
    # The same devices, still configured: the VMs noticed nothing but the gap.
    assert {n: _tap(topo[n]) for n in ("a1", "a3")} == taps
    assert {n: topo[n].addrs() for n in ("a1", "a3")} == addrs
    ports = lab.agent_status("h1")["dataplane"]["ports"]
    for vm in (a1, a3):
        assert ports[vm.id]["netns"] == "/run/netns/" + vm.ns, ports
        assert ports[vm.id]["device"] == vm.dev


def test_agent_stop_then_start(topo, lab):
    a1, a2 = topo["a1"], topo["a2"]
    tap = _tap(a2)
    lab.agent("h2", "stop")
    try:
        assert not a1.ping_ok(a2.ip, count=1, wait=1), "a2 answered with its agent stopped"
        assert _tap(a2) == tap, "the TAP must outlive its agent"
    finally:
        lab.agent("h2", "start")
    t0 = time.monotonic()
    wait_until(lambda: _all_flows_ok(topo), 15, interval=0.1, what="forwarding after start")
    took = time.monotonic() - t0
    print("h2 start: all flows answered again after %.2fs" % took)
    assert took <= RESUME_WITHIN, "forwarding resumed only after %.1fs" % took
    assert _tap(a2) == tap
    lab.wait_connected()
