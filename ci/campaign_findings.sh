# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2154 # findings_* are for ci/campaign.sh, which sources it
# and sets repo (ci/lib.sh) and minimize_secs (NUB_MINIMIZE_SECS)
# ci/campaign_findings.sh: a campaign's findings, minimised and kept once per signature across
# runs. Sourced by ci/campaign.sh after ci/lib.sh, never run. The caller defines the array
# fuzz_pids (each minimiser's process group joins it, for the signal handler).
#   findings_triage TARGET ENGINE BIN REPRO_DIR STORE RUN_DIR FILE...
#   json_str S        S as a JSON string, quotes included
#   repo_rel PATH     PATH relative to the repository when under it
# The store (build/campaign/<target>/findings/) holds one folder per signature, named by the first
# 12 hex digits of the signature's SHA-1 (all 40 should two signatures share them):
#   signature.txt  the signature (harness/scripts/signature.sh, through ci/repro.sh)
#   original       the crash file as the fuzzer saved it, the first time
#   minimized      the minimised input (the original when minimising changed the signature)
#   first_seen     UTC time of the first sighting (ISO 8601); last_seen likewise, the latest
#   count          crash files with this signature over all runs
#   note           why minimized is the original, when it is; minimize.log the minimiser's output

findings_sigs=()         # this run's signatures, in the order first met
declare -A findings_files=() findings_dir=() findings_new=() findings_note=()

# repo_rel PATH: PATH without the leading "$repo/" when it lies in the repository.
repo_rel() {
	case "$1" in
	"$repo"/*) echo "${1#"$repo"/}" ;;
	*) echo "$1" ;;
	esac
}

# json_str S: S as a JSON string: quotes, backslashes and control characters escaped (tab, CR and
# LF by name, the others dropped: a signature or path holds none).
json_str() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//\"/\\\"}"
	s="${s//$'\n'/\\n}"
	s="${s//$'\t'/\\t}"
	s="${s//$'\r'/\\r}"
	printf '"%s"' "$(printf '%s' "$s" | LC_ALL=C tr -d '\000-\037\177')"
}

# findings_signature TARGET REPRO_DIR FILE: FILE's signature with the ASan reproducer, as
# ci/repro.sh prints it (without "signature: "), marked when FILE did not reproduce.
findings_signature() {
	local sig
	sig="$(NUB_REPRO_TIMEOUT=60 bash "$repo/ci/repro.sh" "$3" --target "$1" --build-dir "$2" \
		--no-build 2>&1 | grep '^signature: ' | tail -n 1 || true)"
	sig="${sig#signature: }"
	[[ -n "$sig" ]] || sig="$1 | unknown (no signature printed) | - | -"
	[[ "$sig" != *"| none |"* ]] || sig="$sig (did not reproduce with the asan reproducer)"
	echo "$sig"
}

# findings_bounded SECS LOG CMD...: CMD in a session of its own (its PID joins fuzz_pids), output
# in LOG, for at most SECS seconds; then SIGKILL to its process group (libFuzzer's minimiser runs
# each step as a child). Returns CMD's status, 137 when cut short.
findings_bounded() {
	local secs="$1" log="$2" pid rc=0 deadline st
	shift 2
	setsid "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	fuzz_pids+=("$pid")
	deadline=$((EPOCHSECONDS + secs))
	while ((EPOCHSECONDS < deadline)); do
		st="$(ps -o stat= -p "$pid" 2>/dev/null)" || break
		[[ -n "$st" && "$st" != Z* ]] || break
		sleep 0.2
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	return "$rc"
}

# findings_minimize ENGINE BIN TARGET IN OUT LOG HANG: minimises the crash file IN into OUT:
# libFuzzer -minimize_crash=1 (steps of 10,000 runs, up to $minimize_secs seconds; what it reached
# when cut short stays in OUT), or afl-tmin (-H when HANG is 1: an AFL++ hang) with the target's
# timeout. Status 1 when no OUT at most IN's size came out.
findings_minimize() {
	local engine="$1" bin="$2" target="$3" in="$4" out="$5" log="$6" hang="$7" opts=() ms
	rm -f "$out"
	if [[ "$engine" == libfuzzer ]]; then
		mapfile -t opts < <(fuzz_options_flags "$target")
		# In OUT's folder: libFuzzer writes its step files into its working directory.
		findings_bounded "$minimize_secs" "$log" env -C "$(dirname "$out")" "$bin" "${opts[@]}" \
			-minimize_crash=1 -runs=10000 -max_total_time="$minimize_secs" \
			-exact_artifact_path="$out" "$in" || true
	else
		ms="$(fuzz_options_flags "$target" | sed -n 's/^-timeout=//p' | head -n 1)"
		ms=$((${ms:-10} * 1000))
		[[ $hang -eq 0 ]] || opts=(-H)
		findings_bounded "$minimize_secs" "$log" "${afl_env[@]}" -u NUB_FUZZ_KEEP_DIR \
			afl-tmin "${opts[@]}" -i "$in" -o "$out" -t "$ms" -- "$bin" || true
	fi
	[[ -f "$out" && $(wc -c <"$out") -le $(wc -c <"$in") ]]
}

# findings_store_add DIR N: N more sightings of the stored finding DIR (count, last_seen).
findings_store_add() {
	local c
	c="$(cat "$1/count" 2>/dev/null || echo 0)"
	[[ "$c" =~ ^[0-9]+$ ]] || c=0
	echo $((c + $2)) >"$1/count"
	date -u +%Y-%m-%dT%H:%M:%SZ >"$1/last_seen"
}

# findings_slot STORE SIG: the store folder for SIG (existing or not).
findings_slot() {
	local h
	h="$(printf '%s' "$2" | sha1sum | cut -d' ' -f1)"
	if [[ -f "$1/${h:0:12}/signature.txt" && "$(cat "$1/${h:0:12}/signature.txt")" != "$2" ]]; then
		echo "$1/$h"
	else
		echo "$1/${h:0:12}"
	fi
}

# findings_triage TARGET ENGINE BIN REPRO_DIR STORE RUN_DIR FILE...: signs each crash FILE with
# the ASan reproducer in REPRO_DIR and groups them; a signature new to STORE has its first file
# minimised with BIN (the engine's fuzzer binary), the minimised file's signature checked, and
# both kept in a new store folder; a known one adds to its count. Sets findings_sigs and, per
# signature, findings_files (this run's count), findings_dir, findings_new (1 or 0) and
# findings_note; writes RUN_DIR/findings.json (an array, empty without findings). One line per
# signature on stdout.
findings_triage() {
	local target="$1" engine="$2" bin="$3" repro_dir="$4" store="$5" run_dir="$6" f sig d tmp
	local min_sig note lock sep hang
	shift 6
	local -A first=()
	findings_sigs=() findings_files=() findings_dir=() findings_new=() findings_note=()
	for f in "$@"; do
		sig="$(findings_signature "$target" "$repro_dir" "$f")"
		if [[ -z "${first[$sig]:-}" ]]; then
			first[$sig]="$f"
			findings_sigs+=("$sig")
			findings_files[$sig]=0
		fi
		findings_files[$sig]=$((findings_files[$sig] + 1))
	done
	mkdir -p "$store"
	for sig in "${findings_sigs[@]}"; do
		d="$(findings_slot "$store" "$sig")"
		note="" tmp=""
		if [[ ! -f "$d/signature.txt" ]]; then
			# Minimised outside the store's lock (it takes up to $minimize_secs s).
			tmp="$(mktemp -d "$store/.new.XXXXXX")"
			cp "${first[$sig]}" "$tmp/original"
			hang=0
			[[ "${first[$sig]}" != */hangs/* ]] || hang=1
			if ! findings_minimize "$engine" "$bin" "$target" "$tmp/original" "$tmp/minimized" \
				"$tmp/minimize.log" "$hang"; then
				note="minimising failed (see minimize.log): minimized is the original"
			else
				min_sig="$(findings_signature "$target" "$repro_dir" "$tmp/minimized")"
				[[ "$min_sig" == "$sig" ]] ||
					note="minimising changed the signature to '$min_sig': minimized is the original"
			fi
			[[ -z "$note" ]] || cp "$tmp/original" "$tmp/minimized"
			printf '%s\n' "$sig" >"$tmp/signature.txt"
			[[ -z "$note" ]] || printf '%s\n' "$note" >"$tmp/note"
			date -u +%Y-%m-%dT%H:%M:%SZ >"$tmp/first_seen"
			echo 0 >"$tmp/count"
		fi
		# Two campaigns of one target (--sync-dir instances) may store the same signature.
		exec {lock}>>"$store/.lock"
		flock -w 600 "$lock" || warn "$store/.lock: still taken after 10 minutes; going on"
		findings_new[$sig]=0
		if [[ -n "$tmp" && ! -e "$d" ]]; then
			mv "$tmp" "$d"
			findings_new[$sig]=1
		fi
		[[ -z "$tmp" || ! -e "$tmp" ]] || rm -rf "$tmp"
		findings_store_add "$d" "${findings_files[$sig]}"
		exec {lock}>&-
		findings_dir[$sig]="$d"
		findings_note[$sig]="$(cat "$d/note" 2>/dev/null || true)"
		if [[ ${findings_new[$sig]} -eq 1 ]]; then
			echo "new: $sig ($(wc -c <"$d/original") -> $(wc -c <"$d/minimized") bytes" \
				"minimised${findings_note[$sig]:+; ${findings_note[$sig]}}) -> $(repo_rel "$d")"
		else
			echo "known since $(cat "$d/first_seen"): $sig (count $(cat "$d/count")) -> $(repo_rel "$d")"
		fi
	done
	{
		echo "["
		sep=""
		for sig in "${findings_sigs[@]}"; do
			d="${findings_dir[$sig]}"
			printf '%s  {"signature": %s, "first_seen": %s, "count": %s, "minimized": %s,\n' \
				"$sep" "$(json_str "$sig")" "$(json_str "$(cat "$d/first_seen")")" \
				"$(cat "$d/count")" "$(json_str "$(repo_rel "$d/minimized")")"
			printf '   "reproduce": %s, "new": %s, "files_this_run": %s, "note": %s}' \
				"$(json_str "$(findings_reproduce "$target" "$d/minimized" "$repro_dir")")" \
				"$([[ ${findings_new[$sig]} -eq 1 ]] && echo true || echo false)" \
				"${findings_files[$sig]}" "$(json_str "${findings_note[$sig]}")"
			sep=$',\n'
		done
		[[ -z "$sep" ]] || echo
		echo "]"
	} >"$run_dir/findings.json"
}

# findings_reproduce TARGET FILE REPRO_DIR: the ci/repro.sh command that reproduces FILE (with the
# NUB_PLANTED=<bug> that armed a planted bug, if any).
findings_reproduce() {
	local cmd
	cmd="${NUB_PLANTED:+NUB_PLANTED=$NUB_PLANTED }ci/repro.sh $(repo_rel "$2") --target $1"
	[[ "$3" == "$repo/build/asan" ]] || cmd="$cmd --build-dir $(repo_rel "$3")"
	echo "$cmd"
}
