#!/usr/bin/env bash
# Installs the Debian packages Veneer needs to build, test and run its demo.
# Idempotent: installs only what is missing, and refreshes the package lists
# only when something has to be installed.
set -euo pipefail

PKGS=(
  # build
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev
  libcurl4-openssl-dev libmnl-dev
  # tests
  libcmocka-dev python3-pytest sqlite3
  # fault and delay injection into veneerd's fsync (tests/agent/test_cc_durability.py)
  strace
  # the lab and the topology tests: VMs in namespaces with real DHCP clients and tools
  iproute2 isc-dhcp-client udhcpc iputils-ping traceroute python3-scapy iperf3 procps tcpdump
  tshark
  # real routing daemons as tenant peers (tests/topo/peers.py) and BGP benchmark reference
  bird2 frr gobgpd exabgp
  # VRRP peers (tests/topo/test_keepalived*.py, bench/vip_failover.py)
  keepalived
  # benchmarks: the references they compare with
  tayga
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
