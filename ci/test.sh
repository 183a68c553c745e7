#!/usr/bin/env bash
# The README's test command: installs deps, builds release/asan/tsan and runs the ctest suites in
# each, then the fuzz phase: builds the libfuzzer and afl flavours, runs the libFuzzer build's
# fuzz-replay tests and the planted-bug tests (build/libfuzzer-plant), and smoke-runs every fuzz
# target for a few seconds under libFuzzer and under AFL++ from a copy of its committed corpus
# (the summary shows each KVM target's trivial-iteration line from its libFuzzer log).
#
# Environment:
#   NUB_CI_ONLY=fuzz      only ci/deps.sh and the fuzz phase (about 3 minutes on 2 cores)
#   NUB_CI_ONLY=core      everything except the fuzz phase
#   NUB_CI_BUILD_ROOT=DIR where the build trees go (default build/; e.g. to test alongside a
#                         developer's own trees)
#   NUB_CI_PLANT_BUGS     overrides plant_bugs below
#   NUB_CI_LIBFUZZER_SECS / NUB_CI_AFL_SECS  smoke time per target (default 5 and 8 seconds)
set -euo pipefail

# NUB_PLANT_BUG values whose planted-bug tests run, each in build/libfuzzer-plant configured with
# -DNUB_PLANT_BUG=<value> (e.g. "pure kvm"). A value fuzz/CMakeLists.txt does not accept (its
# STRINGS list) is skipped with a note.
plant_bugs="${NUB_CI_PLANT_BUGS:-pure kvm}"
libfuzzer_secs="${NUB_CI_LIBFUZZER_SECS:-5}"
afl_secs="${NUB_CI_AFL_SECS:-8}"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

only="${NUB_CI_ONLY:-all}"
case "$only" in
all | core | fuzz) ;;
*)
	echo "ci/test.sh: NUB_CI_ONLY must be fuzz or core (or unset), not '$only'" >&2
	exit 2
	;;
esac
for v in "$libfuzzer_secs" "$afl_secs"; do
	if [[ ! "$v" =~ ^[1-9][0-9]*$ ]]; then
		echo "ci/test.sh: smoke times must be whole seconds, not '$v'" >&2
		exit 2
	fi
done
build_root="${NUB_CI_BUILD_ROOT:-$repo/build}"
mkdir -p "$build_root"
build_root="$(cd "$build_root" && pwd)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

jobs="$(nproc)"
start="$(date +%s)"
phase="setup"
summary=()

# The fuzz phase's scratch directory (corpus copies, fuzzer output); kept when the run fails.
fuzz_work=""

# On any failure, name the phase that failed.
on_exit() {
	local rc=$?
	local elapsed=$(($(date +%s) - start))
	if [[ $rc -ne 0 ]]; then
		echo
		if [[ -n "$fuzz_work" && -d "$fuzz_work" ]]; then
			echo "ci/test.sh: fuzzer logs and outputs kept in $fuzz_work" >&2
		fi
		echo "ci/test.sh: FAILED in phase '$phase' (exit $rc) after ${elapsed}s" >&2
	elif [[ -n "$fuzz_work" ]]; then
		rm -rf "$fuzz_work"
	fi
}
trap on_exit EXIT

banner() {
	phase="$1"
	echo
	echo "=================================================================="
	echo "== $1"
	echo "=================================================================="
}

# KVM tests fail instead of skipping when this machine has /dev/kvm; skips are then an error too.
require_kvm=0
if [[ -e /dev/kvm ]]; then
	require_kvm=1
	export NUB_REQUIRE_KVM=1
fi

# run_ctest NAME BUILD_DIR [ctest args...]: runs ctest, keeps its output, refuses skipped tests
# when /dev/kvm exists, and records the outcome line for the summary.
run_ctest() {
	local name="$1" dir="$2"
	shift 2
	local log="$dir/ctest-$name.log"
	if ! ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" "$@" 2>&1 |
		tee "$log"; then
		echo "ci/test.sh: ctest failed in $name" >&2
		return 1
	fi
	if [[ $require_kvm -eq 1 ]] && grep -Eq '\*\*\*Skipped|\(Skipped\)' "$log"; then
		echo "ci/test.sh: /dev/kvm exists but these tests were skipped in $name:" >&2
		grep -E '\*\*\*Skipped|\(Skipped\)' "$log" >&2
		return 1
	fi
	local result
	result="$(grep -E 'tests passed' "$log" | tail -n 1 || true)"
	summary+=("$name: ${result:-no ctest summary}")
}

# smoke_tools BUILD_DIR: nub-run's response and exit codes on the simple guest, and one quick
# nub-bench run (numbers only, for the log). Needs /dev/kvm.
smoke_tools() {
	local tools="$1/tools" out rc
	out="$("$tools/nub-run" --text hello simple 1)" || return 1
	if [[ "$out" != "hello" ]]; then
		echo "ci/test.sh: nub-run echo printed '$out', expected 'hello'" >&2
		return 1
	fi
	rc=0
	"$tools/nub-run" --hex 0102 simple 2 || rc=$?
	if [[ $rc -ne 2 ]]; then
		echo "ci/test.sh: nub-run on a guest error response exited $rc, expected 2" >&2
		return 1
	fi
	rc=0
	"$tools/nub-run" --hex 0741 simple 9 || rc=$?
	if [[ $rc -ne 3 ]]; then
		echo "ci/test.sh: nub-run on a guest abort exited $rc, expected 3" >&2
		return 1
	fi
	"$tools/nub-bench" --quick || return 1
}

# ---- fuzz phase ----

# fuzz_targets BUILD_DIR SUFFIX: the fuzz targets built in BUILD_DIR/fuzz whose binary is
# fuzz_<name>SUFFIX (libFuzzer: no suffix; AFL++: -afl), one name per line, sorted. Each must have
# its fuzz/<target>.c.
fuzz_targets() {
	local dir="$1/fuzz" suffix="$2" f name
	while IFS= read -r f; do
		name="$(basename "$f")"
		case "$name" in
		*-repro | *-afl) [[ -n "$suffix" && "$name" == *"$suffix" ]] || continue ;;
		*) [[ -z "$suffix" ]] || continue ;;
		esac
		name="${name%"$suffix"}"
		if [[ -f "$repo/fuzz/$name.c" ]]; then
			echo "$name"
		fi
	done < <(find "$dir" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
}

# check_all_built BUILD_DIR SUFFIX TARGETS...: every fuzz/fuzz_*.c that defines
# LLVMFuzzerTestOneInput is among TARGETS (so a target missing from fuzz/CMakeLists.txt fails).
check_all_built() {
	local dir="$1" suffix="$2" src t ok=1
	shift 2
	local -A built=()
	for t in "$@"; do built[$t]=1; done
	for src in "$repo"/fuzz/fuzz_*.c; do
		grep -q 'LLVMFuzzerTestOneInput' "$src" || continue
		t="$(basename "$src" .c)"
		if [[ -z "${built[$t]:-}" ]]; then
			echo "ci/test.sh: fuzz/$t.c is a fuzz target but $dir/fuzz/$t$suffix was not built" \
				"(is it registered with nub_fuzz_target in fuzz/CMakeLists.txt?)" >&2
			ok=0
		fi
	done
	[[ $ok -eq 1 ]]
}

# is_kvm_target TARGET: true unless fuzz/TARGET.c carries the "nub-fuzz-target: pure" marker.
is_kvm_target() {
	! grep -q 'nub-fuzz-target: pure' "$repo/fuzz/$1.c"
}

# skip_without_kvm ENGINE TARGET: true (and notes it) when TARGET needs /dev/kvm and it is absent.
skip_without_kvm() {
	if [[ $require_kvm -eq 0 ]] && is_kvm_target "$2"; then
		echo "$1 $2: skipped (a KVM target; /dev/kvm absent)"
		summary+=("fuzz smoke $1 $2: skipped, no /dev/kvm")
		return 0
	fi
	return 1
}

# corpus_copy TARGET DEST: copies the committed corpus/TARGET/ into DEST (created); the fuzzers
# write into DEST only.
corpus_copy() {
	local src="$repo/corpus/$1"
	if [[ ! -d "$src" || -z "$(ls -A "$src")" ]]; then
		echo "ci/test.sh: no committed corpus for $1 (corpus/$1/ is missing or empty)" >&2
		return 1
	fi
	mkdir -p "$2"
	cp -R "$src/." "$2/"
}

count_files() { find "$1" -type f | wc -l; }

# afl_stat STATS FIELD: one field of an AFL++ fuzzer_stats file.
afl_stat() { sed -n "s/^$2 *: *//p" "$1" | head -n 1; }

# libFuzzer flags from the [libfuzzer] section of fuzz/TARGET.options, one per line.
options_flags() {
	local f="$repo/fuzz/$1.options"
	[[ -f "$f" ]] || return 0
	awk -F'=' '/^\[/{s=($0=="[libfuzzer]")} s && NF==2 {
		gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $2); if ($1 != "") print "-" $1 "=" $2 }' "$f"
}

# smoke_libfuzzer TARGET: TARGET's libFuzzer binary for $libfuzzer_secs seconds from a copy of
# its corpus; fails on a non-zero exit or any crash/leak/timeout/oom artifact, or when a KVM
# target's log lacks its trivial-iteration line (fuzz/kvm_target.h), which joins the summary.
smoke_libfuzzer() {
	local t="$1" bin="$build_root/libfuzzer/fuzz/$1" w="$fuzz_work/libfuzzer/$1"
	skip_without_kvm libFuzzer "$t" && return 0
	mkdir -p "$w/artifacts" || return 1
	corpus_copy "$t" "$w/corpus" || return 1
	local before flags=() rc=0 log="$w/fuzz.log"
	before="$(count_files "$w/corpus")"
	mapfile -t flags < <(options_flags "$t")
	flags+=(-max_total_time="$libfuzzer_secs" -print_final_stats=1 -artifact_prefix="$w/artifacts/")
	[[ -f "$repo/fuzz/$t.dict" ]] && flags+=(-dict="$repo/fuzz/$t.dict")
	echo "$bin ${flags[*]} <copy of corpus/$t>"
	(cd "$w" && exec timeout --kill-after=15 $((libfuzzer_secs + 120)) "$bin" "${flags[@]}" \
		"$w/corpus") >"$log" 2>&1 || rc=$?
	local execs rate artifacts
	execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
	rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
	artifacts="$(find "$w/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | sort)"
	if [[ $rc -ne 0 || -n "$artifacts" ]]; then
		tail -n 40 "$log" >&2
		echo "ci/test.sh: libFuzzer $t exited $rc${artifacts:+; artifacts:}" >&2
		[[ -z "$artifacts" ]] || echo "$artifacts" >&2
		echo "ci/test.sh: reproduce with ci/repro.sh FILE --target $t (full log: $log)" >&2
		return 1
	fi
	local iter=""
	if is_kvm_target "$t"; then
		iter="$(sed -n "s/^nub-fuzz: $t: trivial iteration //p" "$log" | head -n 1)"
		if [[ -z "$iter" ]]; then
			echo "ci/test.sh: libFuzzer $t printed no trivial-iteration line (full log: $log)" >&2
			return 1
		fi
	fi
	local line
	line="$(printf 'fuzz smoke libFuzzer %-22s %6s exec/s (%s execs in %ss, corpus %s -> %s)' \
		"$t:" "${rate:-?}" "${execs:-?}" "$libfuzzer_secs" "$before" "$(count_files "$w/corpus")")"
	echo "$line"
	summary+=("$line")
	if [[ -n "$iter" ]]; then
		echo "$t trivial iteration $iter"
		summary+=("  $t trivial iteration $iter")
	fi
}

# smoke_afl TARGET: afl-fuzz -V $afl_secs on TARGET-afl from a copy of its corpus, without a
# terminal; fails when afl-fuzz exits non-zero or never starts, or saves a crash or a hang (guest
# hangs are cut short by the engine's time limit, so an AFL++ hang is a host hang).
smoke_afl() {
	local t="$1" bin="$build_root/afl/fuzz/$1-afl" w="$fuzz_work/afl/$1"
	skip_without_kvm AFL++ "$t" && return 0
	mkdir -p "$w" || return 1
	corpus_copy "$t" "$w/in" || return 1
	local timeout_ms rc=0 log="$w/fuzz.log" args
	timeout_ms="$(options_flags "$t" | sed -n 's/^-timeout=//p' | head -n 1)"
	timeout_ms=$((${timeout_ms:-10} * 1000))
	args=(-i "$w/in" -o "$w/out" -V "$afl_secs" -t "$timeout_ms")
	[[ -f "$repo/fuzz/$t.dict" ]] && args+=(-x "$repo/fuzz/$t.dict")
	echo "afl-fuzz ${args[*]} -- $bin"
	# afl-fuzz sets its own sanitizer options (it refuses custom ones without symbolize=0).
	env -u ASAN_OPTIONS -u UBSAN_OPTIONS -u TSAN_OPTIONS \
		AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
		AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 NUB_FUZZ_KEEP_DIR="$w/keep" \
		timeout --kill-after=15 $((afl_secs + 180)) afl-fuzz "${args[@]}" -- "$bin" \
		</dev/null >"$log" 2>&1 || rc=$?
	local stats="$w/out/default/fuzzer_stats"
	if [[ ! -f "$stats" ]]; then
		sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' "$log" | tail -n 40 >&2
		echo "ci/test.sh: afl-fuzz on $t did not start (exit $rc; full log: $log)" >&2
		return 1
	fi
	local found
	found="$(find "$w/out" -type f \( -path '*/crashes/id:*' -o -path '*/hangs/id:*' \) | sort)"
	if [[ $rc -ne 0 || -n "$found" ]]; then
		sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' "$log" | tail -n 40 >&2
		echo "ci/test.sh: afl-fuzz on $t exited $rc; crashes $(afl_stat "$stats" saved_crashes)," \
			"hangs $(afl_stat "$stats" saved_hangs)${found:+:}" >&2
		[[ -z "$found" ]] || echo "$found" >&2
		echo "ci/test.sh: reproduce with ci/repro.sh FILE --target $t (kept inputs: $w/keep)" >&2
		return 1
	fi
	local line
	line="$(printf 'fuzz smoke AFL++     %-22s %6s exec/s (%s execs in %ss, corpus %s -> %s, stability %s)' \
		"$t:" "$(afl_stat "$stats" execs_per_sec)" "$(afl_stat "$stats" execs_done)" \
		"$(($(afl_stat "$stats" last_update) - $(afl_stat "$stats" start_time)))" \
		"$(count_files "$w/in")" "$(afl_stat "$stats" corpus_count)" "$(afl_stat "$stats" stability)")"
	echo "$line"
	summary+=("$line")
}

# plant_bug_values: the NUB_PLANT_BUG values fuzz/CMakeLists.txt accepts, from the STRINGS
# property in build/libfuzzer's cache (empty if the cache has none).
plant_bug_values() {
	sed -n 's/^NUB_PLANT_BUG-STRINGS:INTERNAL=//p' "$build_root/libfuzzer/CMakeCache.txt" |
		tr ';' ' '
}

# planted_bugs: for each value in $plant_bugs, configures build/libfuzzer-plant with
# -DNUB_PLANT_BUG=<value> (then ci/build.sh keeps it) and runs its planted-bug-* tests.
planted_bugs() {
	local dir="$build_root/libfuzzer-plant" accepted v clang_path werror=OFF log
	accepted="$(plant_bug_values)"
	clang_path="$(command -v clang)"
	[[ "${CI:-}" == "true" ]] && werror=ON
	for v in $plant_bugs; do
		if [[ "$v" == none ]]; then
			continue
		fi
		if [[ -n "$accepted" && " $accepted " != *" $v "* ]]; then
			echo "ci/test.sh: NUB_PLANT_BUG=$v skipped: fuzz/CMakeLists.txt accepts only" \
				"'$accepted'"
			summary+=("planted bug $v: skipped (not accepted by fuzz/CMakeLists.txt: $accepted)")
			continue
		fi
		banner "fuzz: planted bug '$v' (build/libfuzzer-plant, NUB_PLANT_BUG=$v)"
		log="$(mktemp)"
		# The configuration ci/build.sh makes, plus NUB_PLANT_BUG (which ci/build.sh keeps).
		if ! cmake -S "$repo" -B "$dir" -DNUB_FLAVOR=libfuzzer -DNUB_WERROR="$werror" \
			-DCMAKE_C_COMPILER="$clang_path" -DNUB_PLANT_BUG="$v" --log-level=WARNING \
			>"$log" 2>&1; then
			cat "$log" >&2
			if grep -q "NUB_PLANT_BUG='$v' is not one of" "$log"; then
				rm -f "$log"
				echo "ci/test.sh: NUB_PLANT_BUG=$v skipped: fuzz/CMakeLists.txt rejects it"
				summary+=("planted bug $v: skipped (rejected by fuzz/CMakeLists.txt)")
				continue
			fi
			rm -f "$log"
			echo "ci/test.sh: configuring build/libfuzzer-plant with NUB_PLANT_BUG=$v failed" >&2
			return 1
		fi
		rm -f "$log"
		bash "$repo/ci/build.sh" libfuzzer "$dir"
		run_ctest "libfuzzer-plant-$v" "$dir" -R '^planted-bug-'
	done
}

run_fuzz_phase() {
	local t0 lf_targets afl_targets
	t0="$(date +%s)"
	for flavor in libfuzzer afl; do
		banner "fuzz: build $flavor (build/$flavor)"
		bash "$repo/ci/build.sh" "$flavor" "$build_root/$flavor"
	done

	banner "fuzz: replay tests, libfuzzer flavour (ctest -L fuzz-replay)"
	run_ctest libfuzzer-replay "$build_root/libfuzzer" -L fuzz-replay

	planted_bugs

	fuzz_work="$(mktemp -d "${TMPDIR:-/tmp}/nub-ci-fuzz.XXXXXX")"
	# Every target runs even after one fails; the phase fails at the end, naming them all.
	local failed=()
	mapfile -t lf_targets < <(fuzz_targets "$build_root/libfuzzer" "")
	banner "fuzz: libFuzzer smoke, ${libfuzzer_secs}s each: ${lf_targets[*]}"
	check_all_built "$build_root/libfuzzer" "" "${lf_targets[@]}"
	for t in "${lf_targets[@]}"; do
		smoke_libfuzzer "$t" || failed+=("libFuzzer $t")
	done

	mapfile -t afl_targets < <(fuzz_targets "$build_root/afl" -afl)
	banner "fuzz: AFL++ smoke, ${afl_secs}s each: ${afl_targets[*]}"
	check_all_built "$build_root/afl" -afl "${afl_targets[@]}"
	for t in "${afl_targets[@]}"; do
		smoke_afl "$t" || failed+=("AFL++ $t")
	done
	if [[ ${#failed[@]} -gt 0 ]]; then
		phase="fuzz: smoke runs"
		for t in "${failed[@]}"; do
			echo "ci/test.sh: fuzz smoke failed: $t (see above)" >&2
		done
		return 1
	fi
	summary+=("fuzz phase: ${#lf_targets[@]} libFuzzer + ${#afl_targets[@]} AFL++ targets, $(($(date +%s) - t0))s")
}

run_core_phases() {
	for flavor in release asan tsan; do
		banner "build: $flavor (build/$flavor)"
		bash "$repo/ci/build.sh" "$flavor" "$build_root/$flavor"
	done

	banner "test: release, all tests"
	run_ctest release "$build_root/release"

	banner "test: asan (ASan + UBSan), all tests"
	run_ctest asan "$build_root/asan"

	if [[ $require_kvm -eq 1 ]]; then
		for flavor in release asan; do
			banner "smoke: nub-run and nub-bench --quick ($flavor)"
			smoke_tools "$build_root/$flavor"
			summary+=("tools smoke ($flavor): ok")
		done
	fi

	# Every test runs under TSan, not only those labelled 'threads': the kick signal, timers and
	# snapshot refcounts are shared between threads by design, and the whole suite takes seconds.
	banner "test: tsan, all tests"
	run_ctest tsan "$build_root/tsan"
}

banner "deps: ci/deps.sh"
bash "$repo/ci/deps.sh"

if [[ "$only" != fuzz ]]; then
	run_core_phases
fi
if [[ "$only" != core ]]; then
	run_fuzz_phase
fi

phase="summary"
echo
echo "=================================================================="
for line in "${summary[@]}"; do
	echo "   $line"
done
kvm_note="/dev/kvm absent: KVM tests may have been skipped"
if [[ $require_kvm -eq 1 ]]; then
	kvm_note="/dev/kvm present: no test skipped"
fi
case "$only" in
all) what="release, asan, tsan, fuzz" ;;
core) what="release, asan, tsan; fuzz phase not run" ;;
fuzz) what="fuzz phase only" ;;
esac
echo "ci/test.sh: PASS ($what; $kvm_note) in $(($(date +%s) - start))s"
