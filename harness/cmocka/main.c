/* SPDX-License-Identifier: Apache-2.0 */
/* The main of every cmocka suite: the KVM-skip rule for kvm suites, NUB_TEST_FILTER, the cases. */
#include <stdlib.h>

#include "kvm_skip.h"
#include "testlib.h"

#if !defined(NUB_TEST_NAME) || !defined(NUB_TEST_KVM)
#error "NUB_TEST_NAME and NUB_TEST_KVM are set by nub_add_test (harness/CMakeLists.txt)"
#endif

int main(void)
{
	/* Before anything else: a kvm suite without /dev/kvm runs no test at all. */
	if (NUB_TEST_KVM)
		kvm_skip_unless_available(NUB_TEST_NAME);
	/* NUB_TEST_FILTER=<glob> runs only the matching tests (for debugging one test). */
	const char *pattern = getenv("NUB_TEST_FILTER");
	if (pattern && *pattern)
		cmocka_set_test_filter(pattern);
	return _cmocka_run_group_tests("tests", nub_test_suite.tests, nub_test_suite.count, NULL,
				       NULL);
}
