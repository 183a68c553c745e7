# SPDX-License-Identifier: Apache-2.0
# fuzz_snapshot_file's build extra: its inputs are snapshot files, mutated structure-aware
# (harness/fuzz/mutator.h) up to the max_len of its .options, 128 KiB.
nub_fuzz_mutator(snapshot 131072)
