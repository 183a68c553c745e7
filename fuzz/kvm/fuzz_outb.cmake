# SPDX-License-Identifier: Apache-2.0
# fuzz_outb's build extra: its inputs are command streams (MAX_INPUT 8 KiB), mutated
# structure-aware (harness/fuzz/mutator.h). Its planted bugs are in harness/fuzz/planted.cmake.
nub_fuzz_mutator(cmds 8192)
