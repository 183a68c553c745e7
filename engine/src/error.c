/* SPDX-License-Identifier: Apache-2.0 */
/* Filling struct nub_error and naming status codes. */
#define _GNU_SOURCE /* the GNU strerror_r: thread-safe and returns the text */

#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[NUB_STATUS_COUNT] = {
	[NUB_OK] = "NUB_OK",
	[NUB_E_INVALID] = "NUB_E_INVALID",
	[NUB_E_NOMEM] = "NUB_E_NOMEM",
	[NUB_E_IO] = "NUB_E_IO",
	[NUB_E_KVM] = "NUB_E_KVM",
	[NUB_E_ELF] = "NUB_E_ELF",
	[NUB_E_ABI] = "NUB_E_ABI",
	[NUB_E_LAYOUT] = "NUB_E_LAYOUT",
	[NUB_E_STATE] = "NUB_E_STATE",
	[NUB_E_POISONED] = "NUB_E_POISONED",
	[NUB_E_UNRECOVERABLE] = "NUB_E_UNRECOVERABLE",
	[NUB_E_GUEST_ERROR] = "NUB_E_GUEST_ERROR",
	[NUB_E_GUEST_ABORT] = "NUB_E_GUEST_ABORT",
	[NUB_E_GUEST_FAULT] = "NUB_E_GUEST_FAULT",
	[NUB_E_MMIO] = "NUB_E_MMIO",
	[NUB_E_TRIPLE_FAULT] = "NUB_E_TRIPLE_FAULT",
	[NUB_E_PROTOCOL] = "NUB_E_PROTOCOL",
	[NUB_E_CANCELLED] = "NUB_E_CANCELLED",
	[NUB_E_TIME_LIMIT] = "NUB_E_TIME_LIMIT",
	[NUB_E_EMULATION] = "NUB_E_EMULATION",
	[NUB_E_EXISTS] = "NUB_E_EXISTS",
	[NUB_E_SNAPSHOT] = "NUB_E_SNAPSHOT",
	[NUB_E_DIVERGED] = "NUB_E_DIVERGED",
};

const char *nub_status_str(enum nub_status status)
{
	/* The enum may carry any int (a cast, a corrupt struct): compare as unsigned. */
	if ((unsigned)status >= NUB_STATUS_COUNT || !status_names[status])
		return "NUB_E_UNKNOWN";
	return status_names[status];
}

void nub_error_clear(struct nub_error *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}

/*
 * Formats into the first (cap) bytes of err->message (cap <= its size); a message that does not
 * fit ends in "..." so truncation is visible.
 */
static __attribute__((format(printf, 3, 0))) void format_message(struct nub_error *err, size_t cap,
								 const char *fmt, va_list ap)
{
	int n = vsnprintf(err->message, cap, fmt, ap);

	if (n < 0)
		snprintf(err->message, cap, "(unformattable message)");
	else if ((size_t)n >= cap && cap >= 4)
		memcpy(err->message + cap - 4, "...", 4);
}

enum nub_status nub_error_set(struct nub_error *err, enum nub_status st, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return st;
	nub_error_clear(err);
	err->status = st;
	va_start(ap, fmt);
	format_message(err, sizeof err->message, fmt, ap);
	va_end(ap);
	return st;
}

enum nub_status nub_error_set_errno(struct nub_error *err, enum nub_status st, int sys_errno,
				    const char *fmt, ...)
{
	char buf[256], suffix[sizeof buf + 2];
	size_t used;
	va_list ap;

	if (!err)
		return st;
	nub_error_clear(err);
	err->status = st;
	err->sys_errno = sys_errno;
	/* The errno text is kept whole: a long message is truncated before it, not it. */
	snprintf(suffix, sizeof suffix, ": %s", strerror_r(sys_errno, buf, sizeof buf));
	va_start(ap, fmt);
	format_message(err, sizeof err->message - strlen(suffix), fmt, ap);
	va_end(ap);
	used = strlen(err->message);
	memcpy(err->message + used, suffix, strlen(suffix) + 1);
	return st;
}
