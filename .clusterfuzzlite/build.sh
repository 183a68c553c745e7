#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ClusterFuzzLite / OSS-Fuzz build entry ($SRC/build.sh in the image): builds the pure targets.
# fuzz/build.sh follows the build contract ($CC $CFLAGS $LIB_FUZZING_ENGINE $OUT $WORK); the
# Dockerfile copies the repository to $SRC/nub. When libelf.a needs libzstd (elfutils built with
# zstd), it is added to the static link. ci/ossfuzz-check.sh runs this script as the image would.
set -euo pipefail

src="${SRC:?set SRC (the image sets it)}/nub"
if [[ -z "${NUB_FUZZ_LIBELF:-}" ]]; then
	for a in /usr/lib/x86_64-linux-gnu/libelf.a /usr/lib/libelf.a; do
		[[ -f "$a" ]] || continue
		if grep -q 'U ZSTD_' < <(nm "$a" 2>/dev/null); then
			export NUB_FUZZ_LIBELF="-Wl,-Bstatic -lelf -lz -lzstd -Wl,-Bdynamic"
		fi
		break
	done
fi
exec bash "$src/fuzz/build.sh"
