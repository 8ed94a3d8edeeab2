r"""DHCP answered by the agents to real clients: ISC dhclient and busybox udhcpc.

  tenant T, network 10.0.0.0/16
                 main
                  |
            A 10.0.1.0/24 (gateway 10.0.1.1)
             |          |
            d1         u1
           (h1)       (h2)
        dhclient     udhcpc

  Each VM must get its port's address with a /24 mask, a default route via the gateway and
  the overlay MTU (1450 with VXLAN over an IPv4 substrate).
"""

import os

import pytest

LAB_HOSTS = 2
MTU = 1450


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    d1 = lab.vm(lab.port(sa, "h1"), "d1", dhcp="dhclient")
    u1 = lab.vm(lab.port(sa, "h2"), "u1", dhcp="udhcpc")
    return {"d1": d1, "u1": u1, "gw": sa["gateway_ip"]}


def _check_ip_config(vm, gw):
    assert vm.addrs() == [(vm.ip, 24)], "address of %s: %s" % (vm, vm.addrs())
    defaults = [r for r in vm.routes() if r["dst"] == "default"]
    assert [(r.get("gateway"), r.get("dev")) for r in defaults] == [(gw, vm.dev)], vm.routes()
    assert vm.link()["mtu"] == MTU


def test_dhclient_gets_port_address_mask_router_mtu(topo, lab):
    d1, gw = topo["d1"], topo["gw"]
    _check_ip_config(d1, gw)
    lease = (lab.dir / "d1.leases").read_text()
    for line in ("fixed-address %s;" % d1.ip, "option subnet-mask 255.255.255.0;",
                 "option routers %s;" % gw, "option dhcp-server-identifier %s;" % gw,
                 "option interface-mtu %d;" % MTU):
        assert line in lease, "%r not in the dhclient lease:\n%s" % (line, lease)


def test_udhcpc_gets_port_address_mask_router_mtu(topo, tmp_path):
    u1, gw = topo["u1"], topo["gw"]
    _check_ip_config(u1, gw)
    # Ask again with a script that records what udhcpc was told (and changes nothing).
    script = tmp_path / "dump.sh"
    script.write_text('#!/bin/sh\nenv > "%s/env.$1"\n' % tmp_path)
    os.chmod(script, 0o755)
    r = u1.sh("udhcpc", "-q", "-n", "-f", "-i", u1.dev, "-t", "5", "-T", "1", "-O", "mtu",
              "-s", str(script), timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    env = dict(line.split("=", 1) for line in (tmp_path / "env.bound").read_text().splitlines()
               if "=" in line)
    assert env.get("ip") == u1.ip, env
    assert env.get("subnet") == "255.255.255.0", env
    assert env.get("mask") == "24", env
    assert env.get("router") == gw, env
    assert env.get("serverid") == gw, env
    assert env.get("mtu") == str(MTU), env


def test_configured_vms_reach_each_other_and_the_gateway(topo):
    d1, u1, gw = topo["d1"], topo["u1"], topo["gw"]
    assert d1.ping_ok(u1.ip, count=2)
    assert u1.ping_ok(d1.ip, count=2)
    assert d1.ping_ok(gw) and u1.ping_ok(gw)
