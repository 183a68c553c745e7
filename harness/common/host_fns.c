/* SPDX-License-Identifier: Apache-2.0 */
/* Host functions shared by tests, fuzz targets, the seed generator and tools; see host_fns.h. */
#include "host_fns.h"

#include <stdio.h>

static int out_of_memory(struct nub_error *err, const char *name)
{
	snprintf(err->message, sizeof err->message, "%s: out of memory", name);
	return -1;
}

int host_fn_echo(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		 struct nub_error *err)
{
	(void)ctx;
	if (nub_buf_append(resp, req, len) != NUB_OK)
		return out_of_memory(err, "echo");
	return 0;
}

int host_fn_upper(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		  struct nub_error *err)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = req[i] >= 'a' && req[i] <= 'z' ? (uint8_t)(req[i] - 32) : req[i];
		if (nub_buf_append(resp, &c, 1) != NUB_OK)
			return out_of_memory(err, "upper");
	}
	return 0;
}

int host_fn_fail(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		 struct nub_error *err)
{
	(void)req;
	(void)resp;
	if (ctx)
		snprintf(err->message, sizeof err->message, "%s", (const char *)ctx);
	else
		snprintf(err->message, sizeof err->message, "fail: refused a %zu-byte request",
			 len);
	return 1;
}

int host_fn_huge(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		 struct nub_error *err)
{
	static const uint8_t block[4096];

	(void)req;
	for (size_t left = *(const size_t *)ctx + len; left;) {
		size_t n = left < sizeof block ? left : sizeof block;
		if (nub_buf_append(resp, block, n) != NUB_OK)
			return out_of_memory(err, "huge");
		left -= n;
	}
	return 0;
}

int host_fn_nop(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		struct nub_error *err)
{
	(void)ctx;
	(void)req;
	(void)len;
	(void)resp;
	(void)err;
	return 0;
}
