/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM ioctl fault injector: a counting nub_ioctl_hook that fails a chosen ioctl. */
#ifndef NUB_HARNESS_IOCTL_INJECT_H
#define NUB_HARNESS_IOCTL_INJECT_H

#include "nub/nub.h"

/*
 * The state of one hook. Zero-initialise it, set (fail_at) and (errnum), hand
 * ioctl_inject_hook(&in) to the engine (nub_config.ioctl). Walking fail_at = 1, 2, ... until a
 * run makes fewer than (fail_at) ioctls visits every ioctl failure.
 */
struct ioctl_inject {
	long fail_at;  /* the (fail_at)-th ioctl (1-based) fails; 0: none */
	int errnum;    /* with this errno */
	int repeat;    /* it and the next (repeat) ioctls with the same request fail too */
	long calls;    /* ioctls made so far */
	long failures; /* ioctls made to fail */
	unsigned long failed_request; /* the request of the first failure */
};

/* The hook over (in), which must outlive every sandbox made with it. */
struct nub_ioctl_hook ioctl_inject_hook(struct ioctl_inject *in);

#endif
