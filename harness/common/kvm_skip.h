/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM-skip rule of every test and fuzz target that needs /dev/kvm. */
#ifndef NUB_HARNESS_KVM_SKIP_H
#define NUB_HARNESS_KVM_SKIP_H

/*
 * Returns if /dev/kvm can be opened. Otherwise exits 77 (ctest "skipped") with a message on
 * stderr naming (who), or, when the environment sets NUB_REQUIRE_KVM=1 (CI on a machine with
 * /dev/kvm), exits 1 instead: a KVM test must never pass by being skipped there.
 */
void kvm_skip_unless_available(const char *who);

#endif
