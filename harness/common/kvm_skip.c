/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM-skip rule; see kvm_skip.h. */
#include "kvm_skip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub/nub.h"

void kvm_skip_unless_available(const char *who)
{
	if (nub_kvm_available())
		return;
	const char *req = getenv("NUB_REQUIRE_KVM");
	if (req && strcmp(req, "1") == 0) {
		fprintf(stderr, "%s: NUB_REQUIRE_KVM=1 but /dev/kvm cannot be opened\n", who);
		exit(1);
	}
	fprintf(stderr, "%s: /dev/kvm cannot be opened: skipping (exit 77)\n", who);
	exit(77);
}
