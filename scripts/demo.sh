#!/usr/bin/env bash
# The demo: a lab in network namespaces (veneerd, two hosts running veneer-agent), two
# tenants that both use 10.0.0.0/16, VMs on different hosts and subnets configured by real
# DHCP clients, ping across hosts, traceroute through two virtual routers, and the proof
# that the tenants never see each other. The lab stays up to explore; `make demo-down`.
# usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export VENEER_BUILD=$PWD/$build
lab=scripts/veneer-lab
ctl=$build/src/ctl/veneerctl
name=demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if [ -d /run/veneer-lab/$name ]; then
	say "an earlier demo is still up: taking it down first"
	$lab down --name $name
fi
say "a lab: veneerd in the root namespace, hosts h1 and h2 on a substrate bridge"
$lab up --name $name --hosts 2
# shellcheck disable=SC1091
. /run/veneer-lab/$name/env
admin=$VENEER_TOKEN

declare -A tok vm_ip
for t in acme globex; do
	export VENEER_TOKEN=$admin
	tid=$("$ctl" -o id tenant create --name "$t")
	tok[$t]=$("$ctl" -o id token create --tenant "$tid" --name demo)
	export VENEER_TOKEN=${tok[$t]}
	say "tenant $t: 10.0.0.0/16, routers main -- edge, subnets web (on main) and db (on edge)"
	net=$("$ctl" -o id network create --name prod --cidr 10.0.0.0/16)
	main=$("$ctl" -o json network show "$net" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["main_router"])')
	edge=$("$ctl" -o id router create --network "$net" --name edge)
	"$ctl" -o id link create --a "$main" --b "$edge" >/dev/null
	web=$("$ctl" -o id subnet create --network "$net" --cidr 10.0.1.0/24 --name web)
	db=$("$ctl" -o id subnet create --network "$net" --cidr 10.0.2.0/24 --name db --router "$edge")
	p1=$("$ctl" -o id port create --subnet "$web" --host h1 --name web1)
	p2=$("$ctl" -o id port create --subnet "$db" --host h2 --name db1)
	run "$ctl" port list
	run "$ctl" router routes "$main"
	$lab vm "${t}1" --port "$p1" --name $name --dhcp dhclient
	$lab vm "${t}2" --port "$p2" --name $name --dhcp udhcpc
done

export VENEER_TOKEN=$admin
say "the admin's view: two networks with the same CIDR, different VNIDs"
run "$ctl" network list
run "$ctl" host list

for t in acme globex; do
	say "tenant $t: web1 (h1, 10.0.1.2) pings db1 (h2, 10.0.2.2) across hosts and two routers"
	run $lab exec "${t}1" --name $name -- ping -c 3 -i 0.2 10.0.2.2
	say "tenant $t: traceroute shows both virtual routers"
	run $lab exec "${t}1" --name $name -- traceroute -n -q 1 -w 1 10.0.2.2
done

say "isolation: the same addresses, but globex's VMs see nothing of acme's traffic"
# Sniff for ICMP in acme's db1 (it must see the ping: the sniffer works) and in globex's db1,
# which holds the same address 10.0.2.2 on the same host (it must see nothing).
for v in acme2 globex2; do
	$lab exec $v --name $name -- timeout 5 tcpdump -n -l -i any icmp >/tmp/veneer-demo-$v 2>/dev/null &
done
sleep 1
$lab exec acme1 --name $name -- ping -c 5 -i 0.2 -q 10.0.2.2 | tail -2
wait
seen_acme=$(grep -c "ICMP echo request" /tmp/veneer-demo-acme2 || true)
seen_globex=$(grep -c "ICMP" /tmp/veneer-demo-globex2 || true)
rm -f /tmp/veneer-demo-acme2 /tmp/veneer-demo-globex2
echo "acme's db1 saw $seen_acme echo requests; globex's db1 (same address, same host) saw $seen_globex packets"
[ "$seen_acme" -ge 5 ] && [ "$seen_globex" -eq 0 ] || { echo "ISOLATION CHECK FAILED"; exit 1; }

say "acme's token cannot see globex's network (404, as for an id that does not exist)"
gnet=$(VENEER_TOKEN=${tok[globex]} "$ctl" -o id network list)
set +e
VENEER_TOKEN=${tok[acme]} "$ctl" network show "$gnet"
rc=$?
set -e
echo "(exit code $rc: 4 means not found)"
[ "$rc" -eq 4 ]

cat <<EOF

The lab stays up. Explore it:
  . /run/veneer-lab/$name/env               # admin token and URL for veneerctl
  $ctl network list
  $lab exec acme1 --name $name -- ping 10.0.2.2
  $lab agent h1 status --name $name         # the agent's view and drop counters
Take it down with:  make demo-down
EOF
