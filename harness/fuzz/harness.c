/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by every fuzz binary: outcome reporting, the counting allocation hook, dump helpers. */
#include <stdlib.h>
#include <string.h>

#include "alloc_inject.h"
#include "nub_fuzz.h"
#include "outb.h"

/* Fuzz harness state is per process by nature (one input at a time); the engine has no globals. */
static const char *last_outcome;
static nub_fuzz_outcome_sink outcome_sink;

void nub_fuzz_outcome(const char *cls)
{
	last_outcome = cls ? cls : "-";
	if (outcome_sink)
		outcome_sink(last_outcome);
}

const char *nub_fuzz_last_outcome(void)
{
	return last_outcome ? last_outcome : "-";
}

static char skip_reason[96];
static bool skipped;

bool nub_fuzz_oversize(size_t size, size_t max)
{
	if (size <= max)
		return false;
	snprintf(skip_reason, sizeof skip_reason, "%zu bytes over the limit %zu", size, max);
	skipped = true;
	return true;
}

const char *nub_fuzz_skipped(void)
{
	return skipped ? skip_reason : NULL;
}

void nub_fuzz_outcome_reset(void)
{
	skipped = false;
	last_outcome = NULL;
}

nub_fuzz_outcome_sink nub_fuzz_set_outcome_sink(nub_fuzz_outcome_sink sink)
{
	nub_fuzz_outcome_sink old = outcome_sink;

	outcome_sink = sink;
	return old;
}

/* The counting allocation hook of the fuzz targets: one per process (inputs run one at a time). */
static struct alloc_inject fuzz_alloc;

struct nub_alloc_hook nub_fuzz_alloc_hook(void)
{
	return alloc_inject_hook(&fuzz_alloc);
}

void nub_fuzz_alloc_reset(uint32_t fail_at)
{
	fuzz_alloc = (struct alloc_inject){ .fail_at = fail_at };
}

size_t nub_fuzz_alloc_live(void)
{
	return (size_t)fuzz_alloc.live;
}

size_t nub_fuzz_alloc_failures(void)
{
	return (size_t)fuzz_alloc.failures;
}

void nub_fuzz_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "nub-fuzz: invariant violated at %s:%d: %s\n", file, line, expr);
	fflush(stderr);
	abort();
}

static char failed_invariant[256];

void nub_fuzz_fail_op(const char *op, const char *check, const char *file, int line,
		      const char *expr)
{
	size_t n = (size_t)snprintf(failed_invariant, sizeof failed_invariant, "%s ", op);
	const char *c = check ? check : expr;
	for (; *c && n + 1 < sizeof failed_invariant; c++)
		if (check || (*c != ' ' && *c != '\t' && *c != '\n'))
			failed_invariant[n++] = *c;
	failed_invariant[n] = '\0';
	fprintf(stderr, "nub-fuzz: invariant: %s\n", failed_invariant);
	nub_fuzz_fail(file, line, expr);
}

const char *nub_fuzz_failed_invariant(void)
{
	return failed_invariant[0] ? failed_invariant : NULL;
}

bool nub_fuzz_error_ok(const struct nub_error *err)
{
	return memchr(err->message, '\0', sizeof err->message) != NULL && err->message[0] != '\0';
}

void nub_fuzz_hexdump(FILE *out, const uint8_t *data, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	for (size_t row = 0; row < n; row += 16) {
		fprintf(out, "  %04zx ", row);
		for (size_t i = row; i < row + 16; i++) {
			if (i < n)
				fprintf(out, " %02x", data[i]);
			else
				fputs("   ", out);
		}
		fputs("  |", out);
		for (size_t i = row; i < row + 16 && i < n; i++)
			fputc(data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '.', out);
		fputs("|\n", out);
	}
	if (len > n)
		fprintf(out, "  ... (%zu more bytes)\n", len - n);
}

void nub_fuzz_print_string(FILE *out, const uint8_t *data, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = data[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
	fputc('"', out);
	if (len > n)
		fprintf(out, "... (%zu bytes)", len);
}

static bool replaying;

bool nub_fuzz_replaying(void)
{
	return replaying;
}

void nub_fuzz_set_replaying(bool on)
{
	replaying = on;
}

void nub_fuzz_check_print(const char *text, size_t len)
{
	const uint8_t *p = (const uint8_t *)text;

	NUB_FUZZ_CHECK_OP("nub_config.debug_print",
			  len > 0 && len <= sizeof(((struct nub_print_line *)0)->text));
	for (size_t i = 0; i < len;) {
		uint8_t b = p[i];
		size_t n = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : 4;
		NUB_FUZZ_CHECK_OP("nub_config.debug_print", b < 0x80 || (b >= 0xc2 && b <= 0xf4));
		NUB_FUZZ_CHECK_OP("nub_config.debug_print", n <= len - i);
		uint32_t c = n == 1 ? b : n == 2 ? b & 0x1fu : n == 3 ? b & 0x0fu : b & 0x07u;
		for (size_t k = 1; k < n; k++) {
			NUB_FUZZ_CHECK_OP("nub_config.debug_print", (p[i + k] & 0xc0) == 0x80);
			c = c << 6 | (p[i + k] & 0x3fu);
		}
		NUB_FUZZ_CHECK_OP("nub_config.debug_print",
				  c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff));
		NUB_FUZZ_CHECK_OP("nub_config.debug_print", n == (c < 0x80      ? 1u
								  : c < 0x800   ? 2u
								  : c < 0x10000 ? 3u
										: 4u));
		i += n;
	}
}
