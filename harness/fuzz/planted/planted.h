/* SPDX-License-Identifier: Apache-2.0 */
/* The run-time switch of the planted bugs (harness/fuzz/planted.cmake): $NUB_PLANTED names one. */
#ifndef NUB_PLANTED_H
#define NUB_PLANTED_H

#include <stdbool.h>

/*
 * Whether the planted bug (name) is armed: $NUB_PLANTED, read once per process, equals (name).
 * Unset or naming another bug, every shim passes straight through to the engine, so one
 * NUB_PLANT_BUG=all build serves every bug and behaves like a plain build. The first armed query
 * prints "nub-fuzz: planted bug NAME armed" to stderr, so a log shows which bug a run carried.
 */
bool nub_planted(const char *name);

#endif
