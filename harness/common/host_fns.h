/* SPDX-License-Identifier: Apache-2.0 */
/* Host functions (nub_host_fn) that tests, fuzz targets, the seed generator and tools register. */
#ifndef NUB_HARNESS_HOST_FNS_H
#define NUB_HARNESS_HOST_FNS_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/*
 * Each follows nub.h's contract: 0 with the response appended to (resp), or non-zero with a
 * message in (err). Running out of memory while appending fails with "<name>: out of memory".
 */

/* Responds with the request. (ctx) unused. */
int host_fn_echo(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		 struct nub_error *err);

/* Responds with the request, ASCII letters upper-cased. (ctx) unused. */
int host_fn_upper(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		  struct nub_error *err);

/*
 * Fails (returns 1) with (ctx) as the message, a C string, or "fail: refused a <len>-byte
 * request" when (ctx) is NULL.
 */
int host_fn_fail(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		 struct nub_error *err);

/*
 * Responds with *(const size_t *)ctx zero bytes plus one per request byte: more than an input
 * buffer holds, for NUB_STATUS_RESPONSE_TOO_LARGE.
 */
int host_fn_huge(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		 struct nub_error *err);

/* Succeeds with an empty response: the cheapest host call. (ctx) unused. */
int host_fn_nop(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		struct nub_error *err);

#endif
