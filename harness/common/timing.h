/* SPDX-License-Identifier: Apache-2.0 */
/* Wall-clock timing of iterations: the clock and the medians every measurement is reported with. */
#ifndef NUB_HARNESS_TIMING_H
#define NUB_HARNESS_TIMING_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (no error path: a valid clock id and pointer). */
uint64_t timing_now_ns(void);

/* Milliseconds from (t0_ns) to now. */
double timing_elapsed_ms(uint64_t t0_ns);

/*
 * The median of (n) > 0 samples in nanoseconds; sorts (v) in place, so percentiles can be read
 * from it afterwards (timing_percentile_ns).
 */
double timing_median_ns(uint64_t *v, size_t n);

/* The (pct)-th percentile of (n) > 0 samples sorted by timing_median_ns, in nanoseconds. */
double timing_percentile_ns(const uint64_t *sorted, size_t n, unsigned pct);

/* The median of (n) > 0 values that may be negative (differences of times); sorts (v). */
double timing_median(double *v, size_t n);

#endif
