#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A fuzz campaign on one target, ending with a summary:
#   ci/campaign.sh [TARGET] [--engine libfuzzer|afl] [--time D] [--jobs N] [--fresh] [--keep-going]
#                  [--no-coverage] [--plant-bug]     (--help: every option with its range)
# TARGET is a fuzz/fuzz_<surface>.c target, with or without the fuzz_ prefix (default below).
# D is 30s, 5m, 1h or plain seconds (default 60s). --jobs N runs N workers (libFuzzer -fork=N,
# AFL++ one -M and N-1 -S instances). The committed seeds corpus/<TARGET>/ are copied into
# build/campaign/<TARGET>/corpus, which accumulates across runs (--fresh starts it over), so the
# committed corpus is never modified. Each run keeps its logs, crashes and AFL's kept inputs in
# build/campaign/<TARGET>/runs/<time>/ (build/campaign/<TARGET>/latest points there).
# Every campaign ends by merging its corpus in place (libFuzzer -merge=1, AFL++ afl-cmin, into
# build/campaign/<TARGET>/corpus.merge, then swapped in); a failed merge leaves the corpus as the
# fuzzer left it and makes the exit status 3.
# Summary: executions per second, corpus size before and after (the merged corpus), a KVM
# target's trivial-iteration line (harness/fuzz/kvm_target.h; from the fuzzer's log, or for AFL++,
# which discards the target's output, from one run of the binary outside afl-fuzz), engine line
# coverage reached by the final corpus (coverage-flavour reproducer + gcovr), crashes grouped by
# signature with the ci/repro.sh command for each. Works without a terminal (CI=true).
# --plant-bug demonstrates the pipeline on the planted bug wire-log-overread
# (harness/fuzz/planted.cmake; env NUB_PLANTED arms it): target wire, libFuzzer only, separate
# build trees build/libfuzzer-plant and build/asan-plant (-DNUB_PLANT_BUG=all).
# Life cycle: each fuzzer runs in its own session and process group. SIGINT, SIGTERM or SIGHUP
# while fuzzing stops them (SIGTERM to the fuzzer, which ends cleanly; after 10 s SIGKILL to its
# group and every process below it), waits for them, and goes on to the summary; the corpus is
# kept. A signal after that ends the script at once (status 128 + the signal's number).
# Exit status: 0 nothing found; 1 a finding (crash, sanitizer report, leak, timeout, out of memory;
# AFL++ crashes and hangs), 0 with --keep-going; 2 usage; 3 the campaign itself failed (a build,
# the fuzzer did not start or failed without a finding).
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The target fuzzed when none is named: the KVM `outb` target (every guest-to-host path).
default_target=outb

max_jobs=64
max_secs=$((7 * 24 * 3600))

usage() {
	echo "usage: ci/campaign.sh [TARGET] [--engine libfuzzer|afl] [--time D] [--jobs N] [--fresh]" \
		"[--keep-going] [--no-coverage] [--plant-bug]  (--help: more)" >&2
	exit 2
}

help() {
	cat <<HELP
usage: ci/campaign.sh [TARGET] [options]
A fuzz campaign on one target, then a summary (executions, corpus, coverage, findings by
signature with their ci/repro.sh commands). Runs in build/campaign/<TARGET>/.
  TARGET             a fuzz target, with or without the fuzz_ prefix (default $default_target):
$(fuzz_targets | awk '{ printf "                       %s (%s)\n", $1, $2 }')
  --engine E         libfuzzer (default) or afl
  --time D           fuzzing time: 30s, 5m, 1h or seconds, from 1 s to ${max_secs} s (7 days);
                     default 60s
  --jobs N           parallel workers, 1 to $max_jobs (libFuzzer -fork=N; AFL++ one -M and N-1 -S)
  --fresh            start the campaign corpus over from the committed seeds
                     (the corpus is merged in place at the end of every campaign)
  --keep-going       report findings but exit 0
  --no-coverage      skip the engine-coverage replay (coverage flavour build)
  --plant-bug        the planted bug wire-log-overread (target wire, libfuzzer only;
                     build/*-plant trees with -DNUB_PLANT_BUG=all, NUB_PLANTED exported)
  -h, --help         this text
SIGINT, SIGTERM or SIGHUP while fuzzing stops every fuzzer process (their process groups), waits
for them, then prints the summary and keeps the corpus; a second signal exits at once.
Exit status:
  0  nothing found (or --keep-going)
  1  a finding: crash, sanitizer report, leak, timeout, out of memory (AFL++: crash or hang)
  2  usage
  3  the campaign itself failed: a build, or the fuzzer did not start or failed without a finding
HELP
	exit 0
}

# bad_arg MSG: the reason and the usage line, exit 2.
bad_arg() {
	warn "$*"
	usage
}

# need_value OPTION ARGC: OPTION needs a value.
need_value() { [[ $2 -ge 2 ]] || bad_arg "$1 needs a value (see --help)"; }

target="" engine=libfuzzer duration=60s jobs=1 fresh=0 plant=0 keep_going=0 coverage=1
while [[ $# -gt 0 ]]; do
	case "$1" in
	--engine)
		need_value "$1" $#
		[[ "$2" == libfuzzer || "$2" == afl ]] ||
			bad_arg "--engine takes libfuzzer or afl, not '$2'"
		engine="$2"
		shift 2
		;;
	--time)
		need_value "$1" $#
		duration="$2"
		shift 2
		;;
	--jobs)
		need_value "$1" $#
		if [[ ! "$2" =~ ^[0-9]{1,4}$ ]] || ((10#$2 < 1 || 10#$2 > max_jobs)); then
			bad_arg "--jobs takes a whole number from 1 to $max_jobs, not '$2'"
		fi
		jobs=$((10#$2))
		shift 2
		;;
	--fresh)
		fresh=1
		shift
		;;
	--keep-going)
		keep_going=1
		shift
		;;
	--no-coverage)
		coverage=0
		shift
		;;
	--plant-bug)
		plant=1
		shift
		;;
	-h | --help) help ;;
	-*) bad_arg "unknown option '$1'" ;;
	*)
		[[ -z "$target" ]] || bad_arg "one TARGET only: '$target' and '$1'"
		target="$1"
		shift
		;;
	esac
done
if [[ $plant -eq 1 ]]; then
	target="${target:-wire}"
	if [[ "$engine" != libfuzzer || "${target#fuzz_}" != wire ]]; then
		die_usage "--plant-bug works with the wire target and --engine libfuzzer"
	fi
fi
target="${target:-$default_target}"
[[ "$target" == fuzz_* ]] || target="fuzz_$target"
if ! fuzz_target_source "$target" >/dev/null; then
	warn "no fuzz target '$target'; the targets are:"
	fuzz_targets | awk '{ printf "  %s (%s)\n", $1, $2 }' >&2
	exit 2
fi
if [[ "$duration" =~ ^([0-9]+)([smh]?)$ ]]; then
	secs=$((${#BASH_REMATCH[1]} > 7 ? max_secs + 1 : 10#${BASH_REMATCH[1]}))
	case "${BASH_REMATCH[2]}" in
	m) secs=$((secs * 60)) ;;
	h) secs=$((secs * 3600)) ;;
	esac
else
	bad_arg "--time takes 30s, 5m, 1h or seconds, not '$duration'"
fi
if [[ $secs -lt 1 || $secs -gt $max_secs ]]; then
	bad_arg "--time must be from 1 s to $max_secs s (7 days), not '$duration'"
fi

# fail_campaign MSG: the campaign itself failed (exit 3).
fail_campaign() {
	warn "$*"
	exit 3
}

# ---- Life cycle: the fuzzers' process groups, and the signals that stop them ----
fuzz_pids=()    # each a session and process-group leader (setsid), our child
stop_signal=""  # INT, TERM or HUP once one arrived while fuzzing
fuzzing=0       # 1 while the fuzzers run
nap_pid=""

# nap SECS: sleeps in the background, so that a signal's trap runs at once.
nap() {
	sleep "$1" &
	nap_pid=$!
	wait "$nap_pid" 2>/dev/null || true
	nap_pid=""
}

# nap_while_live SECS PID...: sleeps up to SECS seconds, less once no PID lives (the status lines
# come every SECS seconds, the end of the fuzzer is seen within 0.2 s).
nap_while_live() {
	local i p n="$1" any
	shift
	for ((i = 0; i < n * 5; i++)); do
		any=0
		for p in "$@"; do
			if live "$p"; then
				any=1
				break
			fi
		done
		[[ $any -eq 1 ]] || return 0
		nap 0.2
	done
}

# live PID: PID exists and is not a zombie.
live() {
	local st
	st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
	[[ -n "$st" && "$st" != Z* ]]
}

# group_live PGID: some process of the process group PGID is alive (zombies do not count).
group_live() {
	# shellcheck disable=SC2009 # pgrep counts zombies, which this must not
	ps -o stat= --pgroup "$1" 2>/dev/null | grep -qv '^Z'
}

# descendants PID...: each PID and every process below it, one per line.
descendants() {
	local p kids
	for p in "$@"; do
		echo "$p"
		mapfile -t kids < <(ps -o pid= --ppid "$p" 2>/dev/null | tr -d ' ')
		[[ ${#kids[@]} -eq 0 ]] || descendants "${kids[@]}"
	done
}

# stop_fuzzers: SIGTERM to each fuzzer's timeout(1), which passes it to its process group
# (libFuzzer and afl-fuzz end cleanly on it, printing their final stats; SIGINT would be ignored by
# a fuzzer started in the background of a non-interactive shell), up to 10 s for every process
# below them to end, then SIGKILL to the groups and to every process seen below them (an AFL++ fork
# server has a session of its own).
stop_fuzzers() {
	local p i any procs=()
	[[ ${#fuzz_pids[@]} -gt 0 ]] || return 0
	mapfile -t procs < <(descendants "${fuzz_pids[@]}")
	for p in "${fuzz_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for ((i = 0; i < 100; i++)); do
		any=0
		for p in "${procs[@]}"; do
			if live "$p"; then
				any=1
				break
			fi
		done
		# A libFuzzer -fork worker started since the last look is in the group, not yet in procs.
		for p in "${fuzz_pids[@]}"; do
			! group_live "$p" || any=1
		done
		[[ $any -eq 1 ]] || break
		sleep 0.1
		[[ $((i % 10)) -ne 9 ]] || mapfile -t -O "${#procs[@]}" procs < <(descendants "${fuzz_pids[@]}")
	done
	[[ $any -eq 0 ]] || warn "the fuzzer did not stop within 10 s of SIGTERM: SIGKILL to its process group"
	# Always: whatever is left of the groups, and anything seen below them in a session of its own.
	for p in "${fuzz_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	for p in "${procs[@]}"; do ! live "$p" || kill -KILL "$p" 2>/dev/null || true; done
	for ((i = 0; i < 20; i++)); do
		any=0
		for p in "${fuzz_pids[@]}"; do ! group_live "$p" || any=1; done
		[[ $any -eq 1 ]] || break
		sleep 0.1
	done
}

# on_signal NAME NUMBER: while fuzzing, stop the fuzzers and go on to the summary; otherwise (or
# the second time) end at once.
on_signal() {
	[[ -z "$nap_pid" ]] || kill "$nap_pid" 2>/dev/null || true
	if [[ $fuzzing -eq 1 && -z "$stop_signal" ]]; then
		stop_signal="$1"
		warn "SIG$1: stopping the fuzzer(s), then the summary (SIG$1 again: exit at once)"
		stop_fuzzers
		return 0
	fi
	warn "SIG$1: exiting without the summary"
	for p in "${fuzz_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	exit $((128 + $2))
}
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

cd "$repo"
suffix=""
plant_args=()
if [[ $plant -eq 1 ]]; then
	suffix="-plant"
	plant_args=(-DNUB_PLANT_BUG=all)
	# The shims pass through unless armed: the fuzzer and every reproduction carry this bug.
	export NUB_PLANTED=wire-log-overread
fi

# build_tree FLAVOR DIR [TARGET...]: build_if_needed, except that with --plant-bug DIR is always
# configured with the planted bug (a fresh DIR would lack it).
build_tree() {
	if [[ $plant -eq 1 ]]; then
		nub_configure "$1" "$2" "${plant_args[@]}" && nub_build "$2" "${@:3}"
	else
		build_if_needed "$@"
	fi
}

work="$repo/build/campaign/$target"
run_dir="$work/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir/crashes"
ln -sfn "$run_dir" "$work/latest"

banner "deps: ci/deps.sh"
bash "$repo/ci/deps.sh"

build_dir="$repo/build/$engine$suffix"
banner "build: $engine flavour (ci/build.sh $engine -> build/$engine$suffix)"
bin_suffix=""
[[ "$engine" == libfuzzer ]] || bin_suffix=-afl
run_logged "$run_dir/build-$engine.log" build_tree "$engine" "$build_dir" "$target$bin_suffix" ||
	fail_campaign "building $target$bin_suffix in $build_dir failed (log: $run_dir/build-$engine.log)"
bin="$(fuzz_binary "$build_dir" "$target" "$bin_suffix")" || fail_campaign "$bin was not built"
echo "built $bin"

banner "corpus: committed seeds -> build/campaign/$target/corpus"
corpus="$work/corpus"
[[ $fresh -eq 1 ]] && rm -rf "$corpus"
mkdir -p "$corpus"
cp -n "$repo/$nub_corpus_dir/$target"/* "$corpus/" 2>/dev/null || true
size_of() { du -sh "$1" 2>/dev/null | cut -f1; }
before="$(count_files "$corpus")"
before_size="$(size_of "$corpus")"
echo "$before inputs ($before_size) in $corpus"

option_value() { fuzz_options_flags "$target" | sed -n "s/^-$1=//p" | head -n 1; }

banner "fuzz: $target with $engine for ${secs}s, $jobs job(s)"
fuzz_t0=$(($(now_us) / 1000000))
execs=0 exec_rate=0 fuzz_rc=0
fuzz_log="$run_dir/fuzz.log"

if [[ "$engine" == libfuzzer ]]; then
	mapfile -t flags < <(fuzz_options_flags "$target")
	flags+=(-max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$run_dir/crashes/")
	if dict="$(fuzz_target_file "$target" dict)"; then
		flags+=(-dict="$dict")
	fi
	# Value profiling steers mutations to compared constants (the planted bug's 0x4242).
	[[ $plant -eq 1 ]] && flags+=(-use_value_profile=1)
	if [[ $jobs -gt 1 ]]; then
		flags+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	fi
	echo "$bin ${flags[*]} $corpus"
	fuzzing=1
	(cd "$run_dir" && exec setsid timeout --signal=KILL $((secs + 300)) "$bin" "${flags[@]}" \
		"$corpus") >"$fuzz_log" 2>&1 </dev/null &
	pid=$!
	fuzz_pids+=("$pid")
	shown=""
	while live "$pid"; do
		nap_while_live 5 "$pid"
		# libFuzzer's own status lines, the latest one every 5 s.
		line="$(grep -aE '^#[0-9]+' "$fuzz_log" | tail -n 1 || true)"
		if [[ -n "$line" && "$line" != "$shown" ]]; then
			echo "[$(elapsed)s] $line"
			shown="$line"
		fi
	done
	wait "$pid" || fuzz_rc=$?
	fuzzing=0
	if ! grep -qaE '^INFO: Seed: ' "$fuzz_log"; then
		tail -n 30 "$fuzz_log" >&2
		fail_campaign "libFuzzer did not start (exit $fuzz_rc); see $fuzz_log"
	fi
	grep -aE '^(==[0-9]+==ERROR|SUMMARY|INFO: (exiting|fuzzed for))' "$fuzz_log" | head -n 5 || true
	execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzz_log" | tail -n 1)"
	exec_rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$fuzz_log" | tail -n 1)"
	if [[ -z "$execs" ]]; then
		execs="$(grep -aEo '^#[0-9]+' "$fuzz_log" | tail -n 1 | tr -d '#')"
	fi
	if [[ -z "$exec_rate" || "$exec_rate" == 0 ]]; then
		exec_rate="$(grep -aEo 'exec/s:? [0-9]+' "$fuzz_log" | tail -n 1 | grep -Eo '[0-9]+$' || true)"
	fi
	crash_files=()
	while IFS= read -r f; do crash_files+=("$f"); done < <(find "$run_dir/crashes" -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
else
	out="$run_dir/afl"
	# afl-fuzz discards the target's stderr: the trivial-iteration line comes from one run of the
	# same binary on an empty input, outside afl-fuzz (before it, while the machine is idle).
	: >"$run_dir/empty-input"
	"$bin" "$run_dir/empty-input" >/dev/null 2>"$run_dir/iteration.log" || true
	export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
	export AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 NUB_FUZZ_KEEP_DIR="$run_dir/keep"
	timeout_ms="$(option_value timeout)"
	timeout_ms=$(((${timeout_ms:-10}) * 1000))
	afl_common=(-i "$corpus" -o "$out" -V "$secs" -t "$timeout_ms")
	if dict="$(fuzz_target_file "$target" dict)"; then
		afl_common+=(-x "$dict")
	fi
	pids=()
	if [[ $jobs -eq 1 ]]; then
		echo "afl-fuzz ${afl_common[*]} -- $bin"
		fuzzing=1
		setsid timeout --signal=KILL $((secs + 300)) afl-fuzz "${afl_common[@]}" -- "$bin" \
			>"$fuzz_log" 2>&1 </dev/null &
		pids+=($!)
		fuzz_pids+=($!)
	else
		for i in $(seq 1 "$jobs"); do
			if [[ $i -eq 1 ]]; then role=(-M main); else role=(-S "sec$i"); fi
			echo "afl-fuzz ${role[*]} ${afl_common[*]} -- $bin"
			fuzzing=1
			setsid timeout --signal=KILL $((secs + 300)) afl-fuzz "${role[@]}" \
				"${afl_common[@]}" -- "$bin" >"$run_dir/fuzz-$i.log" 2>&1 </dev/null &
			pids+=($!)
			fuzz_pids+=($!)
		done
	fi
	running() {
		local p
		for p in "${pids[@]}"; do live "$p" && return 0; done
		return 1
	}
	while running; do
		nap_while_live 5 "${pids[@]}"
		# afl-fuzz has no UI without a terminal: show its latest status line (AFL_NO_UI) and
		# fuzzer_stats (rewritten about once a minute, and at the end).
		for l in "$fuzz_log" "$run_dir"/fuzz-*.log; do
			[[ -f "$l" ]] || continue
			line="$(strip_ansi <"$l" | grep -aE 'Fuzzing test case|dry run|Entering queue' |
				tail -n 1 || true)"
			[[ -n "$line" ]] && echo "[$(elapsed)s] $(basename "$l" .log): ${line#\[\*\] }"
		done
		for s in "$out"/*/fuzzer_stats; do
			[[ -f "$s" ]] || continue
			echo "[$(elapsed)s] $(basename "$(dirname "$s")") stats:" \
				"execs $(afl_stat "$s" execs_done), $(afl_stat "$s" execs_per_sec)/s," \
				"corpus $(afl_stat "$s" corpus_count), crashes $(afl_stat "$s" saved_crashes)," \
				"hangs $(afl_stat "$s" saved_hangs), stability $(afl_stat "$s" stability)"
		done
	done
	for p in "${pids[@]}"; do wait "$p" || fuzz_rc=$?; done
	fuzzing=0
	execs=0 total_time=0
	for s in "$out"/*/fuzzer_stats; do
		[[ -f "$s" ]] || continue
		execs=$((execs + $(afl_stat "$s" execs_done)))
		t=$(($(afl_stat "$s" last_update) - $(afl_stat "$s" start_time)))
		[[ $t -gt $total_time ]] && total_time=$t
	done
	[[ $total_time -gt 0 ]] && exec_rate=$((execs / total_time))
	if [[ ! -f "$out/default/fuzzer_stats" && ! -f "$out/main/fuzzer_stats" ]]; then
		tail -n 30 "$fuzz_log" "$run_dir"/fuzz-*.log 2>/dev/null >&2 || true
		fail_campaign "afl-fuzz did not start (exit $fuzz_rc)"
	fi
	# New queue entries join the work corpus under their SHA-1, like libFuzzer's.
	declare -A have=()
	while read -r sum _; do have[$sum]=1; done < <(find "$corpus" -type f -exec sha1sum {} +)
	while IFS= read -r f; do
		sum="$(sha1sum "$f" | cut -d' ' -f1)"
		if [[ -z "${have[$sum]:-}" ]]; then
			cp "$f" "$corpus/$sum"
			have[$sum]=1
		fi
	done < <(find "$out" -path '*/queue/id:*' -type f)
	crash_files=()
	while IFS= read -r f; do crash_files+=("$f"); done < <(find "$out" -type f \
		\( -path '*/crashes/id:*' -o -path '*/hangs/id:*' \) | sort)
fi
fuzz_secs=$(($(now_us) / 1000000 - fuzz_t0))

# ---- Merge: the corpus minimised in place (libFuzzer -merge=1, afl-cmin) into a fresh folder,
# then swapped in; on failure the corpus stays as the fuzzer left it. ----
banner "merge: $corpus, in place"
fuzzed="$(count_files "$corpus")"
merged="$work/corpus.merge"
rm -rf "$merged" "$work/corpus.old"
mkdir -p "$merged"
merge_log="$run_dir/merge.log"
merge_rc=0 merge_note=""
if [[ "$engine" == libfuzzer ]]; then
	mapfile -t merge_cmd < <(fuzz_options_flags "$target")
	# Crashes met while merging are not findings of this run: their artifacts go beside the log.
	merge_cmd=("$bin" "${merge_cmd[@]}" -merge=1 -merge_control_file="$run_dir/merge.control"
		-artifact_prefix="$run_dir/merge-" "$merged" "$corpus")
else
	merge_cmd=(afl-cmin -i "$corpus" -o "$merged" -t "$timeout_ms" -- "$bin")
fi
echo "${merge_cmd[*]}"
# In its own process group too: a signal now ends the campaign at once, the corpus unmerged.
setsid "${merge_cmd[@]}" >"$merge_log" 2>&1 </dev/null &
merge_pid=$!
fuzz_pids+=("$merge_pid")
wait "$merge_pid" || merge_rc=$?
if [[ $merge_rc -eq 0 && ($(count_files "$merged") -gt 0 || $fuzzed -eq 0) ]]; then
	mv "$corpus" "$work/corpus.old"
	mv "$merged" "$corpus"
	rm -rf "$work/corpus.old"
	merge_note="merged from $fuzzed files"
	grep -aE '^MERGE-OUTER: [0-9]+ new files|^\[\+\] Narrowed down' "$merge_log" | tail -n 1 || true
else
	tail -n 20 "$merge_log"
	rm -rf "$merged"
	merge_note="NOT merged: the merge exited $merge_rc ($merge_log)"
	warn "merging the corpus failed (exit $merge_rc); it is kept as the fuzzer left it"
fi
after="$(count_files "$corpus")"
after_size="$(size_of "$corpus")"
# A KVM target prints its trivial-iteration line once per process, as soon as its VM is set up.
iteration=""
if [[ "$(fuzz_target_kind "$target")" == kvm ]]; then
	iteration_log="$fuzz_log"
	[[ "$engine" == afl ]] && iteration_log="$run_dir/iteration.log"
	iteration="$(sed -n "s/^nub-fuzz: $target: trivial iteration/trivial iteration/p" \
		"$iteration_log" 2>/dev/null | head -n 1)"
	iteration="${iteration:-not printed (see $iteration_log)}"
fi

banner "coverage: $target-repro (coverage flavour) over the final corpus"
cov_dir="$repo/build/coverage"
coverage_line="not measured"
if [[ $coverage -eq 0 ]]; then
	coverage_line="not measured (--no-coverage)"
	echo "skipped (--no-coverage)"
elif build_if_needed coverage "$cov_dir" "$target-repro" >"$run_dir/build-coverage.log" 2>&1; then
	# Only this run's counters: the engine objects of this build tree start from zero.
	find "$cov_dir/$nub_fuzz_bin_dir" "$cov_dir/$nub_engine_dir" -name '*.gcda' -delete \
		2>/dev/null || true
	"$(fuzz_binary "$cov_dir" "$target" -repro)" "$corpus" >"$run_dir/coverage-replay.log" 2>&1 ||
		echo "(the coverage replay exited non-zero; see $run_dir/coverage-replay.log)"
	# Measured over the engine modules linked into the target (those that wrote counters): the
	# objects of an engine library (<engine build dir>/CMakeFiles/<library>.dir/<path under
	# engine/>.gcda) or engine sources compiled into a target (.../engine/src/<path>.gcda).
	filters=()
	while IFS= read -r g; do
		g="${g%.gcda}"
		case "$g" in
		"$cov_dir/$nub_engine_dir"/CMakeFiles/*.dir/*.c)
			src="$nub_engine_dir/${g#"$cov_dir/$nub_engine_dir"/CMakeFiles/*.dir/}"
			;;
		*/"$nub_engine_src"/*.c) src="$nub_engine_src/${g##*/"$nub_engine_src"/}" ;;
		*) continue ;;
		esac
		filters+=(--filter "${src//./\\.}\$")
	done < <(find "$cov_dir/$nub_fuzz_bin_dir" "$cov_dir/$nub_engine_dir" -name '*.gcda' \
		2>/dev/null | sort -u)
	[[ ${#filters[@]} -gt 0 ]] || filters=(--filter "$nub_engine_src/")
	if gcovr --root "$repo" "${filters[@]}" --filter "$nub_engine_src/.*\\.h\$" --print-summary \
		"$cov_dir/$nub_fuzz_bin_dir" "$cov_dir/$nub_engine_dir" >"$run_dir/coverage.txt" 2>&1; then
		grep -E "^(File|$nub_engine_dir/|-+\$|TOTAL)" "$run_dir/coverage.txt" || true
		coverage_line="$(grep -E '^lines:' "$run_dir/coverage.txt" | head -n 1)"
	else
		tail -n 20 "$run_dir/coverage.txt"
	fi
else
	echo "(building the coverage reproducer failed; see $run_dir/build-coverage.log)"
fi

banner "triage: ${#crash_files[@]} crash/hang file(s)"
declare -A group_first=() group_count=()
if [[ ${#crash_files[@]} -gt 0 ]]; then
	asan_dir="$repo/build/asan$suffix"
	run_logged "$run_dir/build-asan.log" build_tree asan "$asan_dir" "$target-repro" ||
		fail_campaign "building $target-repro in $asan_dir failed (log: $run_dir/build-asan.log)"
	for f in "${crash_files[@]}"; do
		sig="$(NUB_REPRO_TIMEOUT=60 bash "$repo/ci/repro.sh" "$f" --target "$target" \
			--build-dir "$asan_dir" --no-build 2>&1 | grep '^signature: ' | tail -n 1 || true)"
		sig="${sig#signature: }"
		[[ -n "$sig" ]] || sig="$target | unknown (no signature printed) | - | -"
		if [[ "$sig" == *"| none |"* ]]; then
			sig="$sig (did not reproduce with the asan reproducer)"
		fi
		if [[ -z "${group_first[$sig]:-}" ]]; then
			group_first[$sig]="$f"
			group_count[$sig]=0
		fi
		group_count[$sig]=$((group_count[$sig] + 1))
	done
fi

banner "summary: $target, $engine, ${secs}s, $jobs job(s)"
if [[ -n "$stop_signal" ]]; then
	echo "stopped:         by SIG$stop_signal after ${fuzz_secs}s of fuzzing (of ${secs}s);" \
		"corpus kept"
else
	echo "fuzzing time:    ${fuzz_secs}s (of ${secs}s)"
fi
echo "executions:      ${execs:-0} (${exec_rate:-0} exec/s)"
echo "corpus:          $before inputs ($before_size) before, $after inputs ($after_size) after," \
	"$merge_note ($corpus)"
[[ -z "$iteration" ]] || echo "iteration:       $iteration"
if [[ $coverage -eq 1 ]]; then
	echo "engine coverage: $coverage_line (gcovr, engine/src modules linked into $target; $run_dir/coverage.txt)"
else
	echo "engine coverage: $coverage_line"
fi
echo "run directory:   $run_dir"
if [[ "$engine" == afl && -d "$run_dir/keep" ]]; then
	kept="$(find "$run_dir/keep" -mindepth 1 -maxdepth 1 -type d | wc -l)"
	echo "kept inputs:     $kept child directories in $run_dir/keep (replay one in order: ci/repro.sh DIR)"
fi
if [[ ${#crash_files[@]} -eq 0 ]]; then
	echo "crashes:         none"
else
	echo "crashes:         ${#crash_files[@]} file(s), ${#group_first[@]} signature(s):"
	for sig in "${!group_first[@]}"; do
		echo "  ${group_count[$sig]} x signature: $sig"
		echo "      ${NUB_PLANTED:+NUB_PLANTED=$NUB_PLANTED }ci/repro.sh ${group_first[$sig]} --target $target${suffix:+ --build-dir build/asan$suffix}"
	done
fi
if [[ $fuzz_rc -ne 0 && ${#crash_files[@]} -eq 0 && -z "$stop_signal" ]]; then
	fail_campaign "the fuzzer exited $fuzz_rc without a crash file; see $fuzz_log"
fi
if [[ ${#crash_files[@]} -gt 0 && $keep_going -eq 0 ]]; then
	log "done in $(elapsed)s: ${#crash_files[@]} finding(s) (exit 1)"
	exit 1
fi
[[ $merge_rc -eq 0 ]] || fail_campaign "merging the corpus failed (exit $merge_rc); see $merge_log"
if [[ ${#crash_files[@]} -gt 0 ]]; then
	log "done in $(elapsed)s: ${#crash_files[@]} finding(s) (--keep-going: exit 0)"
	exit 0
fi
log "done in $(elapsed)s: nothing found"
