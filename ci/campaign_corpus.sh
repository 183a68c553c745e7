# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # merge_* are for the scripts that source it
# ci/campaign_corpus.sh: a campaign corpus minimised in place, shared by ci/campaign.sh (at the end
# of every campaign) and ci/minimize.sh (on its own). Sourced after ci/lib.sh, never run:
#   corpus_lock CORPUS / corpus_unlock    serialise the processes that write one corpus
#   corpus_merge ENGINE BIN TARGET CORPUS LOG_DIR   the merge, in place
# The caller defines the array fuzz_pids: the merge runs in a session of its own and its PID joins
# fuzz_pids, the process groups the caller's signal handler kills.

corpus_lock_fd=""

# corpus_lock CORPUS: waits (up to 10 min) for the lock CORPUS.lock and holds it. Two campaigns of
# one target on one machine (--sync-dir instances) share the corpus: one's merge must not swap the
# folder away while the other copies into it. Status 1 when the lock did not come.
corpus_lock() {
	exec {corpus_lock_fd}>>"$1.lock" || return 1
	if ! flock -w 600 "$corpus_lock_fd"; then
		exec {corpus_lock_fd}>&-
		corpus_lock_fd=""
		warn "$1 stayed locked by another campaign for 10 minutes ($1.lock)"
		return 1
	fi
}

# corpus_unlock: releases the lock corpus_lock took (nothing if none is held).
corpus_unlock() {
	[[ -n "$corpus_lock_fd" ]] || return 0
	exec {corpus_lock_fd}>&-
	corpus_lock_fd=""
}

# corpus_merge ENGINE BIN TARGET CORPUS LOG_DIR: minimises CORPUS in place, keeping the inputs that
# add coverage: ENGINE libfuzzer runs BIN (the libFuzzer binary) -merge=1, ENGINE afl runs
# afl-cmin with BIN (the -afl binary), into the fresh folder CORPUS.merge, which is then swapped in;
# on failure CORPUS stays as it was. The command, and its last lines on failure, go to stdout; its
# output to LOG_DIR/merge.log. Holds corpus_lock meanwhile. Sets merge_rc (the merge's exit status,
# 0 when it worked), merge_before and merge_after (files in CORPUS before and after) and
# merge_note ("merged from N files" or why not). Returns merge_rc.
corpus_merge() {
	local engine="$1" bin="$2" target="$3" corpus="$4" log_dir="$5" merged cmd=() pid timeout_ms
	merged="$corpus.merge"
	merge_rc=0 merge_note=""
	corpus_lock "$corpus" || {
		merge_rc=1 merge_note="NOT merged: $corpus.lock stayed taken"
		merge_before="$(count_files "$corpus")" merge_after="$merge_before"
		return 1
	}
	merge_before="$(count_files "$corpus")"
	rm -rf "$merged" "$corpus.old"
	mkdir -p "$merged"
	if [[ "$engine" == libfuzzer ]]; then
		mapfile -t cmd < <(fuzz_options_flags "$target")
		# Crashes met while merging are not findings: their artifacts go beside the log.
		cmd=("$bin" "${cmd[@]}" -merge=1 -merge_control_file="$log_dir/merge.control"
			-artifact_prefix="$log_dir/merge-" "$merged" "$corpus")
	else
		timeout_ms="$(fuzz_options_flags "$target" | sed -n 's/^-timeout=//p' | head -n 1)"
		# afl-cmin refuses any path under /tmp unless AFL_ALLOW_TMP is set: it writes predictable
		# names into its output folder, unsafe in a world-writable one. Ours is made by this
		# script inside the campaign's own folder, so a checkout under /tmp may merge too.
		cmd=("${afl_env[@]}" AFL_ALLOW_TMP=1 afl-cmin -i "$corpus" -o "$merged"
			-t $((${timeout_ms:-10} * 1000)) -- "$bin")
	fi
	echo "${cmd[*]}"
	# A session of its own, like the fuzzers: a signal now ends the caller at once, the corpus
	# unmerged; the lock's descriptor stays out of it.
	setsid "${cmd[@]}" >"$log_dir/merge.log" 2>&1 </dev/null {corpus_lock_fd}>&- &
	pid=$!
	fuzz_pids+=("$pid")
	wait "$pid" || merge_rc=$?
	if [[ $merge_rc -eq 0 && ($(count_files "$merged") -gt 0 || $merge_before -eq 0) ]]; then
		mv "$corpus" "$corpus.old"
		mv "$merged" "$corpus"
		rm -rf "$corpus.old"
		merge_note="merged from $merge_before files"
		grep -aE '^MERGE-OUTER: [0-9]+ new files|^\[\+\] Narrowed down' "$log_dir/merge.log" |
			tail -n 1 || true
	else
		[[ $merge_rc -ne 0 ]] || merge_rc=1 # nothing kept of a corpus that had inputs: a failure
		tail -n 20 "$log_dir/merge.log"
		rm -rf "$merged"
		merge_note="NOT merged: the merge exited $merge_rc ($log_dir/merge.log)"
	fi
	merge_after="$(count_files "$corpus")"
	corpus_unlock
	return "$merge_rc"
}
