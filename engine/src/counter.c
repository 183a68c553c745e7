/* SPDX-License-Identifier: Apache-2.0 */
/* The host-authoritative guest counter: the host's value is the truth, guest memory a read-only copy. */
#include "counter.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "error.h"
#include "image.h"

void nub_counter_free(struct nub_counter *c, const struct nub_alloc_hook *hook)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	nub_alloc_free(hook, c);
}

void nub_counter_write(struct nub_image *img)
{
	volatile uint8_t *p = nub_mem_ptr(&img->mem, img->layout.counter_gpa, 8);
	if (!img->counter) {
		nub_vstore64(p, 0);
		return;
	}
	pthread_mutex_lock(&img->counter->lock);
	nub_vstore64(p, img->counter->value);
	pthread_mutex_unlock(&img->counter->lock);
}

enum nub_status nub_uninit_guest_counter(struct nub_uninit *u, struct nub_counter **out,
					 struct nub_error *err)
{
	nub_error_clear(err);
	if (!u || !out)
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL", u ? "out" : "uninit");
	if (u->img.counter)
		return nub_error_set(err, NUB_E_EXISTS,
				     "the sandbox already has its guest counter");
	struct nub_counter *c = nub_alloc_zeroed(&u->img.cfg.alloc, sizeof *c);
	if (!c)
		return nub_error_set(err, NUB_E_NOMEM, "guest counter (%zu bytes)", sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	u->img.counter = c;
	*out = c;
	return NUB_OK;
}

static enum nub_status counter_add(struct nub_counter *c, int delta, struct nub_error *err)
{
	nub_error_clear(err);
	if (!c)
		return nub_error_set(err, NUB_E_INVALID, "counter is NULL");
	pthread_mutex_lock(&c->lock);
	enum nub_status st = NUB_OK;
	if (!c->img)
		st = nub_error_set(err, NUB_E_STATE,
				   "guest counter: the sandbox has not evolved yet");
	else if (delta > 0 && c->value == UINT64_MAX)
		st = nub_error_set(err, NUB_E_INVALID, "guest counter would overflow past 0x%llx",
				   (unsigned long long)c->value);
	else if (delta < 0 && c->value == 0)
		st = nub_error_set(err, NUB_E_INVALID, "guest counter would go below 0");
	else {
		c->value = delta > 0 ? c->value + 1 : c->value - 1;
		nub_vstore64(nub_mem_ptr(&c->img->mem, c->img->layout.counter_gpa, 8), c->value);
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

enum nub_status nub_counter_increment(struct nub_counter *c, struct nub_error *err)
{
	return counter_add(c, 1, err);
}

enum nub_status nub_counter_decrement(struct nub_counter *c, struct nub_error *err)
{
	return counter_add(c, -1, err);
}

uint64_t nub_counter_value(const struct nub_counter *c)
{
	struct nub_counter *m = (struct nub_counter *)(uintptr_t)c;
	pthread_mutex_lock(&m->lock);
	uint64_t v = m->value;
	pthread_mutex_unlock(&m->lock);
	return v;
}
