# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the tools' test scripts: expect RC LINE CMD... runs CMD under `timeout
# $expect_timeout` (so a FIFO cannot hang a test) in the current directory, with stdin from
# /dev/null and its output (stdout and stderr together) in $expect_out (default ./out), and checks
# that it exits RC and prints LINE as a whole line; a mismatch prints the output and sets failed=1.
# shellcheck disable=SC2034 # read by the sourcing script
failed=0
expect_timeout="${expect_timeout:-30}"
expect_out="${expect_out:-out}"

expect() {
	local want_rc="$1" want_line="$2" rc=0
	shift 2
	timeout "$expect_timeout" "$@" >"$expect_out" 2>&1 </dev/null || rc=$?
	if [[ $rc -ne $want_rc ]] || ! grep -qxF -- "$want_line" "$expect_out"; then
		echo "FAIL: $* exited $rc (expected $want_rc), output:"
		sed 's/^/    /' "$expect_out"
		echo "  expected the line: $want_line"
		# shellcheck disable=SC2034 # read by the sourcing script
		failed=1
	else
		echo "ok: $* -> $rc"
	fi
}
