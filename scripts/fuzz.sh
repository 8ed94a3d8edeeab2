#!/usr/bin/env bash
# Runs each libFuzzer target for a while on a copy of its corpus; new findings are left in
# the copy's directory for a human to review and add to tests/fuzz/corpus.
# usage: scripts/fuzz.sh FUZZ_BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
secs=${2:-60}
for corpus in tests/fuzz/corpus/*/; do
	name=$(basename "$corpus")
	work=$(mktemp -d "/tmp/veneer-fuzz-$name.XXXXXX")
	cp -r "$corpus". "$work/"
	echo "fuzzing $name for ${secs}s (corpus copy in $work)"
	"$build/tests/fuzz/fuzz_$name" -max_total_time="$secs" -max_len=4096 \
		-artifact_prefix="$work/" "$work"
done
