"""test_vip.py on an embed6 lab: the same claims and floods, the floods crossing the
substrate as one translated IPv6 packet per receiving port (the address names the port),
with hop limit 255 and the packet's own TTL in the flow label, so that a VRRP advert still
arrives with TTL 255 after the substrate router's hop."""

from test_vip import *  # noqa: F401,F403 - the same tests and fixtures

LAB_HOSTS = 2
LAB_ENCAP = "embed6"
LAB_SUBSTRATE = "ipv6"
