# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# ci/lib.sh: what the ci/ scripts share. Sourced at the top of each, never run:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It sets `repo` (the repository root, absolute) and `nub_script` (e.g. "ci/test.sh", for messages),
# starts the clock of `elapsed`, and defines:
#   log / warn / die / die_usage MSG    messages named after the script (die: exit 1, die_usage: 2)
#   elapsed, secs_since T0              whole seconds since the script started; tenths since T0
#   banner TITLE                        a section heading
#   nub_configure FLAVOR DIR [ARG...]   configures DIR from FLAVOR's preset (CMakePresets.json)
#   build_if_needed FLAVOR [DIR [TARGET...]]   DIR made an up-to-date build of TARGETs
#   run_logged LOG CMD...               CMD with its output in LOG, the tail shown on failure
#   step [-k] NAME CMD...               one line per step, the output in $nub_log_dir
#   ctest_junit_results JUNIT           passed/failed/skipped per test, from ctest --output-junit
#   fuzz_* helpers                      the fuzz targets, their kind, files and binaries
# The scripts use `set -euo pipefail`; functions here report failure by their status.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nub_script="ci/$(basename "$0")"

# ---- Paths into the harness (relative to $repo or to a build tree): the ONE place to update
# when these folders move. ----
# Fuzz target sources fuzz_<surface>.c with their .dict and .options beside them, in
# $nub_fuzz_dir/pure/ (no /dev/kvm) and $nub_fuzz_dir/kvm/: the folder is the kind.
nub_fuzz_dir=fuzz
# A build tree's folder of fuzz binaries <target>, <target>-afl, <target>-repro.
nub_fuzz_bin_dir=fuzz
# The crash-signature script ci/repro.sh runs on a failing reproducer's output.
nub_fuzz_signature=harness/scripts/signature.sh
# Committed seeds and regressions, one folder per target.
nub_corpus_dir=corpus
# A build tree's folder of nub-run and nub-bench.
nub_tools_bin_dir=tools
# The engine's folder (in the source tree and in a build tree: gcov counters) and its sources
# (coverage filters).
nub_engine_dir=engine
nub_engine_src=engine/src

# ---- Messages and time ----

log() { printf '%s: %s\n' "$nub_script" "$*"; }
warn() { printf '%s: %s\n' "$nub_script" "$*" >&2; }
die() {
	warn "$@"
	exit 1
}
die_usage() {
	warn "$@"
	exit 2
}

nub_start="$EPOCHSECONDS"
elapsed() { echo $((EPOCHSECONDS - nub_start)); }

# now_us: microseconds since the epoch (EPOCHREALTIME uses the locale's decimal separator).
now_us() {
	local t="$EPOCHREALTIME"
	echo "${t/[.,]/}"
}

# secs_since T0: seconds since T0 (from now_us) with one decimal, e.g. 12.3.
secs_since() {
	local d=$((($(now_us) - $1) / 100000))
	echo "$((d / 10)).$((d % 10))"
}

banner() {
	echo
	echo "=================================================================="
	echo "== $*"
	echo "=================================================================="
}

# ---- Building ----

# nub_configure FLAVOR DIR [CMAKE_ARG...]: configures DIR from the preset FLAVOR of
# CMakePresets.json (which names the flavour's compiler), with -DNUB_WERROR=ON when CI=true.
# Cache entries the preset does not set (e.g. NUB_PLANT_BUG) keep their values.
nub_configure() {
	local flavor="$1" dir="$2" cc werror=OFF
	shift 2
	# The preset's compiler, as `cmake -N` lists it (nothing is written).
	cc="$(cmake -S "$repo" --preset "$flavor" -N -B "$dir/.nub-preset-probe" 2>/dev/null |
		sed -n 's/^  CMAKE_C_COMPILER="\(.*\)"$/\1/p' || true)"
	if [[ -n "$cc" ]] && ! command -v "$cc" >/dev/null 2>&1; then
		warn "compiler '$cc' for flavour '$flavor' (CMakePresets.json) not found (run ci/deps.sh)"
		return 1
	fi
	[[ "${CI:-}" == "true" ]] && werror=ON
	cmake -S "$repo" --preset "$flavor" -B "$dir" -DNUB_WERROR="$werror" --log-level=WARNING "$@"
}

# nub_build DIR [TARGET...]: builds TARGETs (default: all) of a configured DIR.
nub_build() {
	local dir="$1" targets=()
	shift
	[[ $# -eq 0 ]] || targets=(--target "$@")
	cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
}

# build_if_needed FLAVOR [DIR [TARGET...]]: makes DIR (default build/FLAVOR) an up-to-date build
# of TARGETs (default: all). DIR is configured from FLAVOR's preset, every time, so a tree made
# before a target was added learns about it; a DIR already configured for another flavour
# (e.g. ci/repro.sh --build-dir build/libfuzzer) keeps its configuration and is only refreshed.
build_if_needed() {
	local flavor="$1" dir="${2:-$repo/build/$1}" cached
	shift $(($# < 2 ? $# : 2))
	cached="$(sed -n 's/^NUB_FLAVOR:[A-Z]*=//p' "$dir/CMakeCache.txt" 2>/dev/null || true)"
	if [[ -n "$cached" && "$cached" != "$flavor" ]]; then
		cmake "$dir" --log-level=WARNING || return
	else
		nub_configure "$flavor" "$dir" || return
	fi
	nub_build "$dir" "$@"
}

# run_logged LOG CMD...: runs CMD with its output in LOG; on failure shows LOG's last 60 lines and
# returns CMD's status.
run_logged() {
	local log="$1" rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 60 "$log" >&2
		warn "failed (exit $rc): $* (full log: $log)"
	fi
	return "$rc"
}

# strip_ansi: terminal escapes out of stdin (afl-fuzz's output).
strip_ansi() { sed 's/\x1b\[[0-9;]*[a-zA-Z]//g'; }

# ---- Steps: one line each, the output in a log file ----
#
# step [-k] NAME CMD [ARG...] runs CMD in this shell (so it may set variables) with stdin from
# /dev/null and stdout+stderr in $nub_log_dir/<nn>-<slug>.log, and prints one line:
#   [  41s] release: build ..................... ok (12.3s)
# The time in brackets is when the step started. CMD may set step_note (printed after the
# duration) and step_skipped=1 (the line says "skipped"; see skip_step); step_log is its log file.
# On failure the line says FAILED, the log follows on stderr (all of it, or its last
# $nub_log_tail lines and its path), the step's name joins nub_failed_steps and the script exits
# with CMD's status; with -k, step returns that status instead. CMD runs with errexit off (it is
# part of a `||` list), so a function given as CMD checks its own commands. The output is the same
# with or without a terminal.
nub_log_dir=""
nub_log_tail=200
nub_step_width=36
nub_step_no=0
nub_step_name=""
nub_step_t0=""
nub_failed_steps=()
step_log=""
step_note=""
step_skipped=0

# The script's own stdout and stderr, for step lines while a step's output goes to its log.
exec {nub_out}>&1 {nub_err}>&2

step() {
	local keep_going=0 rc=0 slug dots
	if [[ "$1" == -k ]]; then
		keep_going=1
		shift
	fi
	[[ -n "$nub_log_dir" ]] || die "step: nub_log_dir is not set"
	nub_step_name="$1"
	shift
	nub_step_no=$((nub_step_no + 1))
	slug="$(printf '%s' "$nub_step_name" | tr -cs '[:alnum:]' '-' | tr '[:upper:]' '[:lower:]')"
	slug="${slug#-}"
	step_log="$nub_log_dir/$(printf '%02d' "$nub_step_no")-${slug%-}.log"
	step_note="" step_skipped=0
	dots=$((nub_step_width - ${#nub_step_name}))
	dots="$(printf '%*s' $((dots > 3 ? dots : 3)) '' | tr ' ' '.')"
	printf '[%4ds] %s %s ' "$(elapsed)" "$nub_step_name" "$dots" 1>&"$nub_out"
	nub_step_t0="$(now_us)"
	"$@" >"$step_log" 2>&1 </dev/null || rc=$?
	if [[ $rc -eq 0 ]]; then
		local status=ok
		[[ $step_skipped -eq 0 ]] || status=skipped
		printf '%s (%ss)%s\n' "$status" "$(secs_since "$nub_step_t0")" \
			"${step_note:+ $step_note}" 1>&"$nub_out"
		nub_step_name=""
		return 0
	fi
	step_failed "$rc"
	[[ $keep_going -eq 1 ]] || exit "$rc"
	return "$rc"
}

# skip_step REASON: as a step's CMD, or from it: the step is skipped for REASON.
skip_step() {
	echo "skipped: $*"
	step_skipped=1
	step_note="($*)"
}

# step_failed RC: ends the running step's line with FAILED and shows its log.
step_failed() {
	local rc="$1" lines
	printf 'FAILED (%ss, exit %s)\n' "$(secs_since "$nub_step_t0")" "$rc" 1>&"$nub_out"
	nub_failed_steps+=("$nub_step_name")
	lines="$(wc -l <"$step_log")"
	{
		if [[ $lines -gt $nub_log_tail ]]; then
			echo "---- $nub_step_name: last $nub_log_tail of $lines lines of $step_log ----"
			tail -n "$nub_log_tail" "$step_log" | strip_ansi
		else
			echo "---- $nub_step_name: $step_log ----"
			strip_ansi <"$step_log"
		fi
		echo "---- end of $step_log ----"
		echo "$nub_script: step '$nub_step_name' failed (exit $rc)"
	} 1>&"$nub_err"
	nub_step_name=""
}

# step_on_exit RC: for the script's EXIT trap. When the script exits inside a step (an `exit` or
# `die` in its CMD, or a signal), the trap still has the step's redirections: this restores the
# script's output and reports the step as failed.
step_on_exit() {
	[[ -n "$nub_step_name" ]] || return 0
	exec 1>&"$nub_out" 2>&"$nub_err"
	step_failed "$1"
}

# ---- ctest ----

# ctest_junit_results JUNIT: one "passed|failed|skipped<TAB>test name" line per test case of the
# file `ctest --output-junit` wrote (ctest 3.25). Skipped: not run because of SKIP_RETURN_CODE,
# or disabled; any other test that did not run (e.g. a missing executable) failed.
ctest_junit_results() {
	awk '
	function attr(a) {
		if (match($0, " " a "=\"[^\"]*\""))
			return substr($0, RSTART + length(a) + 3, RLENGTH - length(a) - 4)
		return ""
	}
	function unescape(s) {
		gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s)
		gsub(/&apos;/, "'\''", s); gsub(/&amp;/, "\\&", s)
		return s
	}
	function emit() {
		if (!open)
			return
		if (status == "run")
			r = "passed"
		else if (status == "disabled" || (status == "notrun" && skip))
			r = "skipped"
		else
			r = "failed"
		print r "\t" unescape(name)
		open = 0
	}
	/<testcase / { emit(); name = attr("name"); status = attr("status"); skip = 0; open = 1 }
	/<skipped message="SKIP_RETURN_CODE=/ { skip = 1 }
	END { emit() }' "$1"
}

# ---- Fuzz targets ----

# fuzz_target_source TARGET: the path (under $repo) of TARGET's source; status 1 if it has none.
# The folder layout ($nub_fuzz_dir/pure/, $nub_fuzz_dir/kvm/) wins over the flat one.
fuzz_target_source() {
	local d
	for d in "$nub_fuzz_dir/pure" "$nub_fuzz_dir/kvm"; do
		if [[ -f "$repo/$d/$1.c" ]]; then
			echo "$d/$1.c"
			return 0
		fi
	done
	return 1
}

# fuzz_target_kind TARGET: "pure" or "kvm", the name of the folder holding its source.
fuzz_target_kind() {
	local src
	src="$(fuzz_target_source "$1")" || return 1
	src="${src%/*}"
	echo "${src##*/}"
}

# fuzz_targets: every fuzz target, "<target> <pure|kvm>" per line, sorted: each fuzz_*.c of the
# target folders above that defines LLVMFuzzerTestOneInput.
fuzz_targets() {
	local src t
	for src in "$repo/$nub_fuzz_dir"/pure/fuzz_*.c "$repo/$nub_fuzz_dir"/kvm/fuzz_*.c; do
		if [[ ! -f "$src" ]] || ! grep -q LLVMFuzzerTestOneInput "$src"; then
			continue
		fi
		t="$(basename "$src" .c)"
		echo "$t $(fuzz_target_kind "$t")"
	done | sort -u -k1,1
}

# fuzz_target_file TARGET EXT: TARGET's .EXT file (dict, options) beside its source, absolute;
# status 1 if there is none.
fuzz_target_file() {
	local src
	src="$(fuzz_target_source "$1")" || return 1
	[[ -f "$repo/${src%.c}.$2" ]] || return 1
	echo "$repo/${src%.c}.$2"
}

# fuzz_binary BUILD_DIR TARGET [SUFFIX]: the path of TARGET's binary (SUFFIX: "" for libFuzzer,
# -afl, -repro) in BUILD_DIR's fuzz folder; status 1 when it was not built.
fuzz_binary() {
	echo "$1/$nub_fuzz_bin_dir/$2${3:-}"
	[[ -x "$1/$nub_fuzz_bin_dir/$2${3:-}" && -f "$1/$nub_fuzz_bin_dir/$2${3:-}" ]]
}

# fuzz_afl_mutator BUILD_DIR TARGET: the path of TARGET's AFL++ custom mutator library (the
# structure-aware mutator, harness/fuzz/mutator.h), beside TARGET-afl in an afl build; status 1
# when the target has none (no nub_fuzz_mutator in its .cmake) or it was not built.
fuzz_afl_mutator() {
	echo "$1/$nub_fuzz_bin_dir/$2-mutator.so"
	[[ -f "$1/$nub_fuzz_bin_dir/$2-mutator.so" ]]
}

# fuzz_options_flags TARGET: libFuzzer flags from the [libfuzzer] section of TARGET's .options
# file, one per line (none without the file).
fuzz_options_flags() {
	local f
	f="$(fuzz_target_file "$1" options)" || return 0
	awk -F'=' '/^\[/{s=($0=="[libfuzzer]")} s && NF==2 {
		gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $2); if ($1 != "") print "-" $1 "=" $2 }' "$f"
}

# afl_env: the command prefix that runs an AFL++ tool (afl-fuzz, afl-cmin, afl-tmin) without the
# caller's sanitizer options. The afl flavour has no sanitizers, and AFL++ sets its own: afl-fuzz
# aborts on a custom ASAN_OPTIONS without symbolize=0 (ci/test.sh exports one for the sanitizer
# flavours). An array, not a function, so that setsid and timeout can run it.
# shellcheck disable=SC2034 # used by the scripts that source this
afl_env=(env -u ASAN_OPTIONS -u UBSAN_OPTIONS -u MSAN_OPTIONS -u TSAN_OPTIONS)

# afl_stat STATS FIELD: one field of an AFL++ fuzzer_stats file.
afl_stat() { sed -n "s/^$2 *: *//p" "$1" 2>/dev/null | head -n 1; }

# count_files DIR: the files directly in DIR (0 if it does not exist).
count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
