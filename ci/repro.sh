#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reproduces a fuzz input with the ASan+UBSan reproducer:
#   ci/repro.sh FILE|DIR [--target T] [--build-dir DIR] [--no-build] [--gdb [PORT]] [--core DIR]
# The target comes from the path (corpus/<target>/..., build/campaign/<target>/...) or --target
# (fuzz_outb_decode or just outb_decode). DIR is a corpus directory (name order) or a keep
# directory of the AFL++ driver (.../keep/child-<pid>/, replayed oldest input first); either way
# all inputs run in one process, so state carried between inputs shows.
# Builds <target>-repro in build/asan if needed (configured like ci/build.sh asan), runs it and
# prints the decoded input, the outcome and the signature
#   signature: <target> | <host crash type or none> | <top frames or -> | <outcome class>
# KVM targets only: --gdb [PORT] (default 1234) replays with the GDB stub listening on
# 127.0.0.1:PORT ($NUB_GDB_PORT, read by harness/fuzz/kvm_target.c for the targets that keep one
# sandbox: fuzz_outb, fuzz_guest_call, fuzz_host_call): init and every call stop at entry, and the
# gdb command that attaches (guest ELF with its symbols) is printed; no time-out then. --core DIR
# writes a core into DIR for each poisoning outcome ($NUB_CORE_DUMP=1, $NUB_CORE_DUMP_DIR) and
# prints the cores' paths.
# Exit status: 0 if the engine handled every input, 1 on a host crash or sanitizer report, 2 usage.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ci/repro.sh FILE|DIR [--target T] [--build-dir DIR] [--no-build] [--gdb [PORT]] [--core DIR]" >&2
	exit "${1:-2}"
}

input="" target="" build_dir="$repo/build/asan" build=1 gdb_port="" core_dir=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	--target)
		[[ $# -ge 2 ]] || usage
		target="$2"
		shift 2
		;;
	--build-dir)
		[[ $# -ge 2 ]] || usage
		build_dir="$2"
		shift 2
		;;
	--no-build)
		build=0
		shift
		;;
	--gdb)
		gdb_port=1234
		shift
		if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
			gdb_port="$1"
			shift
		fi
		((gdb_port >= 1 && gdb_port <= 65535)) || die_usage "--gdb needs a port in 1..65535"
		;;
	--core)
		[[ $# -ge 2 && -n "$2" ]] || usage
		core_dir="$2"
		shift 2
		;;
	-h | --help) usage 0 ;;
	-*) usage ;;
	*)
		[[ -z "$input" ]] || usage
		input="$1"
		shift
		;;
	esac
done
[[ -n "$input" ]] || usage
[[ -e "$input" ]] || die_usage "$input does not exist"
input="$(realpath "$input")"

if [[ -z "$target" ]]; then
	if [[ "$input" =~ /"$nub_corpus_dir"/([^/]+)(/|$) ]]; then
		target="${BASH_REMATCH[1]}"
	elif [[ "$input" =~ /campaign/([^/]+)(/|$) ]]; then
		target="${BASH_REMATCH[1]}"
	else
		die_usage "cannot tell the target from $input; pass --target T"
	fi
fi
[[ "$target" == fuzz_* ]] || target="fuzz_$target"
fuzz_target_source "$target" >/dev/null ||
	die_usage "no fuzz target $target ($nub_fuzz_dir/$target.c)"

if [[ $build -eq 1 ]]; then
	build_log="$(mktemp)"
	trap 'rm -f "$build_log"' EXIT
	# A new build directory is configured like `ci/build.sh asan`; an existing one keeps its
	# flavour.
	run_logged "$build_log" build_if_needed asan "$build_dir" "$target-repro" ||
		die "building $target-repro in $build_dir failed"
fi
if [[ -n "$gdb_port$core_dir" && "$(fuzz_target_source "$target")" != */kvm/* ]]; then
	die_usage "--gdb and --core are for KVM targets; $target is pure"
fi
repro="$(fuzz_binary "$build_dir" "$target" -repro)" ||
	die "$repro is missing (build it, or drop --no-build)"

if [[ -d "$input" && -f "$input/ring" ]]; then
	log "$input is an AFL++ keep directory: its inputs run oldest first, in one process"
fi

export ASAN_OPTIONS="detect_leaks=1:handle_abort=1:abort_on_error=0:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

out="$(mktemp)"
marker="$(mktemp)"
trap 'rm -f "${build_log:-}" "$out" "$marker"' EXIT
if [[ -n "$core_dir" ]]; then
	mkdir -p "$core_dir"
	export NUB_CORE_DUMP=1 NUB_CORE_DUMP_DIR="$(realpath "$core_dir")"
fi
rc=0
if [[ -n "$gdb_port" ]]; then
	# Live output: the line with the gdb command must show while the stub waits.
	export NUB_GDB_PORT="$gdb_port"
	"$repro" "$input" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
else
	timeout --signal=KILL "${NUB_REPRO_TIMEOUT:-120}" "$repro" "$input" >"$out" 2>&1 || rc=$?
	cat "$out"
fi
if [[ -n "$core_dir" ]]; then
	while IFS= read -r core; do
		log "core: $core"
	done < <(find "$NUB_CORE_DUMP_DIR" -maxdepth 1 -name '*.core' -newer "$marker" | sort)
fi
if [[ $rc -eq 0 ]]; then
	log "handled by the engine (exit 0)"
	exit 0
fi
bash "$repo/$nub_fuzz_signature" "$target" "$out" "$rc"
log "HOST CRASH or sanitizer report (reproducer exit $rc)"
exit 1
