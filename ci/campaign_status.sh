# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # its variables are read by ci/campaign.sh and campaign_report.sh
# ci/campaign_status.sh: ci/campaign.sh's live status while the fuzzers run. Sourced, never run.
#   status_init ENGINE TARGET SECS JOBS RUN_DIR EVERY   once, right before the fuzzer starts
#   status_tick PID...                                  once a second while fuzzing
#   status_end                                          after the fuzzers ended
# Each tick samples the fuzzer's own figures (libFuzzer: its status lines; AFL++: each instance's
# fuzzer_stats, queue and crash folders) and appends a row to RUN_DIR/plot.tsv (at most about
# 1000 rows per campaign; ci/campaign_report.sh plots it). In a terminal (stdout a tty, TERM not
# dumb, CI not true) one status block is redrawn in place; otherwise one compact line is printed
# every EVERY seconds. plot.tsv's columns: fuzzing second, executions, exec/s now, corpus (as the
# fuzzer counts it), coverage (libFuzzer cov, AFL++ edges_found), features (libFuzzer ft, AFL++
# bitmap_cvg in %), findings (crash/hang files).

# The figures of the latest sample (st_execs_t: fuzzing second at which st_execs was first seen).
st_engine="" st_target="" st_secs=0 st_jobs=1 st_run_dir="" st_every=10 st_tty=0
st_t0_us=0 st_now=0 st_execs=0 st_execs_t=0 st_hist_t=() st_hist_e=()
st_corpus="" st_cov="" st_ft="" st_cov_t=0 st_age=-1 st_findings=0 st_findings_desc=""
st_rows=() st_drawn=0 st_next_line=0 st_plot_every=1 st_next_plot=0 st_fuzzer_pid=""

# status_init ENGINE TARGET SECS JOBS RUN_DIR EVERY: starts the fuzzing clock and plot.tsv.
status_init() {
	st_engine="$1" st_target="$2" st_secs="$3" st_jobs="$4" st_run_dir="$5" st_every="$6"
	st_t0_us="$(now_us)"
	st_tty=0
	if [[ -t 1 && "${TERM:-dumb}" != dumb && "${CI:-}" != true ]]; then
		st_tty=1
	fi
	st_next_line="$st_every"
	# A row a second for short campaigns; about 1000 rows for long ones.
	st_plot_every=$(((st_secs + 999) / 1000))
	printf 'time_s\texecs\texec_per_s\tcorpus\tcoverage\tfeatures\tfindings\n' >"$st_run_dir/plot.tsv"
}

# st_field LINE NAME: the number after "NAME:" (or "NAME " for fork lines) in a libFuzzer status
# line, empty if none.
st_field() {
	if [[ "$1" =~ [[:space:]]$2:?\ ([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# st_last_status FILE: the latest libFuzzer status line ("#N ...") in the tail of FILE.
st_last_status() {
	tail -c 65536 "$1" 2>/dev/null | grep -aE '^#[0-9]+' | tail -n 1 || true
}

# st_count DIR GLOB [FIND-TEST...]: the files named GLOB directly in DIR that pass the extra
# find(1) tests (0 when DIR does not exist yet).
st_count() {
	{ find "$1" -maxdepth 1 -type f -name "$2" "${@:3}" 2>/dev/null || true; } | wc -l
}

# st_ago SECS: a duration for people: 42s, 3m05s, 2h07m.
st_ago() {
	local s="$1"
	if ((s < 60)); then
		echo "${s}s"
	elif ((s < 3600)); then
		printf '%dm%02ds\n' $((s / 60)) $((s % 60))
	else
		printf '%dh%02dm\n' $((s / 3600)) $((s % 3600 / 60))
	fi
}

# st_sample_libfuzzer: figures from libFuzzer's status lines (fuzz.log); with -fork=N one row per
# running job from the job's own log in libFuzzer's temporary folder (named after the fuzzer's PID,
# the child of timeout(1)).
st_sample_libfuzzer() {
	local line n="" f job jl jn age
	line="$(st_last_status "$st_run_dir/fuzz.log")"
	st_rows=()
	if [[ -n "$line" ]]; then
		n="${line%%[!#0-9]*}"
		n="${n#\#}"
		st_corpus="$(st_field "$line" corp)"
		st_cov="$(st_field "$line" cov)"
		st_ft="$(st_field "$line" ft)"
		st_age=$((EPOCHSECONDS - $(stat -c %Y "$st_run_dir/fuzz.log")))
	fi
	if [[ $st_jobs -gt 1 ]]; then
		if [[ -z "$st_fuzzer_pid" ]]; then
			st_fuzzer_pid="$(ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | head -n 1)"
		fi
		for f in "${TMPDIR:-/tmp}/libFuzzerTemp.FuzzWithFork$st_fuzzer_pid.dir"/*.log; do
			[[ -n "$st_fuzzer_pid" && -f "$f" ]] || continue
			job="$(basename "$f" .log)"
			jl="$(st_last_status "$f")"
			age=$((EPOCHSECONDS - $(stat -c %Y "$f" 2>/dev/null || echo "$EPOCHSECONDS")))
			if [[ -n "$jl" ]]; then
				# The fork line counts finished jobs; the running ones add their own count.
				jn="${jl%%[!#0-9]*}"
				jn="${jn#\#}"
				n=$((${n:-0} + jn))
				st_rows+=("$(printf '  job %-5s %10s execs  cov %-6s ft %-6s corp %-6s %s ago' \
					"$job" "$jn" "$(st_field "$jl" cov)" "$(st_field "$jl" ft)" \
					"$(st_field "$jl" corp)" "$(st_ago "$age")")")
				((age >= st_age)) || st_age="$age"
			else
				st_rows+=("$(printf '  job %-5s starting' "$job")")
			fi
		done
	fi
	[[ -z "$n" ]] || st_new_execs "$n"
	local kinds=() k c
	st_findings=0
	for k in crash leak timeout oom; do
		c="$(st_count "$st_run_dir/crashes" "$k-*")"
		st_findings=$((st_findings + c))
		[[ $c -eq 0 ]] || kinds+=("$c $k")
	done
	st_findings_desc="${kinds[*]}"
	# The sanitizer's one-line summaries are the signatures known while fuzzing.
	c="$({ grep -a '^SUMMARY: ' "$st_run_dir/fuzz.log" 2>/dev/null || true; } | sort -u | wc -l)"
	[[ $c -eq 0 ]] || st_findings_desc+=", $c sanitizer summar$( ((c == 1)) && echo y || echo ies)"
}

# st_sample_afl: figures from each AFL++ instance of this campaign (ci/campaign_afl.sh's
# afl_instances in afl_out, the campaign's output or sync directory): corpus and this run's
# findings (newer than afl_marker) counted in its folders (always current), executions and
# coverage from its fuzzer_stats once this run rewrote it (a resumed instance's execs_done counts
# from its first run: afl_prev_execs is subtracted). Debian's AFL++ 4.04c rewrites
# fuzzer_stats every 60 s (STATS_UPDATE_SEC, fixed at build time; it has no AFL_STATS_INTERVAL) and
# writes plot_data only after the first minute, so the age of those figures is shown.
st_sample_afl() {
	local d s name execs=0 corpus=0 cov=0 cvg="" crashes=0 hangs=0 n q c h e a oldest=-1 rate
	st_rows=()
	# shellcheck disable=SC2154 # afl_instances, afl_out, afl_marker: ci/campaign_afl.sh (afl_plan)
	for name in "${afl_instances[@]}"; do
		d="$afl_out/$name"
		[[ -d "$d/queue" ]] || continue
		s="$d/fuzzer_stats"
		q="$(st_count "$d/queue" 'id:*')"
		c="$(st_count "$d/crashes" 'id:*' -newer "$afl_marker")"
		h="$(st_count "$d/hangs" 'id:*' -newer "$afl_marker")"
		e=0 a=-1 rate=0
		if [[ -n "$(find "$s" -newer "$afl_marker" 2>/dev/null)" ]]; then
			e="$(afl_stat "$s" execs_done)"
			[[ "$e" =~ ^[0-9]+$ ]] || e=0 # a file caught half written
			e=$((e - ${afl_prev_execs[$name]:-0}))
			rate="$(afl_stat "$s" execs_per_sec)"
			a=$((EPOCHSECONDS - $(afl_stat "$s" last_update)))
			n="$(afl_stat "$s" edges_found)"
			((n > cov)) && cov="$n" cvg="$(afl_stat "$s" bitmap_cvg)"
			((a > oldest)) && oldest="$a"
		fi
		execs=$((execs + ${e:-0}))
		((q > corpus)) && corpus="$q"
		crashes=$((crashes + c)) hangs=$((hangs + h))
		[[ "${rate%.*}" =~ ^[0-9]+$ ]] || rate=- # "inf" before the first second
		st_rows+=("$(printf '  %-6s %9s execs %6s/s corpus %-5s crash %-2s hang %-2s stats %s old' \
			"${name:0:6}" "${e:-0}" "${rate%.*}" "$q" "$c" "$h" \
			"$(if ((a < 0)); then echo -; else st_ago "$a"; fi)")")
	done
	[[ $st_jobs -gt 1 ]] || st_rows=()
	st_new_execs "$execs"
	st_corpus="$corpus" st_cov="$cov" st_ft="$cvg" st_age="$oldest"
	st_findings=$((crashes + hangs))
	st_findings_desc=""
	((crashes == 0)) || st_findings_desc="$crashes crash"
	((hangs == 0)) || st_findings_desc+="${st_findings_desc:+ }$hangs hang"
}

# st_new_execs N: the execution count of this sample; a changed count joins the history of the
# last 10 s of counts (the rate now).
st_new_execs() {
	[[ "$1" != "$st_execs" ]] || return 0
	st_execs="$1" st_execs_t="$st_now"
	st_hist_t+=("$st_now") st_hist_e+=("$1")
	while ((${#st_hist_t[@]} > 2 && st_hist_t[1] <= st_now - 10)); do
		st_hist_t=("${st_hist_t[@]:1}") st_hist_e=("${st_hist_e[@]:1}")
	done
	return 0
}

# st_rate_now: exec/s over the last 5 to 10 s of execution counts (counts arrive irregularly: a
# libFuzzer status line on new coverage or at each power of two), the average before that.
st_rate_now() {
	local i ref=0 last=$((${#st_hist_t[@]} - 1)) dt
	((last >= 1)) || {
		st_rate_avg
		return
	}
	for ((i = 0; i < last; i++)); do
		((st_hist_t[i] <= st_hist_t[last] - 5)) && ref="$i"
	done
	dt=$((st_hist_t[last] - st_hist_t[ref]))
	if ((dt > 0)); then
		echo $(((st_hist_e[last] - st_hist_e[ref]) / dt))
	else
		st_rate_avg
	fi
}

# st_rate_avg: exec/s since the fuzzer started, at the time of the latest execution count.
st_rate_avg() {
	((st_execs_t > 0)) && echo $((st_execs / st_execs_t)) || echo 0
}

# st_lines: the status block, one line per element of the array st_out, two columns in 80.
st_lines() {
	local cov_label found=none
	if [[ "$st_engine" == libfuzzer ]]; then
		cov_label="cov ${st_cov:--}  ft ${st_ft:--}"
	else
		cov_label="edges ${st_cov:--}  map ${st_ft:--}"
	fi
	((st_findings == 0)) || found="$st_findings ($st_findings_desc)"
	st_out=(
		"$(printf '%s, %s, %s job(s): fuzzing %s of %s' "$st_target" "$st_engine" "$st_jobs" \
			"$(st_ago "$st_now")" "$(st_ago "$st_secs")")"
		"$(printf '%-36s%s' "executions  $st_execs" "exec/s    now $(st_rate_now), average $(st_rate_avg)")"
		"$(printf '%-36s%s' "corpus      ${st_corpus:--}" "coverage  $cov_label")"
		"$(printf '%-36s%s' "new cov     $(st_ago $((st_now - st_cov_t))) ago" "findings  $found")"
	)
	if ((st_age >= 6)); then
		# libFuzzer prints a status line on new coverage and at each power of two executions;
		# AFL++ 4.04c rewrites fuzzer_stats once a minute.
		st_out+=("$(printf '            (executions and coverage as of %s ago: %s)' "$(st_ago "$st_age")" \
			"$([[ "$st_engine" == libfuzzer ]] && echo "libFuzzer's last status line" ||
				echo "fuzzer_stats")")")
	fi
	st_out+=("${st_rows[@]}")
}

# status_tick PID...: one sample (PIDs: the fuzzers' timeout(1) processes), a plot.tsv row when
# due, then the redrawn block or, when due, the compact line.
status_tick() {
	local prev_cov="$st_cov" l width=80 cols
	st_now=$((($(now_us) - st_t0_us) / 1000000))
	if [[ "$st_engine" == libfuzzer ]]; then
		st_sample_libfuzzer "$1"
	else
		st_sample_afl
	fi
	[[ "$st_cov" == "$prev_cov" ]] || st_cov_t="$st_now"
	if ((st_now >= st_next_plot)); then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$st_now" "$st_execs" "$(st_rate_now)" \
			"${st_corpus:-0}" "${st_cov:-0}" "${st_ft%\%}" "$st_findings" >>"$st_run_dir/plot.tsv"
		st_next_plot=$((st_now + st_plot_every))
	fi
	if [[ $st_tty -eq 1 ]]; then
		cols="$(tput cols 2>/dev/null || echo 80)"
		((cols >= width)) || width="$cols"
		st_lines
		# Back to the block's first row, erase to the end of the screen, draw it again.
		((st_drawn == 0)) || printf '\033[%dA\r\033[J' "$st_drawn"
		for l in "${st_out[@]}"; do printf '%s\n' "${l:0:width}"; done
		st_drawn="${#st_out[@]}"
	elif ((st_now >= st_next_line)); then
		printf '[fuzz %s] execs %s (%s/s now, %s/s avg) corp %s %s new cov %s ago findings %s%s\n' \
			"$st_now" "$st_execs" "$(st_rate_now)" "$(st_rate_avg)" "${st_corpus:--}" \
			"$([[ "$st_engine" == libfuzzer ]] && echo "cov ${st_cov:--} ft ${st_ft:--}" ||
				echo "edges ${st_cov:--} map ${st_ft:--}")" \
			"$(st_ago $((st_now - st_cov_t)))" "$st_findings" \
			"$( ((st_age < 6)) || echo " (figures $(st_ago "$st_age") old)")"
		st_next_line=$((st_now + st_every))
	fi
}

# status_end: the block stays on the screen as last drawn; a warning printed below it (a signal)
# must not be drawn over, so nothing redraws after this.
status_end() {
	st_drawn=0
}
