/* SPDX-License-Identifier: Apache-2.0 */
/* The run-time switch of the planted bugs; see planted.h. */
#include "planted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nub_planted(const char *name)
{
	static const char *armed;
	static bool read, announced;

	if (!read) {
		armed = getenv("NUB_PLANTED");
		read = true;
	}
	if (!armed || strcmp(armed, name) != 0)
		return false;
	if (!announced) {
		announced = true;
		fprintf(stderr, "nub-fuzz: planted bug %s armed\n", name);
	}
	return true;
}
