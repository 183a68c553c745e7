#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/replay.sh REPRO CORPUS_DIR: the replay-<target> test. Runs the reproducer over the corpus
# twice; fails if an input is not handled (crash, sanitizer report) or the two runs differ.
# Exit 77 from the reproducer (a KVM target without /dev/kvm) is passed on as "skipped".
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: harness/scripts/replay.sh REPRO CORPUS_DIR" >&2
	exit 2
fi
repro="$1"
corpus="$2"

if [[ ! -d "$corpus" ]] || [[ -z "$(ls -A "$corpus")" ]]; then
	echo "replay: corpus directory $corpus is missing or empty" >&2
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for run in 1 2; do
	rc=0
	"$repro" "$corpus" >"$tmp/out$run" 2>"$tmp/err$run" || rc=$?
	if [[ $rc -eq 77 ]]; then
		echo "replay: skipped (the reproducer exited 77: /dev/kvm cannot be opened)"
		exit 77
	fi
	if [[ $rc -ne 0 ]]; then
		echo "replay: run $run of $(basename "$repro") over $corpus exited $rc; last input and report:" >&2
		awk '/^== /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$tmp/out$run" >&2
		cat "$tmp/err$run" >&2
		exit 1
	fi
done

if ! diff -u "$tmp/out1" "$tmp/out2" >"$tmp/diff"; then
	echo "replay: the two runs over $corpus differ (an outcome depends on earlier inputs or on chance):" >&2
	head -n 60 "$tmp/diff" >&2
	exit 1
fi

inputs="$(grep -c '^== ' "$tmp/out1" || true)"
echo "replay: $inputs inputs, identical outcomes in two runs; outcome classes:"
grep '^outcome: ' "$tmp/out1" | sort | uniq -c | sort -rn
