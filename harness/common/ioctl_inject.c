/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM ioctl fault injector; see ioctl_inject.h. */
#include "ioctl_inject.h"

#include <errno.h>
#include <sys/ioctl.h>

static int inject_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct ioctl_inject *in = ctx;

	in->calls++;
	bool first = in->fail_at && in->calls == in->fail_at;
	bool again = in->failures && in->failures <= in->repeat && request == in->failed_request;
	if (first || again) {
		if (first)
			in->failed_request = request;
		in->failures++;
		errno = in->errnum;
		return -1;
	}
	return ioctl(fd, request, arg);
}

struct nub_ioctl_hook ioctl_inject_hook(struct ioctl_inject *in)
{
	return (struct nub_ioctl_hook){ inject_ioctl, in };
}
