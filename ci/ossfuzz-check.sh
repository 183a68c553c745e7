#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ci/ossfuzz-check.sh: checks fuzz/build.sh against the OSS-Fuzz / ClusterFuzzLite build contract.
#   ci/ossfuzz-check.sh [--sanitizer address|undefined] [--runs N] [--keep]
# Runs .clusterfuzzlite/build.sh (which runs fuzz/build.sh) as the base-builder image would:
# CC=clang CXX=clang++, OSS-Fuzz's CFLAGS with -fsanitize=...,fuzzer-no-link,
# LIB_FUZZING_ENGINE=-fsanitize=fuzzer, and OUT, WORK and SRC in a temporary directory, SRC
# holding the repository as nub (a symbolic link), where .clusterfuzzlite/Dockerfile copies it.
# Then it requires in $OUT, for every fuzz/pure/fuzz_*.c target:
#   <target>                 an executable with a contract-conform name, built with the sanitizer,
#                            needing no libelf/zlib shared library (the runner image has none)
#   <target>_seed_corpus.zip non-empty, flat, unzips, one entry per file of corpus/<target>/
#   <target>.dict            non-empty
#   <target>.options         has a [libfuzzer] section
# and runs each fuzzer from a scratch directory (not the repository) on its unzipped seeds with
# the .options flags and the .dict, for N executions (-runs=N, default 100: every seed, then
# mutations), as ClusterFuzz would; each must exit 0. One line per target; the scratch directory
# is removed unless a check fails or --keep is given. Exit 0 pass, 1 a check failed, 2 usage.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ci/ossfuzz-check.sh [--sanitizer address|undefined] [--runs N] [--keep]" >&2
	exit "${1:-2}"
}

sanitizer=address runs=100 keep=0
while [[ $# -gt 0 ]]; do
	case "$1" in
	--sanitizer)
		[[ $# -ge 2 ]] || die_usage "--sanitizer needs a value: address or undefined"
		[[ "$2" == address || "$2" == undefined ]] ||
			die_usage "--sanitizer takes address or undefined, not '$2'"
		sanitizer="$2"
		shift 2
		;;
	--runs)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{0,6}$ ]] ||
			die_usage "--runs takes a whole number from 1 to 9999999, not '${2:-}'"
		runs="$2"
		shift 2
		;;
	--keep)
		keep=1
		shift
		;;
	-h | --help) usage 0 ;;
	*) die_usage "unknown argument '$1' (see --help)" ;;
	esac
done

for tool in clang clang++ zip unzip; do
	command -v "$tool" >/dev/null || die "$tool not found (run ci/deps.sh)"
done

# OSS-Fuzz's flags (infra/base-images/base-builder): the base set plus the sanitizer's. UBSan is
# OSS-Fuzz's list less the C++-only checks (vptr, function), every check but unsigned overflow
# fatal; unsigned overflow is silenced at run time, as OSS-Fuzz does.
base_flags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
case "$sanitizer" in
address)
	san_flags="-fsanitize=address -fsanitize-address-use-after-scope"
	san_symbol=__asan_init
	;;
undefined)
	ubsan_fatal="array-bounds,bool,builtin,enum,float-divide-by-zero,integer-divide-by-zero,null"
	ubsan_fatal+=",object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow"
	ubsan_fatal+=",unreachable,vla-bound"
	san_flags="-fsanitize=$ubsan_fatal,unsigned-integer-overflow -fno-sanitize-recover=$ubsan_fatal"
	san_symbol=__ubsan_handle_
	;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/nub-ossfuzz.XXXXXX")"
ok=0
cleanup() {
	if [[ $ok -eq 1 && $keep -eq 0 ]]; then
		rm -rf "$tmp"
	else
		warn "kept $tmp (out/: the build's \$OUT, run/<target>/: each fuzzer's seeds and log)"
	fi
}
trap cleanup EXIT

out="$tmp/out" work="$tmp/work"
mkdir -p "$out" "$work" "$tmp/run" "$tmp/src"
ln -s "$repo" "$tmp/src/nub"
build_script="$repo/.clusterfuzzlite/build.sh"
[[ -f "$build_script" ]] || die "$build_script is missing"
build_env=(CC=clang CXX=clang++ "CFLAGS=$base_flags $san_flags -fsanitize=fuzzer-no-link"
	"CXXFLAGS=$base_flags $san_flags -fsanitize=fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer
	"OUT=$out" "WORK=$work" "SRC=$tmp/src" SANITIZER="$sanitizer" FUZZING_ENGINE=libfuzzer
	ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c)
log "sanitizer $sanitizer: env ${build_env[*]} .clusterfuzzlite/build.sh"
if ! (cd "$tmp/src/nub" && env "${build_env[@]}" bash "$build_script") >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log" >&2
	die ".clusterfuzzlite/build.sh (fuzz/build.sh) failed (log: $tmp/build.log)"
fi

# options_flags FILE: the [libfuzzer] section of an .options file as flags, one per line.
options_flags() {
	awk -F'=' '/^\[/{s=($0=="[libfuzzer]")} s && NF==2 {
		gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $2); if ($1 != "") print "-" $1 "=" $2 }' "$1"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1:dedup_token_length=3
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:silence_unsigned_overflow=1

failures=() targets=()
for src in "$repo/$nub_fuzz_dir"/pure/fuzz_*.c; do
	grep -q LLVMFuzzerTestOneInput "$src" && targets+=("$(basename "$src" .c)")
done
[[ ${#targets[@]} -gt 0 ]] || die "no pure fuzz targets in $nub_fuzz_dir/pure/"

# check_target TARGET: the contract's files for TARGET in $out, then TARGET run on its seeds; one
# line on success, the reasons on failure (status 1).
check_target() {
	local t="$1" bin="$out/$1" zip="$out/$1_seed_corpus.zip" dir="$tmp/run/$1" problems=()
	local seeds=0 entries
	mkdir -p "$dir"
	[[ "$t" =~ ^[A-Za-z0-9_-]+$ ]] || problems+=("name '$t' is not [A-Za-z0-9_-]+")
	if [[ ! -f "$bin" || ! -x "$bin" ]]; then
		problems+=("no executable $bin")
	elif ! grep -q "$san_symbol" < <(nm "$bin" 2>/dev/null); then
		problems+=("$bin has no $san_symbol symbol: not built with -fsanitize=$sanitizer")
	else
		# The base-runner image installs no packages: libelf and zlib must be linked statically.
		local needs
		needs="$(ldd "$bin" 2>/dev/null | awk '/lib(elf|z|zstd)\.so/ { print $1 }' | tr '\n' ' ')"
		[[ -z "$needs" ]] || problems+=("$t needs ${needs% } at run time (link it statically)")
	fi
	[[ -s "$out/$t.dict" ]] || problems+=("no $t.dict (or it is empty)")
	if [[ ! -s "$out/$t.options" ]]; then
		problems+=("no $t.options (or it is empty)")
	elif ! grep -qx '\[libfuzzer\]' "$out/$t.options"; then
		problems+=("$t.options has no [libfuzzer] section")
	fi
	if [[ ! -s "$zip" ]]; then
		problems+=("no ${t}_seed_corpus.zip (or it is empty)")
	elif ! unzip -q "$zip" -d "$dir/seeds"; then
		problems+=("${t}_seed_corpus.zip does not unzip")
	else
		seeds="$(find "$dir/seeds" -type f | wc -l)"
		entries="$(find "$dir/seeds" -mindepth 1 -maxdepth 1 -type f | wc -l)"
		[[ $seeds -eq $entries ]] || problems+=("${t}_seed_corpus.zip is not flat")
		local committed
		committed="$(count_files "$repo/$nub_corpus_dir/$t")"
		[[ $seeds -eq $committed ]] ||
			problems+=("${t}_seed_corpus.zip holds $seeds files, $nub_corpus_dir/$t/ $committed")
	fi
	if [[ ${#problems[@]} -eq 0 ]]; then
		local flags=() rc=0 execs
		mapfile -t flags < <(options_flags "$out/$t.options")
		flags+=(-dict="$out/$t.dict" -runs="$runs" -print_final_stats=1
			-artifact_prefix="$dir/")
		# From the scratch directory: a fuzzer that needs the repository's files would fail here.
		# (The braces' 2>/dev/null drops bash's own "Aborted" notice; the fuzzer's goes to the log.)
		{ (cd "$dir" && exec timeout --kill-after=10 300 "$bin" "${flags[@]}" "$dir/seeds") \
			>"$dir/fuzz.log" 2>&1; } 2>/dev/null || rc=$?
		execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -n 1)"
		if [[ $rc -ne 0 ]]; then
			local why
			why="$(grep -aE '^==[0-9]+==ERROR|^SUMMARY|^ERROR: libFuzzer|deadly signal|Test unit written' \
				"$dir/fuzz.log" | head -n 6)"
			[[ -n "$why" ]] || why="$(tail -n 15 "$dir/fuzz.log")"
			problems+=("$bin ${flags[*]} $dir/seeds exited $rc ($dir/fuzz.log):" "$why")
		elif [[ "${execs:-0}" -lt "$runs" && "${execs:-0}" -lt "$seeds" ]]; then
			problems+=("$t ran ${execs:-no} inputs, expected $runs (or all $seeds seeds)")
		fi
	fi
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf '%-20s FAILED\n' "$t"
		printf '%s\n' "${problems[@]}" | sed 's/^/  /'
		return 1
	fi
	printf '%-20s ok: %s seeds, %s inputs run, %s .dict entries, options %s\n' "$t" "$seeds" \
		"$execs" "$(grep -c '^[^#]' "$out/$t.dict")" \
		"$(options_flags "$out/$t.options" | tr '\n' ' ' | sed 's/ $//')"
}

for t in "${targets[@]}"; do
	check_target "$t" || failures+=("$t")
done
# Nothing but the contract's files: OSS-Fuzz treats every executable in $OUT as a fuzzer.
extra="$(find "$out" -mindepth 1 -maxdepth 1 | sed "s|^$out/||" | while read -r f; do
	base="${f%_seed_corpus.zip}"
	base="${base%.dict}"
	base="${base%.options}"
	[[ " ${targets[*]} " == *" $base "* ]] || echo "$f"
done)"
if [[ -n "$extra" ]]; then
	echo "unexpected files in \$OUT: $(echo "$extra" | tr '\n' ' ')"
	failures+=("\$OUT")
fi
if [[ ${#failures[@]} -gt 0 ]]; then
	die "OSS-Fuzz contract ($sanitizer) failed for: ${failures[*]}"
fi
ok=1
log "OSS-Fuzz contract ($sanitizer): ${#targets[@]} pure targets built, packaged and run ($runs inputs each)"
