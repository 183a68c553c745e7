/* SPDX-License-Identifier: Apache-2.0 */
/* Defaults and validation of struct nub_config. */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "bytes.h"
#include "error.h"

void nub_config_default(struct nub_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof *cfg);
	cfg->input_size = NUB_DEFAULT_IO_SIZE;
	cfg->output_size = NUB_DEFAULT_IO_SIZE;
	cfg->heap_size = NUB_DEFAULT_HEAP_SIZE;
	cfg->stack_size = NUB_DEFAULT_STACK_SIZE;
	cfg->interrupt_signal_offset = 0;
	cfg->max_guest_log_level = NUB_LEVEL_ERROR;
}

/*
 * Resolves one size: 0 becomes (def), anything else is rounded up to a page and must lie in
 * [min, max]. The message shows the caller's value, not the rounded one.
 */
static enum nub_status resolve_size(const char *field, uint64_t value, uint64_t def, uint64_t min,
				    uint64_t max, uint64_t *out, struct nub_error *err)
{
	uint64_t r;

	if (value == 0) {
		*out = def;
		return NUB_OK;
	}
	if (!nub_align_up(value, NUB_PAGE_SIZE, &r))
		return nub_error_set(err, NUB_E_LAYOUT,
				     "config.%s 0x%" PRIx64 " overflows when rounded up to a page",
				     field, value);
	if (r < min)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "config.%s 0x%" PRIx64 " is below the minimum 0x%" PRIx64,
				     field, value, min);
	if (r > max)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "config.%s 0x%" PRIx64 " is above the maximum 0x%" PRIx64,
				     field, value, max);
	*out = r;
	return NUB_OK;
}

/* Checks (cfg) and writes the resolved sizes into (out) (which may alias nothing in cfg). */
static enum nub_status check(const struct nub_config *cfg, struct nub_config *out,
			     struct nub_error *err)
{
	enum nub_status st;
	/* The enum may hold any int: compare the raw value as unsigned so negatives fail too. */
	unsigned level = (unsigned)cfg->max_guest_log_level;
	int off = cfg->interrupt_signal_offset;

	*out = *cfg;
	st = resolve_size("input_size", cfg->input_size, NUB_DEFAULT_IO_SIZE, NUB_MIN_IO_SIZE,
			  NUB_MAX_IO_SIZE, &out->input_size, err);
	if (st)
		return st;
	st = resolve_size("output_size", cfg->output_size, NUB_DEFAULT_IO_SIZE, NUB_MIN_IO_SIZE,
			  NUB_MAX_IO_SIZE, &out->output_size, err);
	if (st)
		return st;
	st = resolve_size("heap_size", cfg->heap_size, NUB_DEFAULT_HEAP_SIZE, 0, NUB_MAX_HEAP_SIZE,
			  &out->heap_size, err);
	if (st)
		return st;
	st = resolve_size("stack_size", cfg->stack_size, NUB_DEFAULT_STACK_SIZE, NUB_MIN_STACK_SIZE,
			  NUB_MAX_STACK_SIZE, &out->stack_size, err);
	if (st)
		return st;
	if (level > NUB_LEVEL_TRACE)
		return nub_error_set(err, NUB_E_INVALID,
				     "config.max_guest_log_level %d is not %d..%d",
				     (int)cfg->max_guest_log_level, NUB_LEVEL_OFF, NUB_LEVEL_TRACE);
	if (cfg->core_dump_dir &&
	    (!cfg->core_dump_dir[0] ||
	     strnlen(cfg->core_dump_dir, NUB_CORE_DIR_MAX) == NUB_CORE_DIR_MAX))
		return nub_error_set(
			err, NUB_E_INVALID,
			"config.core_dump_dir must be a non-empty path shorter than %u bytes",
			NUB_CORE_DIR_MAX);
	/* Read as an integer: an enum field may hold any value the caller stored in it. */
	unsigned bp_mode = (unsigned)cfg->gdb_breakpoints;
	if (bp_mode > NUB_GDB_BREAKPOINTS_DEBUG_REGS)
		return nub_error_set(
			err, NUB_E_INVALID,
			"config.gdb_breakpoints %u is not %d (auto), %d (int3) or %d (debug registers)",
			bp_mode, NUB_GDB_BREAKPOINTS_AUTO, NUB_GDB_BREAKPOINTS_INT3,
			NUB_GDB_BREAKPOINTS_DEBUG_REGS);
	/*
	 * The kick signal must be a real-time signal: anything else could collide with signals
	 * the embedding process relies on. Written as a subtraction so no int sum can overflow.
	 */
	if (off < 0 || off > SIGRTMAX - SIGRTMIN)
		return nub_error_set(
			err, NUB_E_INVALID,
			"config.interrupt_signal_offset %d is outside 0..%d (SIGRTMIN %d + offset must not exceed SIGRTMAX %d)",
			off, SIGRTMAX - SIGRTMIN, SIGRTMIN, SIGRTMAX);
	return NUB_OK;
}

enum nub_status nub_config_validate(const struct nub_config *cfg, struct nub_error *err)
{
	struct nub_config tmp;

	if (!cfg)
		return nub_error_set(err, NUB_E_INVALID, "config is NULL");
	return check(cfg, &tmp, err);
}

enum nub_status nub_config_resolve(const struct nub_config *in, struct nub_config *out,
				   struct nub_error *err)
{
	struct nub_config def, tmp;
	enum nub_status st;

	if (!out)
		return nub_error_set(err, NUB_E_INVALID, "config output is NULL");
	if (!in) {
		nub_config_default(&def);
		in = &def;
	}
	/* Resolve into a temporary so a failure leaves (out) untouched. */
	st = check(in, &tmp, err);
	if (st)
		return st;
	*out = tmp;
	return NUB_OK;
}
