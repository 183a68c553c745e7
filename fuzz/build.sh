#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build script for the pure fuzz targets (no /dev/kvm, no guests).
# Follows the build contract: compiles with $CC $CFLAGS, links with $LIB_FUZZING_ENGINE (through
# $CXX when set, as OSS-Fuzz asks), and writes into $OUT, per target:
#   <target>  <target>_seed_corpus.zip (corpus/<target>/, flat)  <target>.dict  <target>.options
# Intermediate objects go to $WORK (or a temporary directory). Local check:
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#     OUT=/tmp/out fuzz/build.sh
# Pure targets are the fuzz/fuzz_*.c files carrying the "nub-fuzz-target: pure" marker; the engine
# modules they link are nub_core, i.e. engine/src/*.c. libelf (and the zlib it
# needs) is linked statically when its archives exist, since the runners install no packages;
# NUB_FUZZ_LIBELF overrides the link flags (e.g. a libelf built from source in the Dockerfile).
set -euo pipefail

: "${CC:?set CC (e.g. clang)}"
: "${OUT:?set OUT (the output directory)}"
: "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer)}"
CFLAGS="${CFLAGS:-}"
LINK="${CXX:-$CC}"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work_root="${WORK:-}"
if [[ -z "$work_root" ]]; then
	work_root="$(mktemp -d)"
	trap 'rm -rf "$work_root"' EXIT
fi
objs="$work_root/nub-fuzz-objs"
mkdir -p "$objs" "$OUT"

# The folder is the declaration: every engine/src/*.c is a core module (the KVM backend lives
# in engine/src/kvm/).
modules=()
for src in "$repo"/engine/src/*.c; do
	modules+=("$(basename "$src" .c)")
done
if [[ ! -e "$repo/engine/src/${modules[0]}.c" ]]; then
	echo "fuzz/build.sh: no core modules found in engine/src/" >&2
	exit 1
fi

if [[ -n "${NUB_FUZZ_LIBELF:-}" ]]; then
	read -r -a libelf <<<"$NUB_FUZZ_LIBELF"
elif echo 'int main(void){return 0;}' | "$CC" -x c - -o "$objs/probe" \
	-Wl,-Bstatic -lelf -lz -Wl,-Bdynamic 2>/dev/null; then
	# shellcheck disable=SC2054 # the commas belong to the linker flags
	libelf=(-Wl,-Bstatic -lelf -lz -Wl,-Bdynamic)
else
	libelf=(-lelf)
fi

read -r -a cflags <<<"$CFLAGS"
common=(-std=gnu11 -I"$repo/engine/include" -I"$repo/engine/src" -I"$repo/fuzz")

engine_objs=()
for m in "${modules[@]}"; do
	"$CC" "${cflags[@]}" "${common[@]}" -c "$repo/engine/src/$m.c" -o "$objs/engine_$m.o"
	engine_objs+=("$objs/engine_$m.o")
done
"$CC" "${cflags[@]}" "${common[@]}" -c "$repo/fuzz/harness.c" -o "$objs/harness.o"

targets=()
for src in "$repo"/fuzz/fuzz_*.c; do
	grep -q 'nub-fuzz-target: pure' "$src" && targets+=("$(basename "$src" .c)")
done

for t in "${targets[@]}"; do
	"$CC" "${cflags[@]}" "${common[@]}" -c "$repo/fuzz/$t.c" -o "$objs/$t.o"
	# shellcheck disable=SC2086 # LIB_FUZZING_ENGINE may hold several flags
	"$LINK" "${cflags[@]}" "$objs/$t.o" "$objs/harness.o" "${engine_objs[@]}" \
		$LIB_FUZZING_ENGINE "${libelf[@]}" -o "$OUT/$t"
	cp "$repo/fuzz/$t.dict" "$repo/fuzz/$t.options" "$OUT/"
	rm -f "$OUT/${t}_seed_corpus.zip"
	if [[ -d "$repo/corpus/$t" ]] && [[ -n "$(ls -A "$repo/corpus/$t")" ]]; then
		(cd "$repo/corpus/$t" && zip -q -X -j "$OUT/${t}_seed_corpus.zip" ./*)
	fi
	echo "fuzz/build.sh: $OUT/$t"
done
