r"""BGP across restarts: a restarting appliance (graceful restart helper), routerd, veneerd.

  tenant T, network 10.0.0.0/16, router main (AS 64512)
        A 10.0.1.0/24
        |        |          |
       a1       gr          nogr
      (h1)     (h2)         (h1)
               BIRD, RFC 4724 on     BIRD, no graceful restart
               10.70.0.0/24,         10.72.0.0/24
               10.71.0.0/24

  gr is killed (no NOTIFICATION: its TCP connection just closes): its routes stay installed
  and traffic keeps flowing while it restarts; it comes back announcing 10.70.0.0/24 only,
  and after its End-of-RIB 10.71.0.0/24 is gone. nogr killed the same way loses its route at
  once. Then routerd and veneerd restart: sessions come back, the installed routes are what
  the sessions announce, nothing stale remains. Last, both announce the virtual IP
  10.0.1.100/32 (claimable by gr and nogr): gr, the later, holds it; gr withdraws it while
  veneerd is stopped, and the restarted veneerd hears routerd's claims again and gives the
  address to nogr, the claimant that remains.
"""

import os
import signal
import time

import pytest

from peers import Bird
from topolab import wait_until

LAB_HOSTS = 2
ASN = 64512
GW = "10.0.1.1"
VIP = "10.0.1.100"


def installed(lab, router):
    items = lab.api.get("/v1/routers/%s/routes" % router)["items"]
    return sorted(r["destination"] for r in items if r["origin"] == "bgp" and r["selected"])


def kill9(daemon):
    """The daemon dies without a word: no NOTIFICATION, the kernel closes its socket."""
    for p in daemon.procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(5)


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    vms = {"a1": lab.vm(lab.port(sa, "h1"), "a1")}
    for name, host in (("gr", "h2"), ("nogr", "h1")):
        vms[name] = lab.vm(lab.port(sa, host, routing=True, source_dest_check=False,
                                    claimable=[VIP + "/32"]), name)
    for addr in ("10.70.0.1", "10.71.0.1"):
        vms["gr"].sh("ip", "addr", "add", addr + "/32", "dev", "lo", check=True)
    vms["nogr"].sh("ip", "addr", "add", "10.72.0.1/32", "dev", "lo", check=True)
    daemons = {
        "gr": Bird(vms["gr"].ns, lab.peer_dir("gr"), vms["gr"].ip, 65021,
                   neighbors=[{"ip": GW, "asn": ASN, "graceful_restart": True}],
                   announce=["10.70.0.0/24", "10.71.0.0/24"]),
        "nogr": Bird(vms["nogr"].ns, lab.peer_dir("nogr"), vms["nogr"].ip, 65022,
                     neighbors=[{"ip": GW, "asn": ASN}], announce=["10.72.0.0/24"]),
    }
    try:
        for d in daemons.values():
            d.start()
        yield {"net": net, "router": net["main_router"], "vms": vms, "daemons": daemons}
    finally:
        for d in daemons.values():
            d.stop()


ALL = ["10.70.0.0/24", "10.71.0.0/24", "10.72.0.0/24"]


def test_all_learned(topo, lab):
    for d in topo["daemons"].values():
        d.wait_established(GW, timeout=60)
    wait_until(lambda: installed(lab, topo["router"]) == ALL, 30, what="all three routes")


def test_graceful_restart_keeps_forwarding(topo, lab):
    gr, a1 = topo["daemons"]["gr"], topo["vms"]["a1"]
    assert a1.ping_ok("10.71.0.1", count=1, wait=2)
    kill9(gr)
    port = topo["vms"]["gr"].id
    wait_until(lambda: [s["state"] for s in lab.api.get(
        "/v1/routers/%s/bgp" % topo["router"])["sessions"] if s["port"] == port] !=
        ["established"], 20, what="routerd to see the connection gone")
    # The restarting peer's routes stay, and so does the traffic, for its restart time.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert installed(lab, topo["router"]) == ALL
        assert a1.ping_ok("10.71.0.1", count=1, wait=2)
    # Back, announcing one of the two: after its End-of-RIB the other is swept.
    gr.stop()
    gr.routes.pop("10.71.0.0/24")
    gr.start()
    gr.wait_established(GW, timeout=60)
    wait_until(lambda: installed(lab, topo["router"]) == ["10.70.0.0/24", "10.72.0.0/24"],
               30, what="the route not announced again to be withdrawn at End-of-RIB")


def test_without_graceful_restart_routes_go_at_once(topo, lab):
    kill9(topo["daemons"]["nogr"])
    wait_until(lambda: "10.72.0.0/24" not in installed(lab, topo["router"]), 10,
               what="nogr's route withdrawn when its connection closed")
    topo["daemons"]["nogr"].stop()
    topo["daemons"]["nogr"].start()
    topo["daemons"]["nogr"].wait_established(GW, timeout=60)
    wait_until(lambda: installed(lab, topo["router"]) == ["10.70.0.0/24", "10.72.0.0/24"],
               30, what="nogr's route back")


def test_routerd_restart(topo, lab):
    """routerd goes away and comes back: the appliances reconnect (their connect retry is
    5 s) and the table is rebuilt from what they announce; nothing stale is left."""
    before = installed(lab, topo["router"])
    lab.tool("routerd", "restart")
    for d in topo["daemons"].values():
        wait_until(lambda: not d.established(GW), 30, what="the session to drop")
    for d in topo["daemons"].values():
        d.wait_established(GW, timeout=60)
    wait_until(lambda: installed(lab, topo["router"]) == before, 30,
               what="the same routes after routerd restarted")
    assert topo["vms"]["a1"].ping_ok("10.70.0.1", count=1, wait=2)


def test_veneerd_restart_keeps_learned_routes(topo, lab):
    before = installed(lab, topo["router"])
    argv = lab.veneerd_stop()
    # Forwarding does not need veneerd (static stability).
    assert topo["vms"]["a1"].ping_ok("10.72.0.1", count=1, wait=2)
    lab.veneerd_start(argv)
    assert installed(lab, topo["router"]) == before
    wait_until(lambda: all(s["state"] == "established" for s in lab.api.get(
        "/v1/routers/%s/bgp" % topo["router"])["sessions"]), 30,
        what="routerd to report its sessions to the restarted veneerd")


def vip_holders(lab, topo):
    return [n for n in ("gr", "nogr")
            if VIP in lab.api.get("/v1/ports/" + topo["vms"][n].id)["vips"]]


def test_bgp_claims_follow_a_withdrawal_made_while_veneerd_was_away(topo, lab):
    gr, nogr = topo["daemons"]["gr"], topo["daemons"]["nogr"]
    nogr.announce(VIP + "/32")
    wait_until(lambda: vip_holders(lab, topo) == ["nogr"], 30, what="nogr to hold the VIP")
    gr.announce(VIP + "/32")
    wait_until(lambda: vip_holders(lab, topo) == ["gr"], 30,
               what="gr, the most recent announcer, to hold the VIP")
    updates = rd_session(lab, topo["vms"]["gr"].id)["updates_in"]
    argv = lab.veneerd_stop()
    gr.withdraw(VIP + "/32")
    wait_until(lambda: rd_session(lab, topo["vms"]["gr"].id)["updates_in"] > updates, 20,
               what="routerd to receive gr's withdrawal while veneerd is stopped")
    lab.veneerd_start(argv)
    # routerd registers again, re-sends nogr's claim (which moves nothing) and then says it
    # has sent them all: gr's claim, not re-sent, is withdrawn and nogr holds the address.
    wait_until(lambda: vip_holders(lab, topo) == ["nogr"], 30,
               what="the VIP to go to the remaining claimant after veneerd restarted")
    hist = lab.api.get("/v1/claims?ip=%s&limit=1000" % VIP)["items"]
    assert [(h["result"], h["reason"]) for h in hist][-2:] == [
        ("released", "withdrawn by bgp"), ("applied", "next bgp claimant")], hist[-3:]
    nogr.withdraw(VIP + "/32")
    wait_until(lambda: vip_holders(lab, topo) == [], 30, what="nobody to hold the VIP")



def rd_session(lab, port_id):
    """routerd's own view of port_id's session (its control socket, `status`)."""
    return next(x for x in lab.agent_ctl("rd", "status")["sessions"] if x["port"] == port_id)
