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
# Inputs over the target's size limit are skipped, each with a "skipped: N bytes over the limit M"
# line. NUB_REPRO_TIMEOUT (seconds, default 120) bounds the run; a run past it is a host hang.
# Exit status (also in --help):
#   0  the engine handled every input that ran (skipped ones are named)
#   1  host crash, hang or sanitizer report: a host bug (the signature says which)
#   2  usage
#   3  setup error ("setup error: ..."): the input is not a regular file or directory, a directory
#      holds one that is not (a FIFO, a dangling symlink), NUB_REPRO_TIMEOUT is not a number of
#      seconds, ASAN_OPTIONS/UBSAN_OPTIONS are refused by the sanitizer, NUB_GUEST_DIR holds no
#      guests, the build failed or the reproducer is missing
#   4  nothing ran: an empty directory, or every input skipped
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ci/repro.sh FILE|DIR [--target T] [--build-dir DIR] [--no-build] [--gdb [PORT]] [--core DIR] (--help: more)" >&2
	exit 2
}

help() {
	cat <<'HELP'
usage: ci/repro.sh FILE|DIR [--target T] [--build-dir DIR] [--no-build] [--gdb [PORT]] [--core DIR]
Reproduces a fuzz input (a file, a corpus directory, or an AFL++ keep directory) with the
ASan+UBSan reproducer <target>-repro and prints the decoded input, the outcome and the signature.
  --target T       the fuzz target (fuzz_outb or outb); default: from the path
                   (corpus/<target>/..., build/campaign/<target>/...)
  --build-dir DIR  the build tree holding the reproducer (default build/asan)
  --no-build       do not build the reproducer first
  --gdb [PORT]     KVM targets: replay with the GDB stub on 127.0.0.1:PORT (1..65535, default
                   1234); init and every call stop at entry; prints the gdb command that attaches
  --core DIR       KVM targets: write a core file into DIR for each poisoning outcome, print paths
Environment: NUB_REPRO_TIMEOUT seconds, 1 or more (default 120); ASAN_OPTIONS, UBSAN_OPTIONS
(added to the script's own); NUB_GUEST_DIR (a KVM target's guests).
Exit status:
  0  the engine handled every input that ran (skipped inputs are named)
  1  host crash, hang or sanitizer report
  2  usage
  3  setup error: an input that is not a regular file or directory, a bad NUB_REPRO_TIMEOUT,
     ASAN_OPTIONS or UBSAN_OPTIONS, a NUB_GUEST_DIR without the guests, a failed build
  4  nothing ran: an empty directory, or every input over the target's size limit
HELP
	exit 0
}

# setup_error MSG: exits 3 with "setup error: MSG".
setup_error() {
	warn "setup error: $*"
	exit 3
}

# file_kind PATH: what PATH is, for messages.
file_kind() {
	if [[ -L "$1" && ! -e "$1" ]]; then echo "a symbolic link to a missing file"
	elif [[ -p "$1" ]]; then echo "a FIFO"
	elif [[ -c "$1" ]]; then echo "a character device"
	elif [[ -b "$1" ]]; then echo "a block device"
	elif [[ -S "$1" ]]; then echo "a socket"
	else echo "not a regular file"
	fi
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
	-h | --help) help ;;
	-*) usage ;;
	*)
		[[ -z "$input" ]] || usage
		input="$1"
		shift
		;;
	esac
done
[[ -n "$input" ]] || usage
[[ -e "$input" || -L "$input" ]] || die_usage "$input does not exist"
if [[ ! -f "$input" && ! -d "$input" ]]; then
	setup_error "$input is $(file_kind "$input"), not a regular file or directory"
fi
timeout_secs="${NUB_REPRO_TIMEOUT:-120}"
[[ "$timeout_secs" =~ ^[1-9][0-9]*$ ]] ||
	setup_error "NUB_REPRO_TIMEOUT must be a whole number of seconds (1 or more), not '$timeout_secs'"
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
		setup_error "building $target-repro in $build_dir failed"
fi
if [[ -n "$gdb_port$core_dir" && "$(fuzz_target_source "$target")" != */kvm/* ]]; then
	die_usage "--gdb and --core are for KVM targets; $target is pure"
fi
repro="$(fuzz_binary "$build_dir" "$target" -repro)" ||
	setup_error "$repro is missing (build it, or drop --no-build)"
if [[ "$(fuzz_target_kind "$target")" == kvm && -n "${NUB_GUEST_DIR:-}" ]]; then
	[[ -d "$NUB_GUEST_DIR" ]] || setup_error "NUB_GUEST_DIR=$NUB_GUEST_DIR is not a directory"
	[[ -f "$NUB_GUEST_DIR/dummy.elf" ]] ||
		setup_error "NUB_GUEST_DIR=$NUB_GUEST_DIR holds no guests (no dummy.elf)"
fi

if [[ -d "$input" && -f "$input/ring" ]]; then
	log "$input is an AFL++ keep directory: its inputs run oldest first, in one process"
fi

export ASAN_OPTIONS="detect_leaks=1:handle_abort=1:abort_on_error=0:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

out="$(mktemp)"
marker="$(mktemp)"
trap 'rm -f "${build_log:-}" "$out" "$marker"' EXIT

# The sanitizer options first, on their own: the reproducer without inputs prints its usage and
# exits 2; a sanitizer that refuses an option says so before that.
rc=0
timeout --signal=KILL 60 "$repro" >"$out" 2>&1 || rc=$?
refused='ERROR: Invalid value|unrecognized flag|Failed to parse|ERROR: .*(flag|option)'
if grep -qE "$refused" "$out"; then
	cat "$out" >&2
	setup_error "the sanitizer refused ASAN_OPTIONS='${ASAN_OPTIONS}'" \
		"or UBSAN_OPTIONS='${UBSAN_OPTIONS}'"
fi
[[ $rc -eq 2 ]] || {
	cat "$out" >&2
	setup_error "$repro without inputs exited $rc, not 2 (its usage)"
}

if [[ -n "$core_dir" ]]; then
	mkdir -p "$core_dir"
	NUB_CORE_DUMP_DIR="$(realpath "$core_dir")"
	export NUB_CORE_DUMP=1 NUB_CORE_DUMP_DIR
fi
rc=0
if [[ -n "$gdb_port" ]]; then
	# Live output: the line with the gdb command must show while the stub waits; no time-out.
	export NUB_GDB_PORT="$gdb_port"
	"$repro" "$input" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
else
	timeout --signal=KILL "$timeout_secs" "$repro" "$input" >"$out" 2>&1 || rc=$?
	cat "$out"
fi
if [[ -n "$core_dir" ]]; then
	while IFS= read -r core; do
		log "core: $core"
	done < <(find "$NUB_CORE_DUMP_DIR" -maxdepth 1 -name '*.core' -newer "$marker" | sort)
fi
skipped="$(grep -c "^skipped: " "$out" || true)"
if [[ $rc -eq 0 ]]; then
	if [[ $skipped -gt 0 ]]; then
		log "handled by the engine (exit 0); skipped: $skipped input(s) over the target's size limit"
	else
		log "handled by the engine (exit 0)"
	fi
	exit 0
fi
if [[ $rc -eq 4 ]]; then
	if [[ $skipped -gt 0 ]]; then
		log "skipped: $skipped input(s) over the target's size limit, none ran (exit 4)"
	else
		log "skipped: no inputs in $input (exit 4)"
	fi
	exit 4
fi
setup="$(grep -m1 -E '^(fuzz_[a-z0-9_]+-repro: setup error: |nub-fuzz: setup failed: )' "$out" || true)"
if [[ -n "$setup" && ($rc -eq 3 || "$setup" == nub-fuzz:*) ]]; then
	setup_error "${setup#*: setup *: } (reproducer exit $rc)"
fi
bash "$repo/$nub_fuzz_signature" "$target" "$out" "$rc"
log "HOST CRASH or sanitizer report (reproducer exit $rc)"
exit 1
