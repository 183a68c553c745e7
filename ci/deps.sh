#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package nub needs; a quick no-op when all are already present.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(cmake make gcc clang libclang-rt-14-dev clang-format afl++ libelf-dev libcmocka-dev
	gcovr gdb pkg-config yamllint zip unzip gnuplot-nox tmux python3)

missing=()
for pkg in "${packages[@]}"; do
	status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$pkg")
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi

sudo_cmd=()
if [[ "$(id -u)" -ne 0 ]]; then
	command -v sudo >/dev/null 2>&1 ||
		die "missing packages (${missing[*]}) and not root; no sudo to install them"
	sudo_cmd=(sudo)
fi

log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null
