#!/usr/bin/env bash
# Runs every suite and ends with one "N passed, N failed" line; non-zero on any failure.
# usage: scripts/check.sh BUILD_DIR ASAN_BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
asan=${2:-build-asan}
passed=0
failed=0
failures=()

run() { # name, command...
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run "unit+fuzz-replay ($build)" meson test -C "$build" --print-errorlogs
run "unit+fuzz-replay ($asan, ASan+UBSan)" meson test -C "$asan" --print-errorlogs
run "api ($build)" env VENEERD="$build/src/veneerd/veneerd" VENEERCTL="$build/src/ctl/veneerctl" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/api
run "api ($asan, ASan+UBSan)" env VENEERD="$asan/src/veneerd/veneerd" \
	VENEERCTL="$asan/src/ctl/veneerctl" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/api
run "cli ($build)" env VENEERD="$build/src/veneerd/veneerd" VENEERCTL="$build/src/ctl/veneerctl" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cli
run "cli ($asan, ASan+UBSan)" env VENEERD="$asan/src/veneerd/veneerd" \
	VENEERCTL="$asan/src/ctl/veneerctl" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cli
for b in "$build" "$asan"; do
	run "agent control channel ($b)" env VENEERD="$b/src/veneerd/veneerd" \
		VENEER_AGENT="$b/src/agent/veneer-agent" VENEERCTL="$b/src/ctl/veneerctl" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/agent
	# Labs in network namespaces: VMs, real DHCP clients, scapy, iperf3.
	run "topology ($b)" env VENEER_BUILD="$PWD/$b" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/topo
done

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
