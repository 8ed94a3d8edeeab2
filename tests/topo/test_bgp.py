r"""BGP with the virtual router: BIRD 2, FRR and GoBGP as tenant appliances.

  tenant T, network 10.0.0.0/16, router main (AS 64512)
        A 10.0.1.0/24                 B 10.0.2.0/24
        |      |      |               |        |
       a1    bird   plain            frr     gobgp
      (h1)   (h2)   (h1)             (h1)     (h2)
              routing: bird, frr, gobgp (source_dest_check off); plain has no routing

  Each appliance peers with its subnet's gateway (10.0.1.1 or 10.0.2.1): the agent carries
  its BGP packets over the substrate to veneer-routerd, which answers as the router. Each
  announces a prefix it holds on its loopback (10.5X.0.0/24); the router installs it with
  the appliance's port as next hop, so a1 reaches 10.5X.0.1 through the appliance, and each
  appliance receives the network's subnets from AS 64512 with the gateway as next hop.
  `plain` (no routing) gets no session at all: its SYNs are dropped and counted.
"""

import pytest

from peers import Bird, Frr, Gobgp, RawBgp
from topolab import wait_until

LAB_HOSTS = 2
ASN = 64512


def _appliance(lab, subnet, host, name):
    port = lab.port(subnet, host, routing=True, source_dest_check=False)
    return lab.vm(port, name)


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    vms = {
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "plain": lab.vm(lab.port(sa, "h1"), "plain"),
        "bird": _appliance(lab, sa, "h2", "bird"),
        "frr": _appliance(lab, sb, "h1", "frr"),
        "gobgp": _appliance(lab, sb, "h2", "gobgp"),
    }
    daemons = {}
    specs = {"bird": (Bird, 65001, "10.51.0", "10.0.1.1"),
             "frr": (Frr, 65002, "10.52.0", "10.0.2.1"),
             "gobgp": (Gobgp, 65003, "10.53.0", "10.0.2.1")}
    try:
        for name, (cls, asn, pfx, gw) in specs.items():
            vm = vms[name]
            vm.sh("ip", "addr", "add", pfx + ".1/32", "dev", "lo", check=True)
            vm.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", check=True)
            d = cls(vm.ns, lab.peer_dir(name), vm.port["ip"], asn,
                    neighbors=[{"ip": gw, "asn": ASN}], announce=[pfx + ".0/24"])
            d.start()
            daemons[name] = d
        yield {"net": net, "vms": vms, "daemons": daemons, "specs": specs,
               "router": net["main_router"], "sa": sa, "sb": sb}
    finally:
        for d in daemons.values():
            d.stop()


@pytest.mark.parametrize("name", ["bird", "frr", "gobgp"])
def test_session_established_with_the_gateway(topo, lab, name):
    d = topo["daemons"][name]
    gw = topo["specs"][name][3]
    d.wait_established(gw, timeout=60)
    port = topo["vms"][name].port["id"]

    def up():
        s = [x for x in lab.api.get("/v1/routers/%s/bgp" % topo["router"])["sessions"]
             if x["port"] == port]
        return s and s[0]["state"] == "established" and s[0]["peer_asn"] == \
            topo["specs"][name][1]
    wait_until(up, 30, what="veneerd shows %s established" % name)


@pytest.mark.parametrize("name", ["bird", "frr", "gobgp"])
def test_learned_route_installed(topo, lab, name):
    pfx = topo["specs"][name][2] + ".0/24"
    port = topo["vms"][name].port

    def installed():
        items = lab.api.get("/v1/routers/%s/routes" % topo["router"])["items"]
        return [(r["origin"], r["target"], r["distance"], r["selected"]) for r in items
                if r["destination"] == pfx] == [("bgp", port["id"], 10, True)]
    wait_until(installed, 30, what="%s from %s in the effective table" % (pfx, name))
    learned = lab.api.get("/v1/routers/%s/bgp/routes?prefix=%s" % (topo["router"], pfx))
    mine = [r for r in learned["items"] if r["port"] == port["id"]]
    assert [(r["status"], r["selected"], r["nexthop"], r["as_path"]) for r in mine] == \
        [("accepted", True, port["ip"], [topo["specs"][name][1]])], learned
    # FRR and GoBGP pass learned routes on: what comes back through them carries our own
    # AS and is refused as a loop, never installed.
    for r in learned["items"]:
        if r["port"] != port["id"]:
            assert (r["status"], r["selected"]) == ("rejected", False), r
            assert r["reason"].startswith("AS path loop"), r


@pytest.mark.parametrize("name", ["bird", "frr", "gobgp"])
def test_appliance_receives_the_subnets(topo, name):
    d = topo["daemons"][name]
    gw = topo["specs"][name][3]

    def got():
        routes = d.received_routes()
        want = {}
        for p in ("10.0.1.0/24", "10.0.2.0/24"):
            paths = routes.get(p, [])
            want[p] = any(x["nexthop"] == gw and x["as_path"][:1] == [ASN] for x in paths)
        return all(want.values())
    wait_until(got, 30, what="%s to receive both subnets from the router" % name)


@pytest.mark.parametrize("name", ["bird", "frr", "gobgp"])
def test_traffic_follows_the_learned_route(topo, lab, name):
    target = topo["specs"][name][2] + ".1"
    a1 = topo["vms"]["a1"]
    wait_until(lambda: a1.ping_ok(target, count=1, wait=1), 30,
               what="a1 to reach %s through %s" % (target, name))


def test_port_without_routing_gets_no_session(topo, lab):
    plain = topo["vms"]["plain"]
    before = lab.drops("h1").get("bgp_refused", 0)
    raw = RawBgp(plain.ns, plain.port["ip"], "10.0.1.1")
    with pytest.raises((OSError, AssertionError)):
        raw.connect(timeout=3)
    raw.close()
    wait_until(lambda: lab.drops("h1").get("bgp_refused", 0) > before, 10,
               what="the refused SYN counted")
    sessions = lab.api.get("/v1/routers/%s/bgp" % topo["router"])["sessions"]
    assert plain.port["id"] not in [s["port"] for s in sessions]


def test_policy_change_applies_to_routes_already_received(topo, lab):
    """A new import policy gets every route its verdict again: routerd asks the peer for
    its routes (route refresh) rather than waiting for them to be announced again."""
    net, pfx = topo["net"], topo["specs"]["bird"][2] + ".0/24"
    port = topo["vms"]["bird"].port["id"]

    def status():
        items = lab.api.get("/v1/routers/%s/bgp/routes?prefix=%s&port=%s"
                            % (topo["router"], pfx, port))["items"]
        return [(r["status"], r["selected"], r["reason"]) for r in items]
    wait_until(lambda: status() == [("accepted", True, None)], 30, what="accepted first")
    since = [s["since"] for s in lab.api.get("/v1/routers/%s/bgp" % topo["router"])[
        "sessions"] if s["port"] == port]
    lab.api.patch("/v1/networks/" + net["id"], {"import_policy": {
        "deny": [{"prefix": "10.51.0.0/16", "le": 32}]}})
    wait_until(lambda: status() == [("rejected", False, "denied by import policy")], 30,
               what="the route refused under the new policy")
    assert not topo["vms"]["a1"].ping_ok(topo["specs"]["bird"][2] + ".1", count=1, wait=1)
    lab.api.patch("/v1/networks/" + net["id"], {"import_policy": None})
    wait_until(lambda: status() == [("accepted", True, None)], 30, what="accepted again")
    # The session was not restarted for it.
    assert since == [s["since"] for s in lab.api.get("/v1/routers/%s/bgp" % topo["router"])[
        "sessions"] if s["port"] == port]
