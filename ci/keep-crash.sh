#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Turns a (minimised) crash into a regression input of the committed corpus:
#   ci/keep-crash.sh FILE --target T --name WHAT [--build-dir DIR] [--no-build] [--corpus DIR]
# copies FILE to corpus/<target>/regress-WHAT (never over an existing file), which the replay
# ctest replay-<target> then runs in every flavour. That ctest requires the reproducer to handle
# every corpus input (exit 0), so a kept crash belongs in the commit that fixes its bug: the
# command replays FILE with ci/repro.sh (the ASan reproducer in build/asan, or --build-dir DIR)
# and says whether it still crashes there. When FILE lies in a findings store
# (build/campaign/<target>/findings/<hash>/, beside signature.txt), a crash must have that
# signature: another one is refused (it is not this finding).
# Exit status: 0 kept (with a warning when it still crashes); 1 refused: regress-WHAT exists, or
# FILE crashes with another signature than its finding's; 2 usage; 3 setup error: FILE is not a
# regular file, ci/repro.sh reported a setup error or ran nothing (FILE over the target's size
# limit: the replay would skip it too).
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ci/keep-crash.sh FILE --target T --name WHAT [--build-dir DIR] [--no-build]" \
		"[--corpus DIR] (--help: more)" >&2
	exit 2
}

help() {
	cat <<'HELP'
usage: ci/keep-crash.sh FILE --target T --name WHAT [--build-dir DIR] [--no-build] [--corpus DIR]
Copies the crash input FILE (e.g. build/campaign/<target>/findings/<hash>/minimized) to
corpus/<target>/regress-WHAT, the regression inputs the ctest replay-<target> runs, and prints
what to commit. The replay requires every corpus input to be handled (exit 0), so commit a kept
crash with the fix of its bug: FILE is replayed first (ci/repro.sh) and a warning says when it
still crashes with the current build.
  --target T       the fuzz target (fuzz_wire or wire)
  --name WHAT      the regression's name: 1 to 64 of a-z 0-9 -
  --build-dir DIR  the reproducer's build tree (default build/asan)
  --no-build       do not build the reproducer first
  --corpus DIR     where regress-WHAT goes (default corpus/<target>)
A FILE in a findings store (beside its signature.txt) that crashes must crash with that
signature; another signature is refused.
Exit status:
  0  kept (a warning says when it still crashes)
  1  refused: regress-WHAT exists, or FILE crashes with a signature other than its finding's
  2  usage
  3  setup error: FILE is not a regular file, ci/repro.sh failed to set up, or nothing ran
     (FILE is over the target's size limit)
HELP
	exit 0
}

file="" target="" name="" build_dir="" build=1 dest_dir=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	--target | --name | --build-dir | --corpus)
		[[ $# -ge 2 && -n "$2" ]] || die_usage "$1 needs a value (see --help)"
		case "$1" in
		--target) target="$2" ;;
		--name) name="$2" ;;
		--build-dir) build_dir="$2" ;;
		--corpus) dest_dir="$2" ;;
		esac
		shift 2
		;;
	--no-build)
		build=0
		shift
		;;
	-h | --help) help ;;
	-*) die_usage "unknown option '$1' (see --help)" ;;
	*)
		[[ -z "$file" ]] || die_usage "one FILE only: '$file' and '$1'"
		file="$1"
		shift
		;;
	esac
done
[[ -n "$file" && -n "$target" && -n "$name" ]] || usage
[[ "$name" =~ ^[a-z0-9-]{1,64}$ ]] ||
	die_usage "--name takes 1 to 64 of a-z 0-9 - (it becomes regress-WHAT), not '$name'"
[[ "$target" == fuzz_* ]] || target="fuzz_$target"
if ! fuzz_target_source "$target" >/dev/null; then
	warn "no fuzz target '$target'; the targets are:"
	fuzz_targets | awk '{ printf "  %s (%s)\n", $1, $2 }' >&2
	exit 2
fi
[[ -e "$file" || -L "$file" ]] || die_usage "$file does not exist"
if [[ ! -f "$file" ]]; then
	warn "setup error: $file is not a regular file"
	exit 3
fi
dest_dir="${dest_dir:-$repo/$nub_corpus_dir/$target}"
[[ -d "$dest_dir" ]] || die_usage "--corpus $dest_dir is not a directory"
dest="$dest_dir/regress-$name"
if [[ -e "$dest" || -L "$dest" ]]; then
	warn "refused: $dest exists (choose another --name)"
	exit 1
fi

# The finding's own signature, when FILE is in a findings store.
want=""
[[ ! -f "$(dirname "$file")/signature.txt" ]] || want="$(head -n 1 "$(dirname "$file")/signature.txt")"

args=(--target "$target")
[[ -z "$build_dir" ]] || args+=(--build-dir "$build_dir")
[[ $build -eq 1 ]] || args+=(--no-build)
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
bash "$repo/ci/repro.sh" "$file" "${args[@]}" >"$out" 2>&1 || rc=$?
sig="$(sed -n 's/^signature: //p' "$out" | tail -n 1)"
where="${build_dir:-build/asan}"
case "$rc" in
0)
	log "handled by the reproducer in $where (exit 0): it no longer crashes there"
	;;
1)
	if [[ -n "$want" && "$sig" != "$want" ]]; then
		warn "refused: $file crashes with '$sig', not its finding's '$want'"
		exit 1
	fi
	warn "WARNING: it still crashes with the reproducer in $where: $sig"
	warn "WARNING: replay-$target fails on it until the bug is fixed; commit it with the fix"
	;;
*)
	cat "$out" >&2
	warn "setup error: ci/repro.sh exited $rc on $file; nothing kept"
	exit 3
	;;
esac
# Never over anything: cp -n, and the check above, against a name that appeared meanwhile.
cp -n "$file" "$dest"
cmp -s "$file" "$dest" || die "refused: $dest appeared meanwhile with other contents"
rel="$dest"
[[ "$dest" != "$repo"/* ]] || rel="${dest#"$repo"/}"
log "kept: $rel ($(wc -c <"$dest") bytes)"
log "commit it (with the fix of its bug): git add $rel && git commit -m \"corpus: $target regression $name\""
