#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ci/templates-check.sh: the CI templates pass yamllint and fuzz every KVM target.
#   ci/templates-check.sh
# Runs `yamllint --strict` (settings: .yamllint) over every tracked YAML file and the templates
# (.github/workflows/*.yml, .gitlab-ci.yml, .clusterfuzzlite/project.yaml), then
# requires the fuzz matrices of .github/workflows/ci.yml (jobs.fuzz.strategy.matrix.target) and
# .gitlab-ci.yml (fuzz.parallel.matrix TARGET) to list exactly the fuzz/kvm/ targets, and
# .clusterfuzzlite/ to hold its Dockerfile, build.sh and project.yaml. Exit 0 pass, 1 fail.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

command -v yamllint >/dev/null || die "yamllint not found (run ci/deps.sh)"
files=()
mapfile -t files < <({
	git ls-files -- '*.yml' '*.yaml' .yamllint 2>/dev/null || true
	for f in .yamllint .github/workflows/*.yml .gitlab-ci.yml .clusterfuzzlite/project.yaml; do
		[[ -f "$f" ]] && echo "$f"
	done
} | sort -u)
[[ ${#files[@]} -gt 0 ]] || die "no YAML files found"
echo "$(yamllint --version): ${files[*]}"
yamllint --strict -c .yamllint "${files[@]}" || die "yamllint found problems (above)"

fail=0
for f in .clusterfuzzlite/Dockerfile .clusterfuzzlite/build.sh .clusterfuzzlite/project.yaml \
	.github/workflows/ci.yml .github/workflows/cflite_pr.yml .gitlab-ci.yml; do
	[[ -f "$f" ]] || {
		echo "$nub_script: $f is missing"
		fail=1
	}
done
[[ $fail -eq 0 ]] || exit 1

kvm_targets="$(fuzz_targets | awk '$2 == "kvm" { print $1 }' | sort | tr '\n' ' ')"
# matrix FILE PYTHON-EXPRESSION: the sorted list the expression picks from FILE's YAML (as y).
matrix() {
	python3 -c 'import sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
print(" ".join(sorted(eval(sys.argv[2]))))' "$1" "$2" | sed 's/$/ /'
}
for pair in ".github/workflows/ci.yml|y['jobs']['fuzz']['strategy']['matrix']['target']" \
	".gitlab-ci.yml|y['fuzz']['parallel']['matrix'][0]['TARGET']"; do
	f="${pair%%|*}"
	listed="$(matrix "$f" "${pair#*|}")" || {
		echo "$nub_script: $f has no fuzz matrix at ${pair#*|}"
		fail=1
		continue
	}
	if [[ "$listed" != "$kvm_targets" ]]; then
		echo "$nub_script: $f fuzzes '${listed% }', but the KVM targets are '${kvm_targets% }'"
		fail=1
	else
		echo "$f: fuzz matrix = the $(wc -w <<<"$kvm_targets") KVM targets"
	fi
done
[[ $fail -eq 0 ]] || exit 1
log "CI templates: ${#files[@]} YAML files pass yamllint; fuzz matrices list every KVM target"
