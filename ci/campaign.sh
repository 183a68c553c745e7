#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A fuzz campaign on one target, ending with a summary:
#   ci/campaign.sh [TARGET] [--engine libfuzzer|afl] [--time D] [--jobs N] [--fresh] [--keep-going]
#                  [--no-coverage] [--plant-bug] [--status-every SECS]
#                  [--sync-dir DIR --instance NAME [--main]]   (--help: every option with its range)
# TARGET is a fuzz/fuzz_<surface>.c target, with or without the fuzz_ prefix (default below).
# D is 30s, 5m, 1h or plain seconds (default 60s). --jobs N runs N workers (libFuzzer -fork=N,
# AFL++ one -M and N-1 -S instances). The committed seeds corpus/<TARGET>/ are copied into
# build/campaign/<TARGET>/corpus (NUB_CAMPAIGN_DIR replaces build/campaign), which accumulates
# across runs (--fresh starts it over), so the committed corpus is never modified. Each run keeps
# its logs, crashes and AFL's kept inputs in build/campaign/<TARGET>/runs/<time>[-NAME]/
# (build/campaign/<TARGET>/latest points there).
# AFL++ keeps one output directory per campaign, build/campaign/<TARGET>/afl, which each instance
# resumes (afl-fuzz -i -; --fresh or a broken instance directory starts from the corpus;
# ci/campaign_afl.sh). --sync-dir DIR --instance NAME [--main] (AFL++ only) fuzz as -S NAME (-M
# NAME) in the AFL++ sync directory DIR instead, which other campaign processes or machines share.
# Every campaign ends by merging its corpus in place (libFuzzer -merge=1, AFL++ afl-cmin, into
# build/campaign/<TARGET>/corpus.merge, then swapped in; ci/campaign_corpus.sh, which
# ci/minimize.sh runs too); a failed merge leaves the corpus as the fuzzer left it and makes the
# exit status 3.
# Findings (ci/campaign_findings.sh): each crash file is signed with the ASan reproducer
# (ci/repro.sh); a signature new to the store build/campaign/<TARGET>/findings/ is minimised
# (libFuzzer -minimize_crash=1, afl-tmin; NUB_MINIMIZE_SECS bounds it), its signature checked
# unchanged (else the original is kept as minimized) and stored with first_seen and count; a known
# one adds to its count. Each run writes findings.json; ci/keep-crash.sh makes a finding a
# regression input.
# Live status (ci/campaign_status.sh): in a terminal one block redrawn every second (fuzzing time,
# executions, exec/s now and on average, corpus and coverage as the fuzzer counts them, findings,
# time since the last new coverage, a row per job with --jobs); without one (a pipe, CI=true) one
# line every --status-every seconds. Each sample is a row of the run's plot.tsv.
# Summary (about 12 lines): executions per second, corpus size before and after (the merged
# corpus), a KVM target's trivial-iteration line (harness/fuzz/kvm_target.h; from the fuzzer's
# log, or for AFL++, which discards the target's output, from one run of the binary outside
# afl-fuzz), the fuzzer's own coverage, engine line coverage reached by the final corpus
# (coverage-flavour reproducer + gcovr), crashes grouped by signature with the ci/repro.sh command
# of each minimised file. Reports in the run directory (ci/campaign_report.sh): summary.json,
# plot.png (exec/s, corpus and coverage over time, from plot.tsv), coverage/index.html and
# coverage.txt (gcovr).
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
# shellcheck source=ci/campaign_corpus.sh
. "$(dirname "${BASH_SOURCE[0]}")/campaign_corpus.sh"
# shellcheck source=ci/campaign_afl.sh
. "$(dirname "${BASH_SOURCE[0]}")/campaign_afl.sh"
# shellcheck source=ci/campaign_findings.sh
. "$(dirname "${BASH_SOURCE[0]}")/campaign_findings.sh"
# shellcheck source=ci/campaign_status.sh
. "$(dirname "${BASH_SOURCE[0]}")/campaign_status.sh"
# shellcheck source=ci/campaign_report.sh
. "$(dirname "${BASH_SOURCE[0]}")/campaign_report.sh"

# The target fuzzed when none is named: the KVM `outb` target (every guest-to-host path).
default_target=outb

max_jobs=64
max_secs=$((7 * 24 * 3600))
max_every=3600

usage() {
	echo "usage: ci/campaign.sh [TARGET] [--engine libfuzzer|afl] [--time D] [--jobs N] [--fresh]" \
		"[--keep-going] [--no-coverage] [--plant-bug] [--status-every SECS]" \
		"[--sync-dir DIR --instance NAME [--main]]  (--help: more)" >&2
	exit 2
}

help() {
	cat <<HELP
usage: ci/campaign.sh [TARGET] [options]
A fuzz campaign on one target with a live status, then a summary (executions, corpus, coverage,
findings by signature with their ci/repro.sh commands). Runs in build/campaign/<TARGET>/; each
run's directory runs/<time>/ keeps summary.json, plot.png (exec/s, corpus and coverage over time),
coverage/index.html (gcovr, the merged corpus) and the logs.
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
  --status-every S   without a terminal, one status line every S seconds, 1 to $max_every
                     (default 10); in a terminal one status block is redrawn every second
  --sync-dir DIR     AFL++ only, with --instance: fuzz in the AFL++ sync directory DIR that
                     other campaign processes (or machines, see the README) share
  --instance NAME    this process's AFL++ instance in DIR: 1 to 32 of A-Z a-z 0-9 _ -, starting
                     with a letter or digit; runs as -S NAME (further --jobs as -S NAME-2 ...)
  --main             run NAME as -M NAME, the main instance (one per sync directory)
  -h, --help         this text
AFL++ keeps one output directory per campaign (build/campaign/<TARGET>/afl, or DIR) and each
instance resumes its own (afl-fuzz -i -); --fresh, or a broken one, starts it from the corpus.
Each finding is minimised (libFuzzer -minimize_crash, afl-tmin), its signature checked unchanged,
and kept once per signature across runs in build/campaign/<TARGET>/findings/<hash>/ (minimized,
original, signature.txt, first_seen, count); the run's findings.json lists them. ci/minimize.sh
minimises a corpus on its own; ci/keep-crash.sh turns a finding into a regression input.
Environment: NUB_CAMPAIGN_DIR   the campaigns' folder (default build/campaign)
             NUB_MINIMIZE_SECS  time to minimise one finding, 1 to 3600 s (default 60)
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

target="" engine=libfuzzer duration=60s jobs=1 fresh=0 plant=0 keep_going=0 coverage=1 every=10
sync_dir="" instance="" main=0
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
	--status-every)
		need_value "$1" $#
		if [[ ! "$2" =~ ^[0-9]{1,4}$ ]] || ((10#$2 < 1 || 10#$2 > max_every)); then
			bad_arg "--status-every takes seconds from 1 to $max_every, not '$2'"
		fi
		every=$((10#$2))
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
	--sync-dir)
		need_value "$1" $#
		[[ -n "$2" ]] || bad_arg "--sync-dir takes a directory, not ''"
		sync_dir="$2"
		shift 2
		;;
	--instance)
		need_value "$1" $#
		[[ "$2" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$ ]] ||
			bad_arg "--instance takes 1 to 32 of A-Z a-z 0-9 _ - (a letter or digit first), not '$2'"
		instance="$2"
		shift 2
		;;
	--main)
		main=1
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
if [[ -n "$sync_dir$instance" || $main -eq 1 ]]; then
	[[ "$engine" == afl ]] || bad_arg "--sync-dir, --instance and --main are for --engine afl"
	[[ -n "$sync_dir" && -n "$instance" ]] || bad_arg "--sync-dir and --instance go together"
	if [[ -e "$sync_dir" && ! -d "$sync_dir" ]] || [[ -L "$sync_dir" && ! -e "$sync_dir" ]]; then
		bad_arg "--sync-dir $sync_dir exists and is not a directory"
	fi
	sync_dir="$(realpath -m "$sync_dir")"
fi
minimize_secs="${NUB_MINIMIZE_SECS:-60}"
if [[ ! "$minimize_secs" =~ ^[1-9][0-9]{0,3}$ ]] || ((minimize_secs > 3600)); then
	bad_arg "NUB_MINIMIZE_SECS takes whole seconds from 1 to 3600, not '$minimize_secs'"
fi
campaigns="${NUB_CAMPAIGN_DIR:-$repo/build/campaign}"
if [[ -e "$campaigns" && ! -d "$campaigns" ]]; then
	bad_arg "NUB_CAMPAIGN_DIR=$campaigns exists and is not a directory"
fi
campaigns="$(realpath -m "$campaigns")"
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

work="$campaigns/$target"
# Two instances of one campaign may start in the same second.
run_dir="$work/runs/$(date +%Y%m%d-%H%M%S)${instance:+-$instance}"
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

banner "corpus: committed seeds -> $(repo_rel "$work/corpus")"
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
	status_init libfuzzer "$target" "$secs" "$jobs" "$run_dir" "$every"
	while live "$pid"; do
		nap_while_live 1 "$pid"
		[[ -n "$stop_signal" ]] || status_tick "$pid"
	done
	status_end
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
	# One output directory per campaign, resumed by each instance (ci/campaign_afl.sh).
	out="${sync_dir:-$work/afl}"
	# afl-fuzz discards the target's stderr: the trivial-iteration line comes from one run of the
	# same binary on an empty input, outside afl-fuzz (before it, while the machine is idle).
	: >"$run_dir/empty-input"
	"$bin" "$run_dir/empty-input" >/dev/null 2>"$run_dir/iteration.log" || true
	export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
	export AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 NUB_FUZZ_KEEP_DIR="$run_dir/keep"
	# An instance joining a running campaign takes in the others' finds before its first round
	# (AFL++ syncs again only every AFL_SYNC_TIME minutes, 30 by default, 15 for the -M one).
	[[ -z "$sync_dir" ]] || export AFL_IMPORT_FIRST=1
	timeout_ms="$(option_value timeout)"
	timeout_ms=$(((${timeout_ms:-10}) * 1000))
	afl_common=(-o "$out" -V "$secs" -t "$timeout_ms")
	if dict="$(fuzz_target_file "$target" dict)"; then
		afl_common+=(-x "$dict")
	fi
	afl_plan "$out" "$corpus" "$run_dir/afl-start" "$jobs" "$instance" "$main" "$fresh"
	# The structure-aware mutator, for the targets that have one (NUB_FUZZ_MUTATOR=off: unused).
	if mutator="$(fuzz_afl_mutator "$build_dir" "$target")"; then
		export AFL_CUSTOM_MUTATOR_LIBRARY="$mutator"
	fi
	pids=()
	for i in "${!afl_instances[@]}"; do
		read -ra role <<<"${afl_roles[i]}"
		l="$fuzz_log"
		[[ ${#afl_instances[@]} -eq 1 ]] || l="$run_dir/fuzz-$((i + 1)).log"
		echo "afl-fuzz ${afl_roles[i]:+${afl_roles[i]} }-i ${afl_inputs[i]} ${afl_common[*]} -- $bin"
		fuzzing=1
		setsid timeout --signal=KILL $((secs + 300)) "${afl_env[@]}" afl-fuzz "${role[@]}" \
			-i "${afl_inputs[i]}" "${afl_common[@]}" -- "$bin" >"$l" 2>&1 </dev/null &
		pids+=($!)
		fuzz_pids+=($!)
	done
	running() {
		local p
		for p in "${pids[@]}"; do live "$p" && return 0; done
		return 1
	}
	# afl-fuzz's own screen is off (AFL_NO_UI): the campaign's status shows every instance.
	status_init afl "$target" "$secs" "$jobs" "$run_dir" "$every"
	while running; do
		nap_while_live 1 "${pids[@]}"
		[[ -n "$stop_signal" ]] || status_tick "${pids[@]}"
	done
	status_end
	for p in "${pids[@]}"; do wait "$p" || fuzz_rc=$?; done
	fuzzing=0
	afl_run_totals
	if ! afl_started; then
		tail -n 30 "$fuzz_log" "$run_dir"/fuzz-*.log 2>/dev/null >&2 || true
		fail_campaign "afl-fuzz did not start (exit $fuzz_rc)"
	fi
	# New queue entries join the campaign corpus under their SHA-1, like libFuzzer's.
	corpus_lock "$corpus" || fail_campaign "could not lock $corpus"
	afl_queue_into_corpus "$corpus"
	corpus_unlock
	mapfile -t crash_files < <(afl_new_findings)
fi
fuzz_secs=$(($(now_us) / 1000000 - fuzz_t0))

# ---- Merge: the corpus minimised in place (ci/campaign_corpus.sh); on failure it stays as the
# fuzzer left it. ----
banner "merge: $corpus, in place"
merge_log="$run_dir/merge.log"
if ! corpus_merge "$engine" "$bin" "$target" "$corpus" "$run_dir"; then
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
	# The per-file table goes to coverage.txt and the HTML report, the totals to the summary.
	mkdir -p "$run_dir/coverage"
	if gcovr --root "$repo" "${filters[@]}" --filter "$nub_engine_src/.*\\.h\$" --print-summary \
		--html-details "$run_dir/coverage/index.html" --html-title "$target campaign corpus" \
		"$cov_dir/$nub_fuzz_bin_dir" "$cov_dir/$nub_engine_dir" >"$run_dir/coverage.txt" 2>&1; then
		coverage_line="$(grep -E '^lines:' "$run_dir/coverage.txt" | head -n 1)"
		echo "$coverage_line (table: $run_dir/coverage.txt; HTML: $run_dir/coverage/index.html)"
	else
		tail -n 20 "$run_dir/coverage.txt"
	fi
else
	echo "(building the coverage reproducer failed; see $run_dir/build-coverage.log)"
fi

banner "triage: ${#crash_files[@]} crash/hang file(s)"
# Each signature once in the findings store, minimised and checked (ci/campaign_findings.sh).
asan_dir="$repo/build/asan$suffix"
if [[ ${#crash_files[@]} -gt 0 ]]; then
	run_logged "$run_dir/build-asan.log" build_tree asan "$asan_dir" "$target-repro" ||
		fail_campaign "building $target-repro in $asan_dir failed (log: $run_dir/build-asan.log)"
fi
findings_triage "$target" "$engine" "$bin" "$asan_dir" "$work/findings" "$run_dir" \
	"${crash_files[@]}"

# Reports in the run directory: the plot of the status samples, then summary.json.
plot_note="plot.png"
report_plot "$run_dir" "$target, $engine, $jobs job(s): $(date -u '+%Y-%m-%d %H:%M UTC')" ||
	plot_note="no plot (see $run_dir/plot.log)"
report_summary_json "$run_dir/summary.json"

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
if [[ "$engine" == libfuzzer ]]; then
	echo "fuzzer coverage: cov ${st_cov:--}, ft ${st_ft:--} (libFuzzer's own count)"
else
	echo "fuzzer coverage: ${st_cov:--} edges, map ${st_ft:--} (AFL++ fuzzer_stats)"
fi
echo "engine coverage: $coverage_line"
echo "run directory:   $run_dir"
reports="summary.json, $plot_note"
[[ ! -s "$run_dir/coverage/index.html" ]] || reports+=", coverage/index.html (table: coverage.txt)"
echo "reports:         $reports"
if [[ "$engine" == afl && -d "$run_dir/keep" ]]; then
	kept="$(find "$run_dir/keep" -mindepth 1 -maxdepth 1 -type d | wc -l)"
	echo "kept inputs:     $kept child directories in $run_dir/keep (replay one in order: ci/repro.sh DIR)"
fi
if [[ ${#crash_files[@]} -eq 0 ]]; then
	echo "crashes:         none"
else
	echo "crashes:         ${#crash_files[@]} file(s), ${#findings_sigs[@]} signature(s), kept in" \
		"$(repo_rel "$work/findings") (findings.json):"
	for sig in "${findings_sigs[@]}"; do
		d="${findings_dir[$sig]}"
		seen="new"
		[[ ${findings_new[$sig]} -eq 1 ]] ||
			seen="first seen $(cat "$d/first_seen"), $(cat "$d/count") in all"
		echo "  ${findings_files[$sig]} x signature: $sig ($seen)"
		echo "      $(findings_reproduce "$target" "$d/minimized" "$asan_dir")"
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
