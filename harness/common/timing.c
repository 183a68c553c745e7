/* SPDX-License-Identifier: Apache-2.0 */
/* Wall-clock timing of iterations; see timing.h. */
#include "timing.h"

#include <stdlib.h>
#include <time.h>

uint64_t timing_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double timing_elapsed_ms(uint64_t t0_ns)
{
	return (double)(timing_now_ns() - t0_ns) / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

double timing_median_ns(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	if (n % 2)
		return (double)v[n / 2];
	return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

double timing_percentile_ns(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t i = n * pct / 100;

	if (i >= n)
		i = n - 1;
	return (double)sorted[i];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double timing_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}
