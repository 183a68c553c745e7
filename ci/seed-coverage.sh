#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Engine line coverage each fuzz target's committed seeds reach: for every corpus/<target>/, runs
# <target>-repro (coverage flavour) over it alone and prints gcovr's line figure for engine/src.
#   ci/seed-coverage.sh [BUILD_DIR]      (default build/coverage)
# Prints one "target | lines" row per target, for the README's fuzz table.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build="${1:-$repo/build/coverage}"

bash "$repo/ci/build.sh" coverage "$build" >/dev/null
for dir in "$repo/$nub_corpus_dir"/*/; do
	target="$(basename "$dir")"
	repro="$(fuzz_binary "$build" "$target" -repro)" || continue
	# Counters of earlier runs would add up: start every target from zero.
	find "$build" -name '*.gcda' -delete
	"$repro" "$dir" >/dev/null 2>&1 || true
	lines="$(gcovr --root "$repo" --filter "$repo/$nub_engine_src/" --print-summary "$build" \
		2>/dev/null | grep -E '^lines:' | head -n 1)"
	printf '%s | %s\n' "$target" "${lines#lines: }"
done
