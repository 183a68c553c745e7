/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers for filling struct nub_error. */
#ifndef NUB_ERROR_H
#define NUB_ERROR_H

#include "nub/nub.h"

/*
 * Resets (err) (may be NULL) and sets status (st) and a printf-formatted message; returns (st) so
 * callers can write `return nub_error_set(err, NUB_E_ELF, "...")`.
 */
enum nub_status nub_error_set(struct nub_error *err, enum nub_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, and records (sys_errno) and appends ": strerror(sys_errno)" to the message. */
enum nub_status nub_error_set_errno(struct nub_error *err, enum nub_status st, int sys_errno,
				    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Zeroes (err) (may be NULL); status becomes NUB_OK. */
void nub_error_clear(struct nub_error *err);

#endif
