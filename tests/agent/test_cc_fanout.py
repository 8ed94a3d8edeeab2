r"""One change, many agents in the same place: the delta is encoded from the store once and
the same bytes go to every agent that acknowledged the same revision and holds the same
networks (veneerd's metric veneer_cc_batches_total{how="computed"|"shared"}); each agent's
view is still exactly what the API says, including an agent in another place.

  admin --PATCH--> veneerd --one delta, sent 5 times--> h1 .. h5 (a port each in net A)
                           \--its own delta----------> h6 (net A and net B)
"""

import agentkit as ak

SHARED = 'veneer_cc_batches_total{how="shared"}'
COMPUTED = 'veneer_cc_batches_total{how="computed"}'


def test_agents_in_one_place_share_one_batch(cluster):
    b, v = cluster.b, cluster.veneerd
    t = b.tenant()
    na, nb = b.network(t["id"], "10.0.0.0/16"), b.network(t["id"], "10.1.0.0/16")
    sa, sb = b.subnet(na["id"], "10.0.1.0/24"), b.subnet(nb["id"], "10.1.1.0/24")
    same = [cluster.agent("h%d" % i) for i in range(1, 6)]
    other = cluster.agent("h6")
    ports = [b.port(sa["id"], host=a.host) for a in same + [other]]
    b.port(sb["id"], host=other.host)
    for a in same + [other]:
        ak.wait_view(v, a)

    for n, p in enumerate(ports[:2]):
        for a in same + [other]:  # every session idle at the same acknowledged revision
            ak.wait_applied(v, a.host, v.revision())
        shared, computed = ak.metric(v, SHARED), ak.metric(v, COMPUTED)
        b.patch("/v1/ports/" + p["id"], {"claimable": ["10.0.1.%d/32" % (100 + n)]})
        for a in same + [other]:
            dump, _ = ak.wait_view(v, a)
            assert dump["state"]["ports"][p["id"]]["claimable"] == ["10.0.1.%d/32" % (100 + n)]
        # h1..h5: one encoded, four sent again; h6 holds another set of networks: its own.
        assert ak.metric(v, COMPUTED) - computed == 2, (computed, ak.metric(v, COMPUTED))
        assert ak.metric(v, SHARED) - shared == 4
