# SPDX-License-Identifier: Apache-2.0
# fuzz_wire's build extra: the planted bug of NUB_PLANT_BUG=pure, a shim around the engine's
# log-frame decoder (harness/fuzz/planted_wire.c).
nub_fuzz_plant(planted_wire.c nub_wire_decode_log)
