#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs deps, checks the C formatting, builds release/asan/tsan and
# runs the ctest suites in each, then the fuzz phase: builds the libfuzzer and afl flavours, runs
# the libFuzzer build's fuzz-replay tests and the planted-bug tests (build/libfuzzer-plant), and
# smoke-runs every fuzz target for a few seconds under libFuzzer and under AFL++ from a copy of
# its committed corpus.
#
# It prints one line per step; each step's whole output goes to <build root>/logs/<nn>-<step>.log
# (ctest's JUnit results beside it, <nn>-<step>.xml), and a failing step's log is printed before
# the script stops. Steps, in order:
#   deps                          ci/deps.sh
#   format                        clang-format --dry-run -Werror on every tracked .c/.h
#   lint: CI templates            ci/templates-check.sh: yamllint, the fuzz matrices' targets
#   release, asan, tsan: build    ci/build.sh FLAVOR <build root>/FLAVOR
#   release, asan: ctest          every test (labels unit, kvm, threads, fuzz-replay)
#   release, asan: tools smoke    nub-run's responses and exit codes, nub-bench --quick (/dev/kvm)
#   tsan: ctest                   every test under TSan
#   libfuzzer, afl: build         the fuzz flavours; every fuzz target must have been built
#   oss-fuzz contract             ci/ossfuzz-check.sh (ASan, UBSan): .clusterfuzzlite/build.sh in
#                                 the OSS-Fuzz environment fills $OUT; each fuzzer runs 100 inputs
#   libfuzzer: ctest fuzz-replay  corpus replays, trivial-iteration lines, seeds-match
#   plant: build, plant: ctest    build/libfuzzer-plant (-DNUB_PLANT_BUG=all: every shim of
#                                 harness/fuzz/planted.cmake) and its planted-bug-* tests (ctest -j)
#   campaign: life cycle          harness/scripts/campaign_lifecycle.sh (ci/campaign.sh's signals,
#                                 exit statuses and argument errors)
#   campaign: scale-out           harness/scripts/campaign_scale.sh (--jobs 2 under both engines,
#                                 AFL++ resuming, two processes on one --sync-dir)
#   campaign: findings            harness/scripts/campaign_findings.sh (planted-bug findings
#                                 minimised and kept once per signature; keep-crash, minimize)
#   campaign: status, reports     harness/scripts/campaign_status.sh (the status block in tmux,
#                                 Ctrl-C there, the compact lines, summary.json, plot, HTML)
#   libFuzzer TARGET, AFL++ TARGET   each fuzz target for a few seconds (exec/s on its line); AFL++
#                                 loads the target's custom mutator library, if it has one
# The summary at the end: the tests passed per ctest run, each KVM target's trivial-iteration line
# (from its libFuzzer run) and, over all ctest runs, the line "N passed, N failed, N skipped".
# Skipped tests are read from ctest's JUnit XML (SKIP_RETURN_CODE 77); when /dev/kvm exists a
# skipped test is a failure.
#
# Environment:
#   NUB_CI_ONLY=fuzz      only ci/deps.sh and the fuzz phase (about 3 minutes on 2 cores)
#   NUB_CI_ONLY=core      everything except the fuzz phase
#   NUB_CI_BUILD_ROOT=DIR where the build trees and logs/ go (default build/; e.g. to test
#                         alongside a developer's own trees)
#   NUB_CI_PLANT_BUGS     the planted bugs (names in harness/fuzz/planted.cmake) whose
#                         planted-bug-<name> tests run, all from the one build/libfuzzer-plant
#                         (default "all"; "none" runs none and builds no plant tree)
#   NUB_CI_LIBFUZZER_SECS / NUB_CI_AFL_SECS  smoke time per target (default 5 and 8 seconds)
#   NUB_CI_FORMAT=off     skips the clang-format check (default on)
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

plant_bugs="${NUB_CI_PLANT_BUGS:-all}"
libfuzzer_secs="${NUB_CI_LIBFUZZER_SECS:-5}"
afl_secs="${NUB_CI_AFL_SECS:-8}"
format="${NUB_CI_FORMAT:-on}"

only="${NUB_CI_ONLY:-all}"
case "$only" in
all | core | fuzz) ;;
*) die_usage "NUB_CI_ONLY must be fuzz or core (or unset), not '$only'" ;;
esac
# The ctest regex of the planted-bug tests $plant_bugs names.
plant_regex='^planted-bug-'
if [[ "$plant_bugs" != all && "$plant_bugs" != none ]]; then
	plant_regex=""
	for b in $plant_bugs; do
		[[ "$b" =~ ^[a-z0-9]+(-[a-z0-9]+)*$ ]] ||
			die_usage "NUB_CI_PLANT_BUGS: '$b' is not a planted bug's name (harness/fuzz/planted.cmake), all or none"
		plant_regex+="${plant_regex:+|}$b"
	done
	plant_regex="^planted-bug-($plant_regex)\$"
fi
for v in "$libfuzzer_secs" "$afl_secs"; do
	[[ "$v" =~ ^[1-9][0-9]*$ ]] || die_usage "smoke times must be whole seconds, not '$v'"
done
[[ "$format" == on || "$format" == off ]] ||
	die_usage "NUB_CI_FORMAT must be on or off, not '$format'"
build_root="${NUB_CI_BUILD_ROOT:-$repo/build}"
mkdir -p "$build_root"
build_root="$(cd "$build_root" && pwd)"
nub_log_dir="$build_root/logs"
mkdir -p "$nub_log_dir"
rm -f "$nub_log_dir"/[0-9][0-9]-*.log "$nub_log_dir"/[0-9][0-9]-*.xml

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

jobs="$(nproc)"

# KVM tests fail instead of skipping when this machine has /dev/kvm; skips are then an error too.
require_kvm=0
kvm_note="/dev/kvm absent: KVM tests may be skipped"
if [[ -e /dev/kvm ]]; then
	require_kvm=1
	kvm_note="/dev/kvm present: no test may be skipped"
	export NUB_REQUIRE_KVM=1
fi

case "$only" in
all) what="release, asan, tsan, fuzz" ;;
core) what="release, asan, tsan; fuzz phase not run" ;;
fuzz) what="fuzz phase only" ;;
esac

# The summary: one line per ctest run, then other lines (iteration lines, notes), then the totals.
ctest_lines=()
summary=()
total_passed=0 total_failed=0 total_skipped=0

# The fuzz phase's scratch directory (corpus copies, fuzzer output); kept when the run fails.
fuzz_work=""
print_summary() {
	local line
	echo
	echo "summary:"
	for line in "${ctest_lines[@]}" "${summary[@]}"; do
		echo "  $line"
	done
	echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
}

on_exit() {
	local rc=$?
	step_on_exit "$rc"
	if [[ $rc -eq 0 ]]; then
		[[ -z "$fuzz_work" ]] || rm -rf "$fuzz_work"
		return
	fi
	# Before the first step only an argument error can stop the script, and it said so.
	[[ $nub_step_no -gt 0 ]] || return
	print_summary
	if [[ -n "$fuzz_work" && -d "$fuzz_work" ]]; then
		warn "fuzzer corpora and outputs kept in $fuzz_work"
	fi
	local where=""
	[[ ${#nub_failed_steps[@]} -eq 0 ]] || where=" at: $(printf "'%s' " "${nub_failed_steps[@]}")"
	warn "FAILED${where% } (exit $rc) after $(elapsed)s; logs in $nub_log_dir"
}
trap on_exit EXIT

# run_ctest NAME BUILD_DIR [ctest args...]: runs ctest with JUnit output beside the step's log,
# counts its results for the summary, and refuses skipped tests when /dev/kvm exists.
run_ctest() {
	local run="$1" dir="$2" rc=0
	shift 2
	local junit="${step_log%.log}.xml"
	ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" \
		--output-junit "$junit" "$@" || rc=$?
	if [[ ! -s "$junit" ]]; then
		echo "$nub_script: ctest (exit $rc) wrote no JUnit results to $junit"
		total_failed=$((total_failed + 1))
		return 1
	fi
	local passed=0 failed=0 skipped=0 skipped_names=() result test_name
	while IFS=$'\t' read -r result test_name; do
		case "$result" in
		passed) passed=$((passed + 1)) ;;
		skipped)
			skipped=$((skipped + 1))
			skipped_names+=("$test_name")
			;;
		*) failed=$((failed + 1)) ;;
		esac
	done < <(ctest_junit_results "$junit")
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	total_skipped=$((total_skipped + skipped))
	step_note="$passed passed, $failed failed, $skipped skipped"
	ctest_lines+=("$(printf '%-24s %s' "ctest $run:" "$step_note")")
	if [[ $rc -ne 0 ]]; then
		echo "$nub_script: ctest exited $rc in $run"
		return "$rc"
	fi
	if [[ $require_kvm -eq 1 && $skipped -gt 0 ]]; then
		echo "$nub_script: /dev/kvm exists but these tests were skipped in $run: ${skipped_names[*]}"
		return 1
	fi
}

# check_format: clang-format --dry-run -Werror on every tracked .c/.h (all of them under
# engine guests harness fuzz tools outside a git checkout); lists the files it would change.
check_format() {
	local files=() rc=0
	command -v clang-format >/dev/null || {
		echo "$nub_script: clang-format not found (run ci/deps.sh)"
		return 1
	}
	if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		mapfile -t files < <(git -C "$repo" ls-files -- '*.c' '*.h')
	else
		mapfile -t files < <(find engine guests harness fuzz tools -name '*.[ch]' | sort)
	fi
	echo "$(clang-format --version): ${#files[@]} files"
	clang-format --dry-run -Werror "${files[@]}" || rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "$nub_script: clang-format would change these files (clang-format -i FILE... fixes them):"
		sed -n 's/^\([^: ]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/  \1/p' \
			"$step_log" | sort -u
		return "$rc"
	fi
	step_note="${#files[@]} files"
}

# smoke_tools BUILD_DIR: nub-run's response and exit codes on the simple guest, and one quick
# nub-bench run (numbers only, for the log). Needs /dev/kvm.
smoke_tools() {
	local tools="$1/$nub_tools_bin_dir" out rc
	[[ $require_kvm -eq 1 ]] || {
		skip_step "needs /dev/kvm"
		return 0
	}
	out="$("$tools/nub-run" --text hello simple 1)" || return 1
	if [[ "$out" != "hello" ]]; then
		echo "$nub_script: nub-run echo printed '$out', expected 'hello'"
		return 1
	fi
	rc=0
	"$tools/nub-run" --hex 0102 simple 2 || rc=$?
	if [[ $rc -ne 3 ]]; then
		echo "$nub_script: nub-run on a guest error response exited $rc, expected 3"
		return 1
	fi
	rc=0
	"$tools/nub-run" --hex 0741 simple 9 || rc=$?
	if [[ $rc -ne 4 ]]; then
		echo "$nub_script: nub-run on a guest abort exited $rc, expected 4"
		return 1
	fi
	"$tools/nub-bench" --quick
}

# ---- fuzz phase ----

# build_fuzz_flavor FLAVOR SUFFIX: ci/build.sh FLAVOR, then every fuzz target must have its
# binary <target>SUFFIX (so a target missing from the fuzz CMakeLists.txt fails).
build_fuzz_flavor() {
	local flavor="$1" suffix="$2" dir="$build_root/$1" t kind missing=0
	bash "$repo/ci/build.sh" "$flavor" "$dir" || return
	while read -r t kind; do
		fuzz_binary "$dir" "$t" "$suffix" >/dev/null && continue
		echo "$nub_script: $(fuzz_target_source "$t") is a $kind fuzz target but $dir has no" \
			"$t$suffix (is it registered with nub_fuzz_target in $nub_fuzz_dir/CMakeLists.txt?)"
		missing=1
	done < <(fuzz_targets)
	[[ $missing -eq 0 ]]
}

# no_kvm_skip KIND: true (and the step is skipped) when a KVM target's step finds no /dev/kvm.
no_kvm_skip() {
	[[ $require_kvm -eq 0 && "$1" == kvm ]] || return 1
	skip_step "a KVM target; /dev/kvm absent"
}

# corpus_copy TARGET DEST: copies the committed corpus of TARGET into DEST (created); the fuzzers
# write into DEST only.
corpus_copy() {
	local src="$repo/$nub_corpus_dir/$1"
	if [[ ! -d "$src" || -z "$(ls -A "$src")" ]]; then
		echo "$nub_script: no committed corpus for $1 ($nub_corpus_dir/$1/ is missing or empty)"
		return 1
	fi
	mkdir -p "$2" && cp -R "$src/." "$2/"
}

# smoke_libfuzzer TARGET KIND: TARGET's libFuzzer binary for $libfuzzer_secs seconds from a copy
# of its corpus; fails on a non-zero exit or any crash/leak/timeout/oom artifact, or when a KVM
# target's output lacks its trivial-iteration line (which joins the summary).
smoke_libfuzzer() {
	local t="$1" w="$fuzz_work/libfuzzer/$1" bin
	no_kvm_skip "$2" && return 0
	bin="$(fuzz_binary "$build_root/libfuzzer" "$t")" || {
		echo "$nub_script: $bin was not built"
		return 1
	}
	mkdir -p "$w/artifacts" || return 1
	corpus_copy "$t" "$w/corpus" || return 1
	local before flags=() rc=0 dict
	before="$(count_files "$w/corpus")"
	mapfile -t flags < <(fuzz_options_flags "$t")
	flags+=(-max_total_time="$libfuzzer_secs" -print_final_stats=1 -artifact_prefix="$w/artifacts/")
	if dict="$(fuzz_target_file "$t" dict)"; then
		flags+=(-dict="$dict")
	fi
	echo "$bin ${flags[*]} <copy of $nub_corpus_dir/$t>"
	(cd "$w" && exec timeout --kill-after=15 $((libfuzzer_secs + 120)) "$bin" "${flags[@]}" \
		"$w/corpus") || rc=$?
	local execs rate artifacts
	execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$step_log" | tail -n 1)"
	rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$step_log" | tail -n 1)"
	artifacts="$(find "$w/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | sort)"
	if [[ $rc -ne 0 || -n "$artifacts" ]]; then
		echo "$nub_script: libFuzzer $t exited $rc${artifacts:+; artifacts:}"
		[[ -z "$artifacts" ]] || echo "$artifacts"
		echo "$nub_script: reproduce with ci/repro.sh FILE --target $t"
		return 1
	fi
	if [[ "$2" == kvm ]]; then
		local iter
		iter="$(sed -n "s/^nub-fuzz: $t: trivial iteration //p" "$step_log" | head -n 1)"
		if [[ -z "$iter" ]]; then
			echo "$nub_script: libFuzzer $t printed no trivial-iteration line"
			return 1
		fi
		summary+=("$t trivial iteration $iter")
	fi
	step_note="$(printf '%7s exec/s, %s execs in %ss, corpus %s -> %s' "${rate:-?}" "${execs:-?}" \
		"$libfuzzer_secs" "$before" "$(count_files "$w/corpus")")"
}

# smoke_afl TARGET KIND: afl-fuzz -V $afl_secs on TARGET-afl from a copy of its corpus, without a
# terminal; fails when afl-fuzz exits non-zero or never starts, or saves a crash or a hang (guest
# hangs are cut short by the engine's time limit, so an AFL++ hang is a host hang).
smoke_afl() {
	local t="$1" w="$fuzz_work/afl/$1" bin
	no_kvm_skip "$2" && return 0
	bin="$(fuzz_binary "$build_root/afl" "$t" -afl)" || {
		echo "$nub_script: $bin was not built"
		return 1
	}
	corpus_copy "$t" "$w/in" || return 1
	local timeout_ms rc=0 args dict mutator menv=()
	timeout_ms="$(fuzz_options_flags "$t" | sed -n 's/^-timeout=//p' | head -n 1)"
	timeout_ms=$((${timeout_ms:-10} * 1000))
	args=(-i "$w/in" -o "$w/out" -V "$afl_secs" -t "$timeout_ms")
	if dict="$(fuzz_target_file "$t" dict)"; then
		args+=(-x "$dict")
	fi
	# The structure-aware mutator, for the targets that have one; afl-fuzz must say it loaded it.
	if mutator="$(fuzz_afl_mutator "$build_root/afl" "$t")"; then
		menv=(AFL_CUSTOM_MUTATOR_LIBRARY="$mutator")
	fi
	echo "afl-fuzz ${args[*]} -- $bin${menv[*]:+ (${menv[*]})}"
	"${afl_env[@]}" "${menv[@]}" \
		AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
		AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 NUB_FUZZ_KEEP_DIR="$w/keep" \
		timeout --kill-after=15 $((afl_secs + 180)) afl-fuzz "${args[@]}" -- "$bin" \
		2>&1 | tee "$w/afl.log" || rc=$?
	local stats="$w/out/default/fuzzer_stats"
	if [[ ! -f "$stats" ]]; then
		echo "$nub_script: afl-fuzz on $t did not start (exit $rc)"
		return 1
	fi
	if [[ ${#menv[@]} -gt 0 ]] && ! grep -q "Custom mutator '.*' installed successfully" "$w/afl.log"; then
		echo "$nub_script: afl-fuzz on $t did not report loading the custom mutator $mutator"
		return 1
	fi
	local found
	found="$(find "$w/out" -type f \( -path '*/crashes/id:*' -o -path '*/hangs/id:*' \) | sort)"
	if [[ $rc -ne 0 || -n "$found" ]]; then
		echo "$nub_script: afl-fuzz on $t exited $rc; crashes $(afl_stat "$stats" saved_crashes)," \
			"hangs $(afl_stat "$stats" saved_hangs)${found:+:}"
		[[ -z "$found" ]] || echo "$found"
		echo "$nub_script: reproduce with ci/repro.sh FILE --target $t (kept inputs: $w/keep)"
		return 1
	fi
	step_note="$(printf '%7s exec/s, %s execs in %ss, corpus %s -> %s, stability %s' \
		"$(afl_stat "$stats" execs_per_sec)" "$(afl_stat "$stats" execs_done)" \
		"$(($(afl_stat "$stats" last_update) - $(afl_stat "$stats" start_time)))" \
		"$(count_files "$w/in")" "$(afl_stat "$stats" corpus_count)" "$(afl_stat "$stats" stability)")"
}

# build_plant DIR: configures DIR like ci/build.sh libfuzzer plus -DNUB_PLANT_BUG=all (every
# planted-bug shim, armed at run time by NUB_PLANTED) and builds it.
build_plant() {
	nub_configure libfuzzer "$1" -DNUB_PLANT_BUG=all && nub_build "$1"
}

# planted_bugs: build/libfuzzer-plant and the planted-bug-<name> tests of $plant_bugs ("all": every
# planted-bug-* test; "none": nothing).
planted_bugs() {
	local dir="$build_root/libfuzzer-plant"
	[[ "$plant_bugs" != none ]] || return 0
	step "plant: build" build_plant "$dir"
	step "plant: ctest planted-bug-*" run_ctest plant "$dir" -R "$plant_regex"
}

# ossfuzz_contract: ci/ossfuzz-check.sh under each sanitizer .clusterfuzzlite/project.yaml names.
ossfuzz_contract() {
	local s n
	for s in address undefined; do
		bash "$repo/ci/ossfuzz-check.sh" --sanitizer "$s" || return
	done
	n="$(sed -n 's/.*: \([0-9]*\) pure targets built.*/\1/p' "$step_log" | tail -n 1)"
	step_note="${n:-?} pure targets, address and undefined, 100 inputs each"
}

run_fuzz_phase() {
	local t0="$EPOCHSECONDS" targets=() t kind
	step "libfuzzer: build" build_fuzz_flavor libfuzzer ""
	step "afl: build" build_fuzz_flavor afl -afl
	step "oss-fuzz contract" ossfuzz_contract
	step "libfuzzer: ctest fuzz-replay" run_ctest libfuzzer-replay "$build_root/libfuzzer" \
		-L fuzz-replay
	planted_bugs
	# ci/campaign.sh's life cycle: argument errors, SIGINT/TERM/HUP, a planted-bug finding = exit 1.
	# The campaigns use the repository's build/ trees (build/libfuzzer, build/*-plant).
	step "campaign: life cycle" bash "$repo/harness/scripts/campaign_lifecycle.sh"
	step "campaign: scale-out" bash "$repo/harness/scripts/campaign_scale.sh"
	step "campaign: findings" bash "$repo/harness/scripts/campaign_findings.sh"
	# Its live status in a terminal (tmux) and in a pipe, and the run directory's reports.
	step "campaign: status, reports" bash "$repo/harness/scripts/campaign_status.sh"

	fuzz_work="$(mktemp -d "${TMPDIR:-/tmp}/nub-ci-fuzz.XXXXXX")"
	mapfile -t targets < <(fuzz_targets)
	# Every target runs even after one fails; the phase fails at the end, naming them all.
	for t in "${targets[@]}"; do
		read -r t kind <<<"$t"
		step -k "libFuzzer $t" smoke_libfuzzer "$t" "$kind" || true
	done
	for t in "${targets[@]}"; do
		read -r t kind <<<"$t"
		step -k "AFL++ $t" smoke_afl "$t" "$kind" || true
	done
	[[ ${#nub_failed_steps[@]} -eq 0 ]] || die "fuzz smoke runs failed: ${nub_failed_steps[*]}"
	local n="${#targets[@]}"
	summary+=("fuzz phase: $n libFuzzer + $n AFL++ targets in $((EPOCHSECONDS - t0))s")
}

# templates_check: ci/templates-check.sh (yamllint; the fuzz matrices list every KVM target).
templates_check() {
	bash "$repo/ci/templates-check.sh" || return
	step_note="$(sed -n 's/.*CI templates: \([0-9]*\) YAML files.*/\1 YAML files, 2 fuzz matrices/p' \
		"$step_log")"
}

run_core_phases() {
	local flavor
	if [[ "$format" == off ]]; then
		step "format: clang-format" skip_step "NUB_CI_FORMAT=off"
	elif [[ ! -f "$repo/.clang-format" ]]; then
		step "format: clang-format" skip_step "no .clang-format"
	else
		step "format: clang-format" check_format
	fi
	step "lint: CI templates" templates_check
	for flavor in release asan tsan; do
		step "$flavor: build" bash "$repo/ci/build.sh" "$flavor" "$build_root/$flavor"
	done
	step "release: ctest" run_ctest release "$build_root/release"
	step "asan: ctest" run_ctest asan "$build_root/asan"
	for flavor in release asan; do
		step "$flavor: tools smoke" smoke_tools "$build_root/$flavor"
	done
	# Every test runs under TSan, not only those labelled 'threads': the kick signal, timers and
	# snapshot refcounts are shared between threads by design, and the whole suite takes seconds.
	step "tsan: ctest" run_ctest tsan "$build_root/tsan"
}

log "$what; $kvm_note; logs in $nub_log_dir"
step "deps" bash "$repo/ci/deps.sh"
if [[ "$only" != fuzz ]]; then
	run_core_phases
fi
if [[ "$only" != core ]]; then
	run_fuzz_phase
fi
print_summary
log "PASS ($what; $kvm_note) in $(elapsed)s"
