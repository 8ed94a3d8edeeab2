r"""Deleting a port through the API removes its TAP and every agent stops delivering to it.

  tenant T, network 10.0.0.0/16
                    main
                  /      \
       A 10.0.1.0/24      B 10.0.2.0/24
        |    |    |          |
       a1   a2   a3         b1
      (h1) (h2)  (h2)      (h1)
            ^ deleted

  After DELETE /v1/ports/<a2>: the TAP leaves a2's namespace, no agent's view holds the port,
  and a frame for a2's address (even to its old MAC) is refused at the sender's agent
  (no_host), whether that agent is on another host (a1, b1 routed) or on a2's host (a3):
  nothing of it reaches the substrate.
"""

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from topolab import ApiError, send_frames, wait_until

LAB_HOSTS = 2


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    return {
        "rmac": lab.api.get("/v1/routers/" + net["main_router"])["mac"],
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2"),
        "a3": lab.vm(lab.port(sa, "h2"), "a3"),
        "b1": lab.vm(lab.port(sb, "h1"), "b1"),
    }


def test_delete_port_removes_tap_and_delivery(topo, lab):
    a1, a2, a3, b1 = topo["a1"], topo["a2"], topo["a3"], topo["b1"]
    for x in (a1, a3, b1):
        assert x.ping_ok(a2.ip), "%s -> a2 before the deletion" % x.name
    assert a2.link() is not None

    lab.api.delete("/v1/ports/" + a2.id)
    with pytest.raises(ApiError) as e:
        lab.api.get("/v1/ports/" + a2.id)
    assert e.value.status == 404
    # The TAP leaves the VM, and every agent's view and data plane forget the port.
    wait_until(lambda: a2.link() is None, 10, what="a2's TAP gone from its namespace")
    for h in ("h1", "h2"):
        wait_until(lambda: a2.id not in lab.agent_state(h)["ports"], 10,
                   what="port gone from %s's view" % h)
        assert a2.id not in lab.agent_status(h)["dataplane"]["ports"]

    # Frames for a2's address, from each kind of sender, stop at the sender's agent.
    for sender, dst_mac in ((a1, a2.mac), (a3, a2.mac), (b1, topo["rmac"])):
        before = lab.agent_status(sender.host)["dataplane"]
        send_frames(sender, [Ether(src=sender.mac, dst=dst_mac) / IP(src=sender.ip, dst=a2.ip) /
                             ICMP() / Raw(b"to-deleted-port")])
        wait_until(lambda: lab.drops(sender.host)["no_host"] == before["drops"]["no_host"] + 1,
                   5, what="no_host counted at %s for %s" % (sender.host, sender.name))
        after = lab.agent_status(sender.host)["dataplane"]
        assert after["substrate_tx"] == before["substrate_tx"], \
            "%s's agent still sent something to the substrate" % sender.host
        assert not sender.ping_ok(a2.ip), "%s still gets answers from a2's address" % sender.name

    # The rest of the network is untouched.
    assert a1.ping_ok(a3.ip) and b1.ping_ok(a3.ip)
