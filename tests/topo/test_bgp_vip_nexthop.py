r"""A BGP route whose next hop is a virtual IP follows the address when it moves.

  tenant T, network 10.0.0.0/16, router main (AS 64512), subnet A 10.0.1.0/24
     c   (h1)  client
     fw1 (h1)  claimable 10.0.1.100/32, source/destination check off, 10.80.0.1 on lo
     fw2 (h2)  the same
     rs  (h2)  routing port, BIRD (AS 65030) announcing 10.80.0.0/24 via 10.0.1.100:
               a third-party next hop, the virtual IP of the fw1/fw2 pair

  The virtual IP is moved by the API (POST /v1/ports/{id}/claim). routerd resolves the next
  hop to the port holding the address; when the holder changes it judges the route again,
  so the installed route's next-hop port and c's traffic to 10.80.0.1 move with it.
"""

import pytest
from peers import Bird
from topolab import echoes_reach, wait_until

LAB_HOSTS = 2
ASN = 64512
GW = "10.0.1.1"
VIP = "10.0.1.100"
BEHIND = "10.80.0.0/24"
TARGET = "10.80.0.1"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    vms = {"c": lab.vm(lab.port(sa, "h1"), "c")}
    for name, host in (("fw1", "h1"), ("fw2", "h2")):
        v = lab.vm(lab.port(sa, host, claimable=[VIP + "/32"], source_dest_check=False), name)
        v.sh("ip", "addr", "add", TARGET + "/32", "dev", "lo", check=True)
        vms[name] = v
    vms["rs"] = lab.vm(lab.port(sa, "h2", routing=True), "rs")
    bird = Bird(vms["rs"].ns, lab.peer_dir("rs"), vms["rs"].ip, 65030,
                neighbors=[{"ip": GW, "asn": ASN}], announce=[(BEHIND, {"nexthop": VIP})])
    try:
        bird.start()
        yield {"net": net, "router": net["main_router"], "vms": vms, "bird": bird}
    finally:
        bird.stop()


def claim(lab, vm):
    lab.api.post("/v1/ports/%s/claim" % vm.id, {"ip": VIP})
    wait_until(lambda: VIP in lab.api.get("/v1/ports/" + vm.id)["vips"], 10,
               what="%s to hold %s" % (vm.name, VIP))


def route_nexthop_port(lab, topo):
    items = lab.api.get("/v1/routers/%s/bgp/routes" % topo["router"])["items"]
    got = [r for r in items if r["prefix"] == BEHIND]
    return got[0]["nexthop_port"] if got and got[0]["status"] == "accepted" else None


def reaches(topo, name):
    """c pings TARGET: the echo requests arrive at `name` and not at the other firewall."""
    vms = topo["vms"]
    return echoes_reach(vms["c"], TARGET, {n: vms[n] for n in ("fw1", "fw2")}, name)


def test_route_via_a_virtual_ip_follows_its_holder(topo, lab):
    vms = topo["vms"]
    claim(lab, vms["fw1"])
    topo["bird"].wait_established(GW, timeout=60)
    wait_until(lambda: route_nexthop_port(lab, topo) == vms["fw1"].id, 30,
               what="10.80.0.0/24 installed via fw1, the holder of its next hop")
    wait_until(lambda: reaches(topo, "fw1"), 20, what="traffic to 10.80.0.1 at fw1")
    # The address moves: the same route, unchanged in BGP, now goes to fw2.
    claim(lab, vms["fw2"])
    wait_until(lambda: route_nexthop_port(lab, topo) == vms["fw2"].id, 30,
               what="the route to follow the virtual IP to fw2")
    wait_until(lambda: reaches(topo, "fw2"), 20, what="traffic to 10.80.0.1 at fw2")
    # And back.
    claim(lab, vms["fw1"])
    wait_until(lambda: route_nexthop_port(lab, topo) == vms["fw1"].id, 30,
               what="the route back at fw1")
    wait_until(lambda: reaches(topo, "fw1"), 20, what="traffic back at fw1")
