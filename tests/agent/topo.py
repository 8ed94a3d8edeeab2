r"""A two-tenant topology built through the API, used by the snapshot and reconnect tests.

  tenant A                                     tenant B
  net A1 10.0.0.0/16 + 172.16.0.0/24           net B1 10.0.0.0/16 (same CIDR as A1)
    main ---link--- r2 ---link--- r3             main ---link--- rb2
    |  sub 10.0.1.0/24   | sub 10.0.2.0/24        | sub 10.0.1.0/24 (same as A1's)
    |  p1 h1 (10.0.1.10, extra_ips, claimable,   |  b1 h2 10.0.1.10 (same IP as p1)
    |      sdc off, routing on, device)          |  b2 unbound
    |  p2 h2                  | p3 unbound        routes: main 0/0 -> b1 (port)
    routes: main 0/0 -> p1 (port)                        main 10.8/16 -> rb2 (router)
            main 10.9/16 -> r2 (router)
            r2 192.168/16 -> blackhole           net B2 10.0.0.0/16: ports only unbound
            r3 10.7/16 -> blackhole
  net A2 10.0.0.0/16: a port on h2 only        net B3 10.0.0.0/16: a port on h1

h1 must hold A1 and B3; h2 must hold A1, A2 and B1; a host with no port holds no network.
"""

import agentkit as ak


def build(b, h1, h2):
    t = {}
    ta, tb = b.tenant(), b.tenant()
    t["ta"], t["tb"] = ta, tb

    a1 = b.network(ta["id"], ["10.0.0.0/16", "172.16.0.0/24"])
    a1_main = ak.main_router(b.c, a1["id"])
    r2 = b.router(a1["id"], asn=65001)
    r3 = b.router(a1["id"], mac="02:00:00:00:aa:03")
    b.link(a1_main["id"], r2["id"])
    b.link(r2["id"], r3["id"])
    s1 = b.subnet(a1["id"], "10.0.1.0/24", name="front")
    s2 = b.subnet(a1["id"], "10.0.2.0/24", router=r2["id"])
    s3 = b.subnet(a1["id"], "172.16.0.0/26", router=r3["id"])
    p1 = b.port(s1["id"], host=h1, ip="10.0.1.10", extra_ips=["10.0.1.11", "10.0.1.12"],
                claimable=["10.0.200.0/24", "172.16.0.128/25"], source_dest_check=False,
                routing=True, device="tapfw0", name="fw")
    p2 = b.port(s1["id"], host=h2)
    p3 = b.port(s2["id"])
    b.port(s3["id"], host=h2)
    b.route(a1_main["id"], "0.0.0.0/0", p1["id"])
    b.route(a1_main["id"], "10.9.0.0/16", r2["id"])
    b.route(r2["id"], "192.168.0.0/16", "blackhole")
    b.route(r3["id"], "10.7.0.0/16", "blackhole")
    # ECMP: the same destination twice with different targets.
    b.route(r2["id"], "10.6.0.0/16", a1_main["id"])
    b.route(r2["id"], "10.6.0.0/16", r3["id"])

    a2 = b.network(ta["id"], "10.0.0.0/16")
    sa2 = b.subnet(a2["id"], "10.0.1.0/24")
    b.port(sa2["id"], host=h2, ip="10.0.1.10")

    b1 = b.network(tb["id"], "10.0.0.0/16")
    b1_main = ak.main_router(b.c, b1["id"])
    rb2 = b.router(b1["id"])
    b.link(b1_main["id"], rb2["id"])
    sb1 = b.subnet(b1["id"], "10.0.1.0/24")
    pb1 = b.port(sb1["id"], host=h2, ip="10.0.1.10", extra_ips=["10.0.1.11"])
    b.port(sb1["id"], ip="10.0.1.12")
    b.route(b1_main["id"], "0.0.0.0/0", pb1["id"])
    b.route(b1_main["id"], "10.8.0.0/16", rb2["id"])

    bb2 = b.network(tb["id"], "10.0.0.0/16")
    sbb2 = b.subnet(bb2["id"], "10.0.1.0/24")
    b.port(sbb2["id"], ip="10.0.1.10")

    b3 = b.network(tb["id"], "10.0.0.0/16")
    sb3 = b.subnet(b3["id"], "10.0.1.0/24")
    b.port(sb3["id"], host=h1, ip="10.0.1.10")

    t.update(a1=a1, a2=a2, b1=b1, b2=bb2, b3=b3, p1=p1, p2=p2, p3=p3, r2=r2, r3=r3,
             s1=s1, s2=s2, s3=s3, a1_main=a1_main, b1_main=b1_main, rb2=rb2, pb1=pb1)
    t["want_nets"] = {h1: {a1["id"], b3["id"]}, h2: {a1["id"], a2["id"], b1["id"]}}
    return t
