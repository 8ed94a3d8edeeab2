"""test_keepalived.py on an embed6 lab: the same keepalived failover, with the VRRP adverts,
the gratuitous ARPs and the probes translated to IPv6 between hosts (no encapsulation), and
the same BGP /32 failover, BIRD's sessions reaching veneer-routerd as VXLAN over the IPv6
substrate (docs/architecture.md, "The routing manager")."""

from test_keepalived import *  # noqa: F401,F403 - the same tests and fixtures

LAB_HOSTS = 3
LAB_ENCAP = "embed6"
