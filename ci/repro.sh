#!/usr/bin/env bash
# Reproduces a fuzz input with the ASan+UBSan reproducer:
#   ci/repro.sh FILE|DIR [--target T] [--build-dir DIR] [--no-build]
# The target comes from the path (corpus/<target>/..., build/campaign/<target>/...) or --target
# (fuzz_outb_decode or just outb_decode). DIR is a corpus directory (name order) or a keep
# directory of the AFL++ driver (.../keep/child-<pid>/, replayed oldest input first); either way
# all inputs run in one process, so state carried between inputs shows.
# Builds <target>-repro in build/asan if needed (configured like ci/build.sh asan), runs it and
# prints the decoded input, the outcome and the signature
#   signature: <target> | <host crash type or none> | <top frames or -> | <outcome class>
# Exit status: 0 if the engine handled every input, 1 on a host crash or sanitizer report, 2 usage.
set -euo pipefail

usage() {
	echo "usage: ci/repro.sh FILE|DIR [--target T] [--build-dir DIR] [--no-build]" >&2
	exit "${1:-2}"
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
input="" target="" build_dir="$repo/build/asan" build=1
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
if [[ ! -e "$input" ]]; then
	echo "ci/repro.sh: $input does not exist" >&2
	exit 2
fi
input="$(realpath "$input")"

if [[ -z "$target" ]]; then
	if [[ "$input" =~ /corpus/([^/]+)(/|$) ]]; then
		target="${BASH_REMATCH[1]}"
	elif [[ "$input" =~ /campaign/([^/]+)(/|$) ]]; then
		target="${BASH_REMATCH[1]}"
	else
		echo "ci/repro.sh: cannot tell the target from $input; pass --target T" >&2
		exit 2
	fi
fi
[[ "$target" == fuzz_* ]] || target="fuzz_$target"
if [[ ! -f "$repo/fuzz/$target.c" ]]; then
	echo "ci/repro.sh: no fuzz target $target (fuzz/$target.c)" >&2
	exit 2
fi

repro="$build_dir/fuzz/$target-repro"
if [[ $build -eq 1 ]]; then
	log="$(mktemp)"
	trap 'rm -f "$log"' EXIT
	if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
		werror=OFF
		[[ "${CI:-}" == "true" ]] && werror=ON
		gcc_path="$(command -v gcc)" || {
			echo "ci/repro.sh: gcc not found (run ci/deps.sh)" >&2
			exit 1
		}
		# The same configuration as `ci/build.sh asan`, which later builds reuse.
		cmake -S "$repo" -B "$build_dir" -DNUB_FLAVOR=asan -DNUB_WERROR="$werror" \
			-DCMAKE_C_COMPILER="$gcc_path" --log-level=WARNING >"$log" 2>&1 || {
			cat "$log" >&2
			exit 1
		}
	fi
	if ! cmake --build "$build_dir" --target "$target-repro" -j"$(nproc)" >"$log" 2>&1; then
		cat "$log" >&2
		echo "ci/repro.sh: building $target-repro in $build_dir failed" >&2
		exit 1
	fi
fi
if [[ ! -x "$repro" ]]; then
	echo "ci/repro.sh: $repro is missing (build it, or drop --no-build)" >&2
	exit 1
fi

if [[ -d "$input" && -f "$input/ring" ]]; then
	echo "ci/repro.sh: $input is an AFL++ keep directory: its inputs run oldest first, in one process"
fi

export ASAN_OPTIONS="detect_leaks=1:handle_abort=1:abort_on_error=0:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

out="$(mktemp)"
trap 'rm -f "${log:-}" "$out"' EXIT
rc=0
timeout --signal=KILL "${NUB_REPRO_TIMEOUT:-120}" "$repro" "$input" >"$out" 2>&1 || rc=$?
cat "$out"
if [[ $rc -eq 0 ]]; then
	echo "ci/repro.sh: handled by the engine (exit 0)"
	exit 0
fi
bash "$repo/fuzz/signature.sh" "$target" "$out" "$rc"
echo "ci/repro.sh: HOST CRASH or sanitizer report (reproducer exit $rc)"
exit 1
