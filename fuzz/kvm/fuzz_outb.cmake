# SPDX-License-Identifier: Apache-2.0
# fuzz_outb's build extra: the planted bug of NUB_PLANT_BUG=kvm, a shim around the engine's
# port-write handler on the KVM exit path (harness/fuzz/planted_outb.c).
nub_fuzz_plant(planted_outb.c nub_outb_handle)
# Its inputs are command streams (MAX_INPUT 8 KiB): the structure-aware mutator.
nub_fuzz_mutator(cmds 8192)
