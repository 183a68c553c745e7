#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/seeds.sh check|update SEEDGEN GUEST_DIR CORPUS_DIR
#   check:  regenerates the seeds into a temporary directory and compares them with the seed-*
#           files under CORPUS_DIR (the seeds-match test); other files (regress-*, finds named by
#           SHA-1) are left alone.
#   update: rewrites CORPUS_DIR/<target>/seed-* from the generator (stale seed-* files removed).
# seed-kvm-* files (real snapshots the generator takes on KVM) are only generated where /dev/kvm
# can be opened; elsewhere the generator says "kvm seeds: skipped", and then check leaves the
# committed seed-kvm-* files out of the comparison and update keeps them as they are.
# NUB_SEEDS_SKIP_KVM=1 does the same on a KVM host (e.g. one whose vCPU state after a guest's init
# differs from the host that generated the committed snapshots).
set -euo pipefail

if [[ $# -ne 4 || ( "$1" != check && "$1" != update ) ]]; then
	echo "usage: harness/scripts/seeds.sh check|update SEEDGEN GUEST_DIR CORPUS_DIR" >&2
	exit 2
fi
mode="$1" seedgen="$2" guest_dir="$3" corpus="$4"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
no_kvm=()
[[ "${NUB_SEEDS_SKIP_KVM:-}" == 1 ]] && no_kvm=(--no-kvm)
"$seedgen" "$tmp/gen" --guest-dir "$guest_dir" "${no_kvm[@]}" >"$tmp/seedgen.out"
kvm_seeds=1
if ! grep -q '^nub-seedgen: kvm seeds: generated' "$tmp/seedgen.out"; then
	kvm_seeds=0
	why="$(sed -n 's/^nub-seedgen: kvm seeds: skipped: //p' "$tmp/seedgen.out")"
	echo "seeds: no seed-kvm-* files generated (${why:-?}): the committed ones are not compared" \
		"(or rewritten); run where /dev/kvm opens to check them"
fi

list_seeds() {
	(cd "$1" 2>/dev/null && find . -type f -name 'seed-*' |
		if [[ $kvm_seeds -eq 1 ]]; then cat; else grep -v '/seed-kvm-' || true; fi |
		LC_ALL=C sort) || true
}

if [[ "$mode" == update ]]; then
	for dir in "$tmp/gen"/*/; do
		target="$(basename "$dir")"
		mkdir -p "$corpus/$target"
		if [[ $kvm_seeds -eq 1 ]]; then
			find "$corpus/$target" -maxdepth 1 -type f -name 'seed-*' -delete
		else
			find "$corpus/$target" -maxdepth 1 -type f -name 'seed-*' ! -name 'seed-kvm-*' -delete
		fi
		cp "$dir"seed-* "$corpus/$target/"
	done
	echo "seeds: $(list_seeds "$tmp/gen" | wc -l) seeds written under $corpus"
	exit 0
fi

list_seeds "$tmp/gen" >"$tmp/generated"
list_seeds "$corpus" >"$tmp/committed"
status=0
if ! diff -u "$tmp/committed" "$tmp/generated" >"$tmp/names"; then
	echo "seeds-match: the seed files differ from what the generator writes (- committed, + generated):" >&2
	grep -E '^[-+]\./' "$tmp/names" >&2 || true
	status=1
fi
while read -r f; do
	if [[ -f "$corpus/$f" ]] && ! cmp -s "$tmp/gen/$f" "$corpus/$f"; then
		echo "seeds-match: ${f#./} is stale (content differs from the generator's)" >&2
		status=1
	fi
done <"$tmp/generated"
if [[ $status -ne 0 ]]; then
	echo "seeds-match: regenerate with: cmake --build <build-dir> --target fuzz-seeds (then commit corpus/)" >&2
	exit 1
fi
echo "seeds-match: $(wc -l <"$tmp/generated") seeds match corpus/"
