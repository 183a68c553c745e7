#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command of this checkout in a Debian 12 container on a Linux CI runner, with /dev/kvm.
#   .github/scripts/in-debian12.sh [--need-kvm] CMD [ARG...]
# nub targets Debian 12's packages (clang 14, afl++ 4.04c, gcovr 5.2: ci/deps.sh installs them
# with apt-get), so the jobs run in debian:12 (NUB_CI_IMAGE overrides it) rather than on the
# runner's own Ubuntu. On the host first:
#   /dev/kvm  GitHub's standard and larger x64 Linux runners have it, root:kvm 0660; a udev rule
#             (KERNEL=="kvm", GROUP="kvm", MODE="0666") opens it to the runner's user, and the
#             container gets it with --device. --need-kvm fails (exit 1) when the host has none;
#             without it the container has no /dev/kvm and ci/test.sh skips the KVM tests.
#   ASLR      vm.mmap_rnd_bits above 28 (Ubuntu 24.04 runners: 32) breaks clang 14's ASan and
#             TSan ("unexpected memory mapping"); it is set to 28 (the value is not namespaced,
#             so it is set on the host).
# The checkout is mounted at /src; CI=true, GITHUB_ACTIONS and every NUB_* variable are passed
# in; files the container wrote are given back to the runner's user. Exit: CMD's status.
set -euo pipefail

need_kvm=0
if [[ "${1:-}" == --need-kvm ]]; then
	need_kvm=1
	shift
fi
if [[ $# -eq 0 ]]; then
	echo "usage: .github/scripts/in-debian12.sh [--need-kvm] CMD [ARG...]" >&2
	exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image="${NUB_CI_IMAGE:-debian:12}"
sudo_cmd=()
[[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)

devices=()
if [[ -e /dev/kvm ]]; then
	if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		echo 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"' |
			"${sudo_cmd[@]}" tee /etc/udev/rules.d/99-nub-kvm.rules >/dev/null
		"${sudo_cmd[@]}" udevadm control --reload-rules
		"${sudo_cmd[@]}" udevadm trigger --name-match=kvm
		"${sudo_cmd[@]}" udevadm settle
	fi
	devices=(--device /dev/kvm)
	echo "in-debian12: /dev/kvm: $(stat -c '%A %U:%G' /dev/kvm)"
elif [[ $need_kvm -eq 1 ]]; then
	echo "::error::this runner has no /dev/kvm (use a standard or larger x64 Linux runner, or a" \
		"self-hosted one: see .github/workflows/ci.yml)" >&2
	exit 1
else
	echo "in-debian12: no /dev/kvm on this runner: KVM tests will be skipped"
fi

bits="$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)"
if [[ "$bits" -gt 28 ]]; then
	echo "in-debian12: vm.mmap_rnd_bits $bits -> 28 (clang 14 sanitizers)"
	"${sudo_cmd[@]}" sysctl -qw vm.mmap_rnd_bits=28
fi

env_args=(-e CI=true -e GITHUB_ACTIONS -e HOST_UID="$(id -u)" -e HOST_GID="$(id -g)")
while IFS= read -r v; do
	env_args+=(-e "$v")
done < <(compgen -e | grep '^NUB_' || true)

# In the container: git (ci/test.sh lists the tracked files with it), then CMD; ci/deps.sh (which
# CMD runs) installs the rest. --init passes a cancelled job's signal on to CMD.
# shellcheck disable=SC2016 # expanded by the container's bash
inner='set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null
git config --global --add safe.directory /src
rc=0
"$@" || rc=$?
chown -R "$HOST_UID:$HOST_GID" /src
exit "$rc"'
echo "in-debian12: $image: $*"
exec docker run --rm --init "${devices[@]}" "${env_args[@]}" --shm-size 1g \
	--cap-add SYS_PTRACE --security-opt seccomp=unconfined \
	-v "$repo:/src" -w /src "$image" bash -c "$inner" bash "$@"
