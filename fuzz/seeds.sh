#!/usr/bin/env bash
# fuzz/seeds.sh check|update SEEDGEN GUEST_DIR CORPUS_DIR
#   check:  regenerates the seeds into a temporary directory and compares them with the seed-*
#           files under CORPUS_DIR (the seeds-match test); other files (regress-*, finds named by
#           SHA-1) are left alone.
#   update: rewrites CORPUS_DIR/<target>/seed-* from the generator (stale seed-* files removed).
set -euo pipefail

if [[ $# -ne 4 || ( "$1" != check && "$1" != update ) ]]; then
	echo "usage: fuzz/seeds.sh check|update SEEDGEN GUEST_DIR CORPUS_DIR" >&2
	exit 2
fi
mode="$1" seedgen="$2" guest_dir="$3" corpus="$4"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$seedgen" "$tmp/gen" --guest-dir "$guest_dir" >/dev/null

list_seeds() { (cd "$1" 2>/dev/null && find . -type f -name 'seed-*' | LC_ALL=C sort) || true; }

if [[ "$mode" == update ]]; then
	for dir in "$tmp/gen"/*/; do
		target="$(basename "$dir")"
		mkdir -p "$corpus/$target"
		find "$corpus/$target" -maxdepth 1 -type f -name 'seed-*' -delete
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
