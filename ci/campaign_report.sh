# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2154 # it reads ci/campaign.sh's summary variables
# ci/campaign_report.sh: the reports ci/campaign.sh leaves in a run directory. Sourced, never run.
#   json_str STRING             STRING as a JSON string literal (quotes included)
#   json_num VALUE              VALUE if it is a JSON number, else null
#   report_plot RUN_DIR TITLE   RUN_DIR/plot.png from RUN_DIR/plot.tsv (ci/campaign_status.sh)
#   report_summary_json FILE    summary.json from ci/campaign.sh's summary variables
# The HTML coverage report (RUN_DIR/coverage/index.html) is written by the campaign's gcovr run.

# json_str STRING: STRING escaped for JSON: backslash, quote and every control character.
json_str() {
	local s="$1" out="" c i
	s="${s//\\/\\\\}"
	s="${s//\"/\\\"}"
	s="${s//$'\n'/\\n}"
	s="${s//$'\t'/\\t}"
	s="${s//$'\r'/\\r}"
	if [[ "$s" =~ [[:cntrl:]] ]]; then
		# The rare rest (a terminal escape in a log line, say): \u00XX, one character at a time.
		for ((i = 0; i < ${#s}; i++)); do
			c="${s:i:1}"
			if [[ "$c" =~ [[:cntrl:]] ]]; then
				out+="$(printf '\\u%04x' "'$c")"
			else
				out+="$c"
			fi
		done
		s="$out"
	fi
	printf '"%s"' "$s"
}

# json_num VALUE: VALUE when it is a plain decimal number, else null.
json_num() {
	if [[ "$1" =~ ^-?[0-9]+([.][0-9]+)?$ ]]; then
		# JSON allows no leading zeros: 007 is 7.
		if [[ "$1" =~ ^(-?)0*([0-9].*)$ ]]; then
			printf '%s%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		fi
	else
		printf null
	fi
}

# report_plot RUN_DIR TITLE: exec/s, corpus and coverage over fuzzing time, three panels in
# RUN_DIR/plot.png (gnuplot). Status 1, with the reason on stderr, when plot.tsv has no rows or
# gnuplot failed (its output in RUN_DIR/plot.log).
report_plot() {
	local dir="$1" title="$2" rows last scale=1 unit=s term=png
	rows=$(($(wc -l <"$dir/plot.tsv") - 1))
	if ((rows < 1)); then
		echo "no plot: $dir/plot.tsv has no samples" >&2
		return 1
	fi
	last="$(tail -n 1 "$dir/plot.tsv" | cut -f1)"
	if ((last > 1200)); then
		scale=60 unit=min
	fi
	# pngcairo draws antialiased lines; the plain png terminal (libgd) is the fallback.
	# (stdin not the terminal: gnuplot would page its output and wait for a key).
	if gnuplot -e 'set terminal pngcairo' </dev/null >/dev/null 2>&1; then
		term=pngcairo
	fi
	gnuplot >"$dir/plot.log" 2>&1 <<GNUPLOT || {
set terminal $term size 800,600 noenhanced
set output '$dir/plot.png'
set datafile separator "\t"
set multiplot layout 3,1 title "${title//[\"\\]/}"
set grid
set key off
set lmargin 12
set format y "%.0f"
# A flat line (no new corpus entries) still gets a y range, one unit either side.
set offsets 0, 0, 1, 1
set ylabel "exec/s"
plot '$dir/plot.tsv' skip 1 using (\$1/$scale):3 with lines lw 2 lc rgb "#1f77b4"
set ylabel "corpus"
plot '$dir/plot.tsv' skip 1 using (\$1/$scale):4 with steps lw 2 lc rgb "#2ca02c"
set ylabel "coverage"
set xlabel "fuzzing time ($unit)"
plot '$dir/plot.tsv' skip 1 using (\$1/$scale):5 with steps lw 2 lc rgb "#d62728"
unset multiplot
GNUPLOT
		echo "no plot: gnuplot failed (see $dir/plot.log)" >&2
		return 1
	}
	[[ -s "$dir/plot.png" ]]
}

# report_findings_json: the findings array, the run's findings.json that the findings store
# wrote (ci/campaign_findings.sh: signature, first_seen, count, minimized, reproduce per
# signature); [] when triage wrote none.
report_findings_json() {
	if [[ -s "$run_dir/findings.json" ]]; then
		cat "$run_dir/findings.json"
	else
		printf '[]'
	fi
}

# report_summary_json FILE: the campaign's summary as JSON, from ci/campaign.sh's variables (target,
# engine, secs, jobs, fuzz_secs, stop_signal, execs, exec_rate, before, after, ..., coverage_line,
# iteration, st_cov and st_ft of the last status sample) and the findings above.
report_summary_json() {
	local file="$1" pct="" covered="" total="" fuzzer_cov
	if [[ "$coverage_line" =~ ^lines:\ ([0-9.]+)%\ \(([0-9]+)\ out\ of\ ([0-9]+)\) ]]; then
		pct="${BASH_REMATCH[1]}" covered="${BASH_REMATCH[2]}" total="${BASH_REMATCH[3]}"
	fi
	if [[ "$engine" == libfuzzer ]]; then
		fuzzer_cov="{\"cov\": $(json_num "$st_cov"), \"ft\": $(json_num "$st_ft")}"
	else
		fuzzer_cov="{\"edges_found\": $(json_num "$st_cov"), \"bitmap_cvg_percent\": $(json_num "${st_ft%\%}")}"
	fi
	{
		printf '{\n'
		printf '  "target": %s,\n  "engine": %s,\n  "jobs": %s,\n' "$(json_str "$target")" \
			"$(json_str "$engine")" "$jobs"
		printf '  "duration_s": {"requested": %s, "fuzzing": %s},\n' "$secs" "$fuzz_secs"
		printf '  "stopped_by": %s,\n' \
			"$([[ -n "$stop_signal" ]] && json_str "SIG$stop_signal" || printf null)"
		printf '  "executions": %s,\n  "exec_per_s": %s,\n' "$(json_num "${execs:-0}")" \
			"$(json_num "${exec_rate:-0}")"
		printf '  "corpus": {"before": %s, "before_size": %s, "after": %s, "after_size": %s,' \
			"$before" "$(json_str "$before_size")" "$after" "$(json_str "$after_size")"
		printf ' "merged": %s, "merge": %s, "path": %s},\n' \
			"$([[ $merge_rc -eq 0 ]] && echo true || echo false)" "$(json_str "$merge_note")" \
			"$(json_str "$corpus")"
		printf '  "coverage": {"lines_percent": %s, "lines_covered": %s, "lines_total": %s,' \
			"$(json_num "$pct")" "$(json_num "$covered")" "$(json_num "$total")"
		printf ' "summary": %s, "fuzzer": %s},\n' "$(json_str "$coverage_line")" "$fuzzer_cov"
		printf '  "iteration": %s,\n' "$([[ -n "$iteration" ]] && json_str "$iteration" || printf null)"
		printf '  "findings": %s,\n' "$(report_findings_json)"
		printf '  "files": {"run_dir": %s, "plot": %s, "timeseries": "plot.tsv",' \
			"$(json_str "$run_dir")" "$([[ -s "$run_dir/plot.png" ]] && echo '"plot.png"' || echo null)"
		printf ' "coverage_html": %s, "coverage_txt": %s, "fuzz_log": %s}\n' \
			"$([[ -s "$run_dir/coverage/index.html" ]] && echo '"coverage/index.html"' || echo null)" \
			"$([[ -s "$run_dir/coverage.txt" ]] && echo '"coverage.txt"' || echo null)" \
			"$([[ -s "$run_dir/fuzz.log" ]] && echo '"fuzz.log"' || echo '"fuzz-1.log"')"
		printf '}\n'
	} >"$file"
}
