#!/usr/bin/env bash
# The demo: veneerd on a temporary store, two tenants that both use 10.0.0.0/16, each with
# a network, routers, subnets and ports, created through veneerctl and printed side by side.
# usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
veneerd="$build/src/veneerd/veneerd"
ctl="$build/src/ctl/veneerctl"

work=$(mktemp -d /tmp/veneer-demo.XXXXXX)
vpid=
cleanup() {
	[ -n "$vpid" ] && kill "$vpid" 2>/dev/null && wait "$vpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port: ask the kernel for one.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export VENEER_URL="http://127.0.0.1:$port"
"$veneerd" --store "$work/veneer.db" --listen "127.0.0.1:$port" --admin-token "$admin" \
	2>"$work/veneerd.log" &
vpid=$!
for _ in $(seq 100); do
	"$ctl" health >/dev/null 2>&1 && break
	sleep 0.1
done
"$ctl" health >/dev/null

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "veneerd is up at $VENEER_URL (store $work/veneer.db)"
export VENEER_TOKEN=$admin
run "$ctl" host create --name h1 --address 192.0.2.1
run "$ctl" host create --name h2 --address 192.0.2.2

declare -A tok nets
for t in acme globex; do
	say "tenant $t"
	tid=$("$ctl" -o id tenant create --name "$t")
	tok[$t]=$("$ctl" -o id token create --tenant "$tid" --name demo)
	echo "tenant $t = $tid, token created (shown once)"
done

for t in acme globex; do
	export VENEER_TOKEN=${tok[$t]}
	say "as tenant $t: the same 10.0.0.0/16, two routers in a chain, two subnets, ports"
	net=$("$ctl" -o id network create --name prod --cidr 10.0.0.0/16)
	nets[$t]=$net
	main=$("$ctl" -o json network show "$net" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["main_router"])')
	edge=$("$ctl" -o id router create --network "$net" --name edge)
	"$ctl" -o id link create --a "$main" --b "$edge" >/dev/null
	web=$("$ctl" -o id subnet create --network "$net" --cidr 10.0.1.0/24 --name web)
	db=$("$ctl" -o id subnet create --network "$net" --cidr 10.0.2.0/24 --name db --router "$edge")
	"$ctl" -o id port create --subnet "$web" --host h1 --name web1 >/dev/null
	"$ctl" -o id port create --subnet "$web" --host h2 --name web2 >/dev/null
	"$ctl" -o id port create --subnet "$db" --host h2 --name db1 --ip 10.0.2.10 >/dev/null
	run "$ctl" network list
	run "$ctl" subnet list
	run "$ctl" port list
	run "$ctl" router routes "$main"
done

export VENEER_TOKEN=$admin
say "the admin's view: both tenants' networks, same CIDR, different VNIDs"
run "$ctl" network list
say "isolation: acme's token cannot see globex's network"
export VENEER_TOKEN=${tok[acme]}
set +e
run "$ctl" network show "${nets[globex]}"
rc=$?
set -e
echo "(exit code $rc: 4 means not found, exactly as for an id that does not exist)"
[ "$rc" -eq 4 ]
say "demo done; veneerd stopped, temporary store removed"
