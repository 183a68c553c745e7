#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Minimises a fuzz corpus in place, as every campaign does at its end:
#   ci/minimize.sh TARGET [--engine libfuzzer|afl] [--corpus DIR] [--no-build]
# TARGET is a fuzz target, with or without the fuzz_ prefix. DIR (default the campaign corpus
# build/campaign/<TARGET>/corpus, or $NUB_CAMPAIGN_DIR/<TARGET>/corpus) is merged by libFuzzer
# -merge=1 (build/libfuzzer/fuzz/<TARGET>) or afl-cmin (build/afl/fuzz/<TARGET>-afl) into the
# fresh folder DIR.merge, which then replaces DIR (the code ci/campaign.sh runs:
# ci/campaign_corpus.sh); on failure DIR stays as it was. Prints "N -> M files".
# Exit status: 0 minimised; 1 the merge failed (DIR unchanged); 2 usage; 3 setup error (DIR is
# missing, not a directory, holds anything but regular files, or is the committed corpus/; the
# build failed); 130/143 interrupted (DIR unchanged).
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ci/campaign_corpus.sh
. "$(dirname "${BASH_SOURCE[0]}")/campaign_corpus.sh"

usage() {
	echo "usage: ci/minimize.sh TARGET [--engine libfuzzer|afl] [--corpus DIR] [--no-build]" \
		"(--help: more)" >&2
	exit 2
}

help() {
	cat <<HELP
usage: ci/minimize.sh TARGET [--engine libfuzzer|afl] [--corpus DIR] [--no-build]
Minimises a corpus in place: keeps the inputs that add coverage (libFuzzer -merge=1 or afl-cmin)
in a fresh folder DIR.merge, which then replaces DIR; prints "N -> M files".
  TARGET          a fuzz target, with or without the fuzz_ prefix:
$(fuzz_targets | awk '{ printf "                    %s (%s)\n", $1, $2 }')
  --engine E      libfuzzer (default: build/libfuzzer) or afl (afl-cmin, build/afl)
  --corpus DIR    the corpus (default build/campaign/<TARGET>/corpus; \$NUB_CAMPAIGN_DIR for
                  build/campaign); regular files only; not the committed corpus/ (its seed-* and
                  regress-* names matter: minimise a copy)
  --no-build      use the fuzzer binary as built (default: build it if needed)
  -h, --help      this text
Exit status:
  0  minimised
  1  the merge failed; DIR is unchanged
  2  usage
  3  setup error: DIR missing, not a directory, holding anything but regular files, or the
     committed corpus; the build failed
  130, 143  interrupted by SIGINT or SIGTERM; DIR is unchanged
HELP
	exit 0
}

# setup_error MSG: exits 3 with "setup error: MSG".
setup_error() {
	warn "setup error: $*"
	exit 3
}

target="" engine=libfuzzer corpus="" build=1
while [[ $# -gt 0 ]]; do
	case "$1" in
	--engine)
		[[ $# -ge 2 ]] || die_usage "--engine needs a value: libfuzzer or afl"
		[[ "$2" == libfuzzer || "$2" == afl ]] ||
			die_usage "--engine takes libfuzzer or afl, not '$2'"
		engine="$2"
		shift 2
		;;
	--corpus)
		[[ $# -ge 2 && -n "$2" ]] || die_usage "--corpus needs a directory"
		corpus="$2"
		shift 2
		;;
	--no-build)
		build=0
		shift
		;;
	-h | --help) help ;;
	-*) die_usage "unknown option '$1' (see --help)" ;;
	*)
		[[ -z "$target" ]] || die_usage "one TARGET only: '$target' and '$1'"
		target="$1"
		shift
		;;
	esac
done
[[ -n "$target" ]] || usage
[[ "$target" == fuzz_* ]] || target="fuzz_$target"
if ! fuzz_target_source "$target" >/dev/null; then
	warn "no fuzz target '$target'; the targets are:"
	fuzz_targets | awk '{ printf "  %s (%s)\n", $1, $2 }' >&2
	exit 2
fi
corpus="${corpus:-${NUB_CAMPAIGN_DIR:-$repo/build/campaign}/$target/corpus}"
[[ -e "$corpus" || -L "$corpus" ]] || setup_error "--corpus $corpus does not exist"
[[ -d "$corpus" && ! -L "$corpus" ]] || setup_error "--corpus $corpus is not a directory"
corpus="$(realpath "$corpus")"
case "$corpus/" in
"$repo/$nub_corpus_dir"/*)
	setup_error "$corpus is the committed corpus (seed-* are generated, regress-* named by hand):" \
		"minimise a copy"
	;;
esac
odd="$(find "$corpus" -mindepth 1 -maxdepth 1 ! -type f -print -quit)"
[[ -z "$odd" ]] || setup_error "$corpus holds $odd, which is not a regular file"

flavor="$engine" suffix=""
[[ "$engine" == libfuzzer ]] || suffix=-afl
build_dir="$repo/build/$flavor"
if [[ $build -eq 1 ]]; then
	build_log="$(mktemp)"
	trap 'rm -f "$build_log"' EXIT
	run_logged "$build_log" build_if_needed "$flavor" "$build_dir" "$target$suffix" ||
		setup_error "building $target$suffix in $build_dir failed"
fi
bin="$(fuzz_binary "$build_dir" "$target" "$suffix")" ||
	setup_error "$bin is missing (build it, or drop --no-build)"

# A signal ends the merge (its process group) and leaves the corpus as it was.
fuzz_pids=()
on_signal() {
	local p
	for p in "${fuzz_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	rm -rf "$corpus.merge"
	warn "SIG$1: stopped; $corpus is unchanged"
	exit $((128 + $2))
}
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

logs="$(mktemp -d)"
trap 'rm -f "${build_log:-}"; rm -rf "$logs"' EXIT
if ! corpus_merge "$engine" "$bin" "$target" "$corpus" "$logs"; then
	warn "the merge failed (exit $merge_rc): $corpus is unchanged"
	exit 1
fi
log "$target: $merge_before -> $merge_after files ($corpus, $engine)"
