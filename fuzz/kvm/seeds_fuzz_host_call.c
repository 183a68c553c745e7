/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_host_call: SIMPLE_HOST_CALL payloads for every host function of the registry. */
#include <string.h>

#include "seedgen.h"

static void host_call(struct seedgen *g, const char *name, uint32_t fn, const void *req, size_t n)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u32(&o, fn);
	fuzz_write_bytes(&o, req, n);
	seedgen_emit(g, name, &o);
}

void seeds_fuzz_host_call(struct seedgen *g)
{
	uint8_t big[2048];

	host_call(g, "echo", 1, "hello host", 10);
	host_call(g, "echo-empty", 1, "", 0);
	host_call(g, "upper", 2, "Mixed Case 123 zz", 17);
	host_call(g, "fail", 3, "please fail", 11);
	host_call(g, "huge", 4, "x", 1);
	host_call(g, "unregistered", 7, "anyone?", 7);
	host_call(g, "unregistered-max", 0xffffffffu, "", 0);
	host_call(g, "unregistered-zero", 0, "zero", 4);
	memset(big, 'q', sizeof big);
	host_call(g, "echo-2k", 1, big, sizeof big);
	seedgen_write(g, "short-fn-id", "\x01\x00", 2);

	/*
	 * Inputs at and just past 4 KiB and up to the target's 8 KiB limit: requests and responses
	 * that cross a page, and a start for libFuzzer's length limit at max_len, not at 2 KiB.
	 */
	static uint8_t large[8192 - 4];
	static const struct {
		const char *name;
		uint32_t fn;
		size_t input;
	} sizes[] = {
		{ "echo-4095", 1, 4095 },  { "echo-4096", 1, 4096 }, { "echo-4097", 1, 4097 },
		{ "upper-8191", 2, 8191 }, { "echo-8192", 1, 8192 },
	};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		memset(large, 'a' + (int)i, sizeof large);
		host_call(g, sizes[i].name, sizes[i].fn, large, sizes[i].input - 4);
	}
}
