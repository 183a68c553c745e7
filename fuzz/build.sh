#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OSS-Fuzz / ClusterFuzzLite build script for the pure fuzz targets (no /dev/kvm, no guests).
# Follows the build contract: compiles with $CC $CFLAGS, links with $LIB_FUZZING_ENGINE (through
# $CXX when set, as OSS-Fuzz asks), and writes into $OUT, per target:
#   <target>  <target>_seed_corpus.zip (corpus/<target>/, flat)  <target>.dict  <target>.options
# Intermediate objects go to $WORK (or a temporary directory). ClusterFuzzLite runs it from
# .clusterfuzzlite/build.sh in the image .clusterfuzzlite/Dockerfile builds. Local check:
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#     OUT=/tmp/out fuzz/build.sh
# and the whole contract (files in $OUT, each fuzzer on 100 inputs): ci/ossfuzz-check.sh.
# Pure targets are the fuzz/pure/fuzz_*.c files; they link the engine core (engine/src/*.c: the
# folder is nub_core's declaration) and the KVM-free framework nub_harness, whose source list is
# read from harness/CMakeLists.txt. libelf (and the zlib it needs) is linked statically when its
# archives exist, since the runners install no packages (.clusterfuzzlite/Dockerfile installs
# libelf-dev and zlib1g-dev); NUB_FUZZ_LIBELF overrides the link flags (.clusterfuzzlite/build.sh
# adds -lzstd when libelf.a needs it).
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

# cmake_sources DIR LIBRARY: the .c files of add_library(LIBRARY ...) in DIR/CMakeLists.txt, as
# paths under DIR, one per line.
cmake_sources() {
	local list
	list="$(awk -v lib="add_library($2 " 'index($0, lib) == 1 { on = 1 } on { print } on && /\)/ { exit }' \
		"$1/CMakeLists.txt" | grep -o '[a-z_/]*\.c')"
	if [[ -z "$list" ]]; then
		echo "fuzz/build.sh: the $2 source list not found in $1/CMakeLists.txt" >&2
		exit 1
	fi
	echo "$list" | sed "s|^|$1/|"
}
engine_sources="$(printf '%s\n' "$repo"/engine/src/*.c)"
harness_sources="$(cmake_sources "$repo/harness" nub_harness)"

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
common=(-std=gnu11 -I"$repo/engine/include" -I"$repo/engine/src" -I"$repo/harness/common"
	-I"$repo/harness/fuzz" -I"$repo/guests/include")

# The engine's objects are linked whole; the framework's as an archive (only what a target uses).
engine_objs=()
for src in $engine_sources; do
	o="$objs/engine_$(basename "$src" .c).o"
	"$CC" "${cflags[@]}" "${common[@]}" -c "$src" -o "$o"
	engine_objs+=("$o")
done
harness_objs=()
for src in $harness_sources; do
	o="$objs/harness_$(basename "$src" .c).o"
	"$CC" "${cflags[@]}" "${common[@]}" -c "$src" -o "$o"
	harness_objs+=("$o")
done
rm -f "$objs/libnub_harness.a"
"${AR:-ar}" rcs "$objs/libnub_harness.a" "${harness_objs[@]}"

for src in "$repo"/fuzz/pure/fuzz_*.c; do
	t="$(basename "$src" .c)"
	"$CC" "${cflags[@]}" "${common[@]}" -c "$src" -o "$objs/$t.o"
	# shellcheck disable=SC2086 # LIB_FUZZING_ENGINE may hold several flags
	"$LINK" "${cflags[@]}" "$objs/$t.o" "${engine_objs[@]}" "$objs/libnub_harness.a" \
		$LIB_FUZZING_ENGINE "${libelf[@]}" -o "$OUT/$t"
	cp "$repo/fuzz/pure/$t.dict" "$repo/fuzz/pure/$t.options" "$OUT/"
	rm -f "$OUT/${t}_seed_corpus.zip"
	if [[ -d "$repo/corpus/$t" ]] && [[ -n "$(ls -A "$repo/corpus/$t")" ]]; then
		(cd "$repo/corpus/$t" && zip -q -X -j "$OUT/${t}_seed_corpus.zip" ./*)
	fi
	echo "fuzz/build.sh: $OUT/$t"
done
