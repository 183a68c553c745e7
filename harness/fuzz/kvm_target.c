/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the KVM fuzz targets; see kvm_target.h. */
#include "kvm_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_fns.h"
#include "kvm_skip.h"
#include "leak_oracle.h"
#include "nub_fuzz.h"
#include "rawkvm.h"
#include "timing.h"

#ifndef NUB_GUEST_DIR
#error "NUB_GUEST_DIR must name the build's guest directory (set by harness/fuzz/targets.cmake)"
#endif

void kvm_fuzz_guest_path(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("NUB_GUEST_DIR");

	if (!dir || !*dir)
		dir = NUB_GUEST_DIR;
	snprintf(buf, size, "%s/%s.elf", dir, name);
}

/* ---- What the engine delivers to the callbacks ---- */

static void log_cb(void *ctx, const struct nub_log_record *r)
{
	const struct nub_config *cfg = ctx;

	NUB_FUZZ_CHECK_OP("nub_config.log",
			  r->source == NUB_LOG_FROM_GUEST || r->source == NUB_LOG_FROM_ENGINE);
	NUB_FUZZ_CHECK_OP("nub_config.log",
			  r->level >= NUB_LEVEL_ERROR && r->level <= NUB_LEVEL_TRACE);
	if (r->source == NUB_LOG_FROM_GUEST)
		NUB_FUZZ_CHECK_OP("nub_config.log", r->level <= cfg->max_guest_log_level);
	NUB_FUZZ_CHECK_OP("nub_config.log", r->file != NULL && strnlen(r->file, 256) < 256);
	NUB_FUZZ_CHECK_OP("nub_config.log", r->message != NULL || r->message_len == 0);
	NUB_FUZZ_CHECK_OP("nub_config.log", r->message_len <= (1u << 30));
	/* Touch every byte: ASan checks the engine handed over readable memory. */
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < r->message_len; i++)
		sum ^= (uint8_t)r->message[i];
	(void)sum;
}

/* Debug-print text: checked by the shared harness rule. */
static void print_cb(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	nub_fuzz_check_print(text, len);
}

/* The callbacks' view of the configuration (only max_guest_log_level is read). */
static struct nub_config callback_cfg;

void kvm_fuzz_config(struct nub_config *cfg)
{
	nub_config_default(cfg);
	cfg->time_limit_ms = nub_fuzz_replaying() ? KVM_FUZZ_REPLAY_TIME_LIMIT_MS
						  : KVM_FUZZ_TIME_LIMIT_MS;
	cfg->max_guest_log_level = NUB_LEVEL_TRACE;
	callback_cfg = *cfg;
	cfg->log = log_cb;
	cfg->log_ctx = &callback_cfg;
	cfg->debug_print = print_cb;
	cfg->debug_print_ctx = NULL;
	/* ci/repro.sh --core: a core for each poisoning outcome, into $NUB_CORE_DUMP_DIR. */
	if (nub_fuzz_replaying() && getenv("NUB_CORE_DUMP") &&
	    !strcmp(getenv("NUB_CORE_DUMP"), "1"))
		cfg->core_dump = true;
}

/* Whether a replay was asked to serve gdb ($NUB_GDB_PORT set). */
static bool gdb_requested(void)
{
	const char *v = getenv("NUB_GDB_PORT");
	return nub_fuzz_replaying() && v && *v;
}

/*
 * ci/repro.sh --gdb: $NUB_GDB_PORT (1..65535) puts the GDB stub on the target's sandbox when
 * replaying; 0 when unset, malformed or fuzzing. Prints the command that attaches.
 */
static uint16_t gdb_port(const char *path)
{
	const char *v = getenv("NUB_GDB_PORT");
	char *end;
	if (!gdb_requested())
		return 0;
	unsigned long port = strtoul(v, &end, 10);
	if (*end || port == 0 || port > 65535) {
		fprintf(stderr, "nub-fuzz: NUB_GDB_PORT '%s' is not a port in 1..65535: ignored\n",
			v);
		return 0;
	}
	fprintf(stderr, "nub-fuzz: waiting for gdb: gdb -ex 'target remote 127.0.0.1:%lu' %s\n",
		port, path);
	return (uint16_t)port;
}

/* ---- Host functions ---- */

static size_t huge_bytes = KVM_FUZZ_HUGE_BYTES; /* KFN_HUGE's ctx, never written */

static const struct nub_host_function host_functions[KFN_COUNT] = {
	{ KFN_ECHO, host_fn_echo, NULL },
	{ KFN_UPPER, host_fn_upper, NULL },
	{ KFN_FAIL, host_fn_fail, NULL },
	{ KFN_HUGE, host_fn_huge, &huge_bytes },
};

const struct nub_host_function *kvm_fuzz_host_functions(size_t *n)
{
	*n = KFN_COUNT;
	return host_functions;
}

void kvm_fuzz_setup_check(enum nub_status st, const struct nub_error *err, const char *what)
{
	if (st == NUB_OK)
		return;
	fprintf(stderr, "nub-fuzz: setup failed: %s: %s: %s\n", what, nub_status_str(st),
		err ? err->message : "");
	abort();
}

void kvm_fuzz_register(struct nub_uninit *u)
{
	struct nub_error err;

	for (size_t i = 0; i < KFN_COUNT; i++)
		kvm_fuzz_setup_check(nub_uninit_register(u, host_functions[i].fn_id,
							 host_functions[i].fn,
							 host_functions[i].ctx, &err),
				     &err, "nub_uninit_register");
}

void kvm_fuzz_warm_up(void)
{
	struct nub_config cfg;
	struct nub_error err;
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *snap = NULL;
	char path[4096];

	kvm_fuzz_guest_path("dummy", path, sizeof path);
	kvm_fuzz_config(&cfg);
	struct nub_guest_env env = { .path = path };
	kvm_fuzz_setup_check(nub_uninit_new(&env, &cfg, &u, &err), &err, path);
	kvm_fuzz_setup_check(nub_uninit_evolve(u, &sb, &err), &err, "evolve the warm-up guest");
	kvm_fuzz_setup_check(nub_sandbox_snapshot(sb, &snap, &err), &err, "warm-up snapshot");
	kvm_fuzz_setup_check(nub_sandbox_restore(sb, snap, &err), &err, "warm-up restore");
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

void kvm_fuzz_sandbox_once(struct kvm_fuzz_sandbox *s, const char *target, const char *guest)
{
	struct nub_config cfg;
	struct nub_error err;
	struct nub_uninit *u = NULL;
	char path[4096];

	if (s->sb)
		return;
	kvm_skip_unless_available(target);
	kvm_fuzz_guest_path(guest, path, sizeof path);
	kvm_fuzz_config(&cfg);
	cfg.gdb_port = gdb_port(path);
	struct nub_guest_env env = { .path = path };
	kvm_fuzz_setup_check(nub_uninit_new(&env, &cfg, &u, &err), &err, path);
	kvm_fuzz_register(u);
	kvm_fuzz_setup_check(nub_uninit_evolve(u, &s->sb, &err), &err, "evolve the guest");
	kvm_fuzz_setup_check(nub_sandbox_snapshot(s->sb, &s->snap, &err), &err, "snapshot");
	kvm_fuzz_report_iteration(target, s->sb);
	kvm_fuzz_calibrate_oracle(target, s->sb, s->snap);
}

/* ---- The trivial-iteration line ---- */

#define ITER_WARMUP 20u
#define ITER_RUNS 200u
#define RT_WARMUP 200u
#define RT_RUNS 2000u
/* DESIGN §4: a fuzz iteration on a trivial KVM target, reset included. */
#define ITER_GOAL_RT 4.4

/* While kvm_fuzz_report_iteration runs an input, kvm_fuzz_restore adds its time here. */
static struct {
	bool on;
	uint64_t restore_ns;
	double iteration_ns, rt_ns; /* the line's wall median and RT, 0 when not measured */
} calibration;

void kvm_fuzz_report_iteration(const char *target, const struct nub_sandbox *sb)
{
	static bool done;
	static const uint8_t empty[1]; /* a valid pointer for the 0-byte input */
	double wall[ITER_RUNS], restore[ITER_RUNS], guest[ITER_RUNS], engine[ITER_RUNS];
	struct nub_sandbox_stats first = { 0 }, last = { 0 };
	struct rawkvm_error e;
	double rt;

	/* Under gdb every call stops at its entry: no measuring runs then. */
	if (done || gdb_requested())
		return;
	done = true;
	if (rawkvm_measure_rt(RT_WARMUP, RT_RUNS, &rt, &e) != 0) {
		fprintf(stderr, "nub-fuzz: %s: trivial iteration: not measured: raw VM: %s\n",
			target, e.message);
		return;
	}
	/* The drivers' sink reports outcomes of real inputs (the reproducer prints each). */
	nub_fuzz_outcome_sink sink = nub_fuzz_set_outcome_sink(NULL);
	for (size_t i = 0; i < ITER_WARMUP + ITER_RUNS; i++) {
		struct nub_sandbox_stats s0 = { 0 }, s1 = { 0 };
		if (sb)
			nub_sandbox_get_stats(sb, &s0);
		calibration.restore_ns = 0;
		calibration.on = true;
		uint64_t t0 = timing_now_ns();
		LLVMFuzzerTestOneInput(empty, 0);
		uint64_t t1 = timing_now_ns();
		calibration.on = false;
		if (sb)
			nub_sandbox_get_stats(sb, &s1);
		if (i < ITER_WARMUP)
			continue;
		size_t j = i - ITER_WARMUP;
		if (j == 0)
			first = s0;
		last = s1;
		wall[j] = (double)(t1 - t0);
		restore[j] = (double)calibration.restore_ns;
		/* Each guest KVM_RUN costs at least the raw round trip; the rest is guest code. */
		guest[j] = (double)(s1.guest_run_ns - s0.guest_run_ns) -
			   (double)(s1.guest_runs - s0.guest_runs) * rt;
		engine[j] = wall[j] - guest[j];
	}
	nub_fuzz_set_outcome_sink(sink);
	nub_fuzz_outcome_reset();

	double wall_ns = timing_median(wall, ITER_RUNS);
	double engine_ns = timing_median(engine, ITER_RUNS);
	calibration.iteration_ns = wall_ns;
	calibration.rt_ns = rt;
	char split[256];
	if (!sb) {
		snprintf(split, sizeof split,
			 "no long-lived sandbox: this target builds one per input, which an empty "
			 "input may not reach; outside the %.1f RT goal",
			 ITER_GOAL_RT);
	} else {
		uint64_t stub = last.stub_resets - first.stub_resets;
		uint64_t ioctls = last.ioctl_resets - first.ioctl_resets;
		char via[64] = "via vCPU ioctls";
		if (stub && ioctls)
			snprintf(via, sizeof via, "via the reset stub %llu of %llu times",
				 (unsigned long long)stub, (unsigned long long)(stub + ioctls));
		else if (stub)
			snprintf(via, sizeof via, "via the reset stub");
		snprintf(split, sizeof split,
			 "goal <= %.1f RT; restore %.1f RT %s, guest work %.1f RT", ITER_GOAL_RT,
			 timing_median(restore, ITER_RUNS) / rt, via,
			 timing_median(guest, ITER_RUNS) / rt);
	}
	fprintf(stderr,
		"nub-fuzz: %s: trivial iteration (empty input; medians of n = %u): wall %.1f us = "
		"%.1f RT; engine %.1f RT (%s); RT = %.2f us (raw KVM_RUN/out round trip, median of "
		"%u, measured now)\n",
		target, ITER_RUNS, wall_ns / 1000.0, wall_ns / rt, engine_ns / rt, split,
		rt / 1000.0, RT_RUNS);
}

/* ---- The restore oracle ---- */

/* Issue #11: the oracle may add at most this share to an input (checked every N restores). */
#define ORACLE_MAX_SHARE 0.10
#define ORACLE_WARMUP 5u
#define ORACLE_RUNS 50u
/* The largest N that NUB_FUZZ_ORACLE_EVERY or NUB_FUZZ_LEAK_EVERY may set. */
#define ORACLE_EVERY_MAX 1000000u

/* Check every (every) restores outside replay; 0 until calibrated (never checked then). */
static struct {
	unsigned every;
	bool off; /* NUB_FUZZ_ORACLE_EVERY=0 */
	unsigned long restores;
} oracle;

/*
 * The count in environment variable (name), 0..ORACLE_EVERY_MAX, or -1 when it is unset or empty;
 * anything else ends the process (exit 2) naming the variable and the range.
 */
static long env_every(const char *name)
{
	const char *v = getenv(name);
	char *end;

	if (!v || !*v)
		return -1;
	unsigned long n = strtoul(v, &end, 10);
	if (*end || *v < '0' || *v > '9' || n > ORACLE_EVERY_MAX) {
		fprintf(stderr, "nub-fuzz: %s '%s' is not a count in 0..%u\n", name, v,
			ORACLE_EVERY_MAX);
		exit(2);
	}
	return (long)n;
}

void kvm_fuzz_check_exact(struct nub_sandbox *sb, const struct nub_snapshot *snap)
{
	struct nub_error err;
	enum nub_status st = nub_sandbox_verify(sb, snap, &err);
	if (st == NUB_OK)
		return;
	fprintf(stderr, "nub-fuzz: restore oracle: %s: %s\n", nub_status_str(st), err.message);
	nub_fuzz_fail_op("nub_sandbox_restore", "exact (nub_sandbox_verify)", __FILE__, __LINE__,
			 "restore oracle: nub_sandbox_verify(sandbox, snapshot) == NUB_OK");
}

void kvm_fuzz_calibrate_oracle(const char *target, struct nub_sandbox *sb,
			       struct nub_snapshot *snap)
{
	double v[ORACLE_RUNS];
	struct nub_error err;

	if (oracle.every)
		return;
	for (unsigned i = 0; i < ORACLE_WARMUP + ORACLE_RUNS; i++) {
		kvm_fuzz_setup_check(nub_sandbox_restore(sb, snap, &err), &err,
				     "restore (oracle calibration)");
		uint64_t t0 = timing_now_ns();
		kvm_fuzz_check_exact(sb, snap);
		if (i >= ORACLE_WARMUP)
			v[i - ORACLE_WARMUP] = (double)(timing_now_ns() - t0);
	}
	double check_ns = timing_median(v, ORACLE_RUNS);
	double iter_ns = calibration.iteration_ns, rt = calibration.rt_ns;
	long forced = env_every("NUB_FUZZ_ORACLE_EVERY");
	if (forced >= 0) {
		oracle.every = forced ? (unsigned)forced : 1;
		oracle.off = forced == 0;
		fprintf(stderr,
			"nub-fuzz: %s: restore oracle: nub_sandbox_verify %.1f us per check (median of "
			"%u); %s %ld (NUB_FUZZ_ORACLE_EVERY)\n",
			target, check_ns / 1000.0, ORACLE_RUNS,
			forced ? "checked after every restore numbered a multiple of"
			       : "off, also when replaying: N =",
			forced);
		return;
	}
	if (iter_ns <= 0 || rt <= 0) {
		oracle.every = 1;
		fprintf(stderr,
			"nub-fuzz: %s: restore oracle: nub_sandbox_verify %.1f us per check; trivial "
			"iteration not measured, so checked after every restore\n",
			target, check_ns / 1000.0);
		return;
	}
	/* The smallest N with check / N below the share of a trivial iteration (the cheapest input). */
	oracle.every = (unsigned)(check_ns / (ORACLE_MAX_SHARE * iter_ns)) + 1;
	fprintf(stderr,
		"nub-fuzz: %s: restore oracle: nub_sandbox_verify %.1f us = %.1f RT per check (median "
		"of %u); checked after every %u restores = %.1f %% of the trivial iteration's %.1f us "
		"(goal < %.0f %%); after every restore when replaying\n",
		target, check_ns / 1000.0, check_ns / rt, ORACLE_RUNS, oracle.every,
		100.0 * check_ns / oracle.every / iter_ns, iter_ns / 1000.0,
		100.0 * ORACLE_MAX_SHARE);
}

/* ---- The state-leak oracle ---- */

#define LEAK_WARMUP 2u
#define LEAK_RUNS 10u
/* Checks cut short by the time limit that are tried again before one counts as a finding. */
#define LEAK_TIME_LIMIT_RETRIES 3u

/* Check every (every) restores outside replay; 0 when the target has not enabled it. */
static struct {
	unsigned every;
	bool off; /* NUB_FUZZ_LEAK_EVERY=0 */
	unsigned long restores;
} leak;

void kvm_fuzz_check_no_leak(struct nub_sandbox *sb, struct nub_snapshot *snap)
{
	struct nub_error err, verr;
	/* The host's view first: the check's own call dirties the sandbox. */
	enum nub_status vst = nub_sandbox_verify(sb, snap, &verr);
	enum nub_status st = leak_oracle_check(sb, snap, &err);
	/*
	 * A loaded host may cut an emulated digest call short (the 20 ms time limit): no finding,
	 * and one no input would reproduce. Restore and check again: restore puts back only what it
	 * harvests, so a real leak is still there to be seen.
	 */
	for (unsigned i = 0; st == NUB_E_TIME_LIMIT && i < LEAK_TIME_LIMIT_RETRIES; i++) {
		enum nub_status rst = nub_sandbox_restore(sb, snap, &err);
		NUB_FUZZ_CHECK_OP("nub_sandbox_restore", rst == NUB_OK);
		st = leak_oracle_check(sb, snap, &err);
	}

	if (st != NUB_OK) {
		fprintf(stderr, "nub-fuzz: state-leak oracle: %s: %s\n", nub_status_str(st),
			err.message);
		fprintf(stderr, "nub-fuzz: state-leak oracle: host view: %s\n",
			vst == NUB_OK ? "guest memory equals the snapshot (only the guest sees it)"
				      : verr.message);
		nub_fuzz_fail_op(
			"nub_sandbox_restore", "guest state digest == snapshot", __FILE__, __LINE__,
			"state-leak oracle: leak_oracle_check(sandbox, snapshot) == NUB_OK");
	}
	st = nub_sandbox_restore(sb, snap, &err);
	if (st != NUB_OK)
		fprintf(stderr, "nub-fuzz: restore after the state-leak oracle failed: %s: %s\n",
			nub_status_str(st), err.message);
	NUB_FUZZ_CHECK_OP("nub_sandbox_restore", st == NUB_OK);
}

void kvm_fuzz_enable_leak_oracle(const char *target, struct kvm_fuzz_sandbox *s)
{
	double v[LEAK_RUNS];
	struct nub_error err;

	/* Not from the trivial-iteration runs (their inputs call back in here) nor under gdb. */
	if (leak.every || calibration.on || gdb_requested())
		return;
	long forced = env_every("NUB_FUZZ_LEAK_EVERY");
	if (forced >= 0) {
		leak.every = forced ? (unsigned)forced : 1;
		leak.off = forced == 0;
		fprintf(stderr, "nub-fuzz: %s: state-leak oracle: %s %ld (NUB_FUZZ_LEAK_EVERY)\n",
			target,
			forced ? "checked after every restore numbered a multiple of"
			       : "off, also when replaying: N =",
			forced);
		return;
	}
	for (unsigned i = 0; i < LEAK_WARMUP + LEAK_RUNS; i++) {
		kvm_fuzz_setup_check(nub_sandbox_restore(s->sb, s->snap, &err), &err,
				     "restore (state-leak oracle calibration)");
		uint64_t t0 = timing_now_ns();
		kvm_fuzz_check_no_leak(s->sb, s->snap);
		if (i >= LEAK_WARMUP)
			v[i - LEAK_WARMUP] = (double)(timing_now_ns() - t0);
	}
	double check_ns = timing_median(v, LEAK_RUNS);
	double iter_ns = calibration.iteration_ns, rt = calibration.rt_ns;
	if (iter_ns <= 0 || rt <= 0) {
		leak.every = 1;
		fprintf(stderr,
			"nub-fuzz: %s: state-leak oracle: FUZZ_FN_DIGEST + restore %.1f us per check; "
			"trivial iteration not measured, so checked before every input\n",
			target, check_ns / 1000.0);
		return;
	}
	/* Same rule as the restore oracle: under the share of the cheapest input. */
	leak.every = (unsigned)(check_ns / (ORACLE_MAX_SHARE * iter_ns)) + 1;
	fprintf(stderr,
		"nub-fuzz: %s: state-leak oracle: FUZZ_FN_DIGEST + restore %.1f us = %.1f RT per "
		"check (median of %u); checked before every %u inputs = %.1f %% of the trivial "
		"iteration's %.1f us (goal < %.0f %%); before every input when replaying\n",
		target, check_ns / 1000.0, check_ns / rt, LEAK_RUNS, leak.every,
		100.0 * check_ns / leak.every / iter_ns, iter_ns / 1000.0,
		100.0 * ORACLE_MAX_SHARE);
}

/* ---- Invariants of results ---- */

void kvm_fuzz_restore(struct nub_sandbox *sb, struct nub_snapshot *snap)
{
	struct nub_error err;
	uint64_t t0 = calibration.on ? timing_now_ns() : 0;
	enum nub_status st = nub_sandbox_restore(sb, snap, &err);

	if (calibration.on)
		calibration.restore_ns += timing_now_ns() - t0;
	if (st != NUB_OK)
		fprintf(stderr, "nub-fuzz: restore failed: %s: %s\n", nub_status_str(st),
			err.message);
	NUB_FUZZ_CHECK_OP("nub_sandbox_restore", st == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_sandbox_restore", nub_sandbox_status(sb) == NUB_SANDBOX_READY);
	/* Not inside the calibration runs: their inputs are the yardstick, not fuzz inputs. */
	if (calibration.on || !oracle.every)
		return;
	if (!oracle.off && (nub_fuzz_replaying() || ++oracle.restores % oracle.every == 0))
		kvm_fuzz_check_exact(sb, snap);
	/* After the restore and before the next input: what that input's guest will see. */
	if (leak.every && !leak.off && (nub_fuzz_replaying() || ++leak.restores % leak.every == 0))
		kvm_fuzz_check_no_leak(sb, snap);
}

void kvm_fuzz_check_result(const char *op, enum nub_status st, const struct nub_error *err)
{
	NUB_FUZZ_CHECK_OP(op, (unsigned)st < NUB_STATUS_COUNT);
	/* Every guest-caused outcome has its own status: NUB_E_KVM is an engine bug. */
	NUB_FUZZ_CHECK_OP(op, st != NUB_E_KVM);
	if (st != NUB_OK) {
		NUB_FUZZ_CHECK_OP(op, err->status == st);
		NUB_FUZZ_CHECK_OP(op, nub_fuzz_error_ok(err));
	}
}

void kvm_fuzz_check_call(enum nub_sandbox_status s, enum nub_status st, const struct nub_error *err)
{
	kvm_fuzz_check_result("nub_sandbox_call", st, err);
	switch (st) {
	case NUB_OK:
	case NUB_E_GUEST_ERROR:
	case NUB_E_INVALID: /* refused before the guest ran (a payload too large for the buffer) */
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", s == NUB_SANDBOX_READY);
		break;
	case NUB_E_NOMEM: /* the response could not be copied out: the guest had finished */
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  s == NUB_SANDBOX_READY || s == NUB_SANDBOX_POISONED);
		break;
	default:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", s == NUB_SANDBOX_POISONED);
		break;
	}
}

const char *kvm_fuzz_status_class(enum nub_status st)
{
	return st == NUB_OK ? "ok" : nub_status_str(st);
}

#define MAX_STAGES 8u

const char *kvm_fuzz_outcome(const char *stage, enum nub_status st)
{
	static const char *stages[MAX_STAGES];
	static char names[MAX_STAGES][NUB_STATUS_COUNT][48];
	unsigned i;

	/* Plain checks: these guard the harness's own table, not an engine promise. */
	NUB_FUZZ_CHECK((unsigned)st < NUB_STATUS_COUNT);
	for (i = 0; i < MAX_STAGES && stages[i] && strcmp(stages[i], stage) != 0; i++)
		;
	NUB_FUZZ_CHECK(i < MAX_STAGES);
	if (!stages[i]) {
		stages[i] = stage;
		for (unsigned k = 0; k < NUB_STATUS_COUNT; k++)
			snprintf(names[i][k], sizeof names[i][k], "%s/%s", stage,
				 kvm_fuzz_status_class((enum nub_status)k));
	}
	return names[i][st];
}
