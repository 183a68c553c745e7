# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # afl_* are for ci/campaign.sh, which sources it
# ci/campaign_afl.sh: ci/campaign.sh's AFL++ instances: which run, whether each resumes its output
# directory, this run's figures and findings. Sourced after ci/lib.sh, never run.
# An AFL++ campaign keeps one output directory OUT across runs: build/campaign/<target>/afl, or the
# --sync-dir DIR that several campaign processes (or machines) share. Each instance has
# OUT/<name>/ (queue/, crashes/, hangs/, fuzzer_stats); AFL++ syncs the instances of one OUT by
# reading each other's queue/ (their state in OUT/<name>/.synced/<other>).
#   afl_plan OUT CORPUS MARKER JOBS NAME MAIN FRESH   the instances, roles and inputs (afl_*)
#   afl_stats_files                       this campaign's fuzzer_stats files
#   afl_started                           every instance wrote its stats during this run
#   afl_run_totals                        this run's executions and exec/s (execs, exec_rate)
#   afl_queue_into_corpus CORPUS          the instances' queues join CORPUS under their SHA-1
#   afl_new_findings                      this run's crash and hang files

afl_out=""        # OUT
afl_instances=()  # instance names: default (one job), main sec2 ... (--jobs), NAME NAME-2 ...
afl_roles=()      # per instance: "", "-M NAME" or "-S NAME"
afl_inputs=()     # per instance: the campaign corpus (a fresh start) or - (AFL++'s resume)
afl_marker=""     # MARKER
declare -A afl_prev_execs=() afl_prev_time=()

# afl_resumable DIR: DIR is an instance directory AFL++ can resume; otherwise prints why not.
afl_resumable() {
	if [[ ! -f "$1/fuzzer_stats" ]]; then
		echo "it has no fuzzer_stats"
	elif [[ -z "$(find "$1/queue" -maxdepth 1 -type f -name 'id:*' -print -quit 2>/dev/null)" ]]; then
		echo "its queue/ holds no id:* entry"
	elif ! [[ "$(afl_stat "$1/fuzzer_stats" execs_done)" =~ ^[0-9]+$ ]]; then
		echo "its fuzzer_stats has no execs_done"
	else
		return 0
	fi
	return 1
}

# afl_plan OUT CORPUS MARKER JOBS NAME MAIN FRESH: this campaign's JOBS instances in OUT.
# NAME empty: one job is AFL++'s "default", more are one -M main and -S sec2 ... secJOBS. NAME
# given (--instance): NAME runs as -M NAME when MAIN is 1, else -S NAME, and further jobs as
# -S NAME-2 ... NAME-JOBS. Each instance with a resumable directory resumes it (-i -) unless FRESH
# is 1, which removes OUT (without NAME) or this campaign's instance directories (never another
# instance's); a missing or broken one starts from CORPUS, the campaign corpus. One line per
# instance says which.
# MARKER, a new file, marks the start: what is newer is this run's.
afl_plan() {
	local out="$1" corpus="$2" jobs="$4" name="$5" main="$6" fresh="$7" i n role why
	afl_out="$out" afl_marker="$3" afl_instances=() afl_roles=() afl_inputs=()
	if [[ $fresh -eq 1 && -z "$name" && -d "$out" ]]; then
		rm -rf "$out"
		echo "afl: --fresh removed $out"
	fi
	mkdir -p "$out"
	for ((i = 1; i <= jobs; i++)); do
		if [[ -n "$name" ]]; then
			n="$name"
			[[ $i -eq 1 ]] || n="$name-$i"
			role="-S $n"
			[[ $i -gt 1 || $main -eq 0 ]] || role="-M $n"
		elif [[ $jobs -eq 1 ]]; then
			n=default role=""
		else
			n="sec$i" role="-S sec$i"
			[[ $i -gt 1 ]] || n=main role="-M main"
		fi
		afl_instances+=("$n")
		afl_roles+=("$role")
		afl_prev_execs[$n]=0 afl_prev_time[$n]=0
		if [[ $fresh -eq 1 && -e "$out/$n" ]]; then
			rm -rf "${out:?}/$n"
			echo "afl: $n: starting over from the campaign corpus (--fresh removed $out/$n)"
			afl_inputs+=("$corpus")
		elif [[ ! -e "$out/$n" ]]; then
			echo "afl: $n: starting from the campaign corpus (no earlier output in $out/$n)"
			afl_inputs+=("$corpus")
		elif why="$(afl_resumable "$out/$n")"; then
			afl_prev_execs[$n]="$(afl_stat "$out/$n/fuzzer_stats" execs_done)"
			afl_prev_time[$n]="$(afl_stat "$out/$n/fuzzer_stats" run_time)"
			[[ "${afl_prev_time[$n]}" =~ ^[0-9]+$ ]] || afl_prev_time[$n]=0
			echo "afl: $n: resuming $out/$n (-i -: $(find "$out/$n/queue" -maxdepth 1 -type f \
				-name 'id:*' | wc -l) queue entries, ${afl_prev_execs[$n]} executions so far)"
			afl_inputs+=(-)
		else
			rm -rf "${out:?}/$n"
			echo "afl: $n: starting from the campaign corpus ($out/$n could not be resumed:" \
				"$why; removed)"
			afl_inputs+=("$corpus")
		fi
	done
	: >"$afl_marker"
}

# afl_stats_files: the fuzzer_stats file of each of this campaign's instances that has one (the
# other instances of a --sync-dir are not this campaign's).
afl_stats_files() {
	local n
	for n in "${afl_instances[@]}"; do
		[[ ! -f "$afl_out/$n/fuzzer_stats" ]] || echo "$afl_out/$n/fuzzer_stats"
	done
}

# afl_started: every instance rewrote its fuzzer_stats during this run (a resumed directory
# holds the last run's).
afl_started() {
	local n
	for n in "${afl_instances[@]}"; do
		[[ -n "$(find "$afl_out/$n/fuzzer_stats" -newer "$afl_marker" 2>/dev/null)" ]] || return 1
	done
}

# afl_run_totals: sets execs (this run's executions over the instances: a resumed instance's
# execs_done and run_time count from its first run) and exec_rate (execs per second of the
# longest-running instance).
afl_run_totals() {
	local n s e t longest=0
	execs=0
	for n in "${afl_instances[@]}"; do
		s="$afl_out/$n/fuzzer_stats"
		[[ -n "$(find "$s" -newer "$afl_marker" 2>/dev/null)" ]] || continue
		e="$(afl_stat "$s" execs_done)" t="$(afl_stat "$s" run_time)"
		[[ "$e" =~ ^[0-9]+$ && "$t" =~ ^[0-9]+$ ]] || continue
		execs=$((execs + e - afl_prev_execs[$n]))
		t=$((t - afl_prev_time[$n]))
		[[ $t -le $longest ]] || longest=$t
	done
	exec_rate=0
	[[ $longest -eq 0 ]] || exec_rate=$((execs / longest))
}

# afl_queue_into_corpus CORPUS: each queue entry of this campaign's instances that CORPUS lacks is
# copied into it under its SHA-1, like libFuzzer's finds.
afl_queue_into_corpus() {
	local corpus="$1" n f sum
	local -A have=()
	while read -r sum _; do
		have[$sum]=1
	done < <(find "$corpus" -maxdepth 1 -type f -exec sha1sum {} +)
	for n in "${afl_instances[@]}"; do
		while IFS= read -r f; do
			sum="$(sha1sum "$f" | cut -d' ' -f1)"
			if [[ -z "${have[$sum]:-}" ]]; then
				cp "$f" "$corpus/$sum"
				have[$sum]=1
			fi
		done < <(find "$afl_out/$n/queue" -maxdepth 1 -type f -name 'id:*' 2>/dev/null)
	done
}

# afl_new_findings: the crash and hang files this run's instances saved, sorted (a resumed
# directory keeps the earlier runs' files, or AFL++ moved them to crashes_<date>/).
afl_new_findings() {
	local n
	for n in "${afl_instances[@]}"; do
		find "$afl_out/$n/crashes" "$afl_out/$n/hangs" -maxdepth 1 -type f -name 'id:*' \
			-newer "$afl_marker" 2>/dev/null || true
	done | sort
}
