#!/usr/bin/env bash
# Runs every native fuzz target of the module for FUZZTIME each (default 5s).
# Targets are found by name, so a new Fuzz function is fuzzed without edits here.
set -euo pipefail
fuzztime="${FUZZTIME:-5s}"
cd "$(dirname "$0")/.."
status=0
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"${line#*:}")"
	pkg="./$(dirname "$file")"
	echo "fuzz: $pkg $name ($fuzztime)"
	if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/fuzz-$$.log 2>&1; then
		# On a loaded machine the baseline run over the seed corpus can
		# outlast a short fuzztime, which Go reports as "context deadline
		# exceeded" without any failing input: run that target once more,
		# for longer. A real failure names its input and fails again.
		if grep -q 'context deadline exceeded' /tmp/fuzz-$$.log && ! grep -q 'Failing input' /tmp/fuzz-$$.log &&
			go test -run='^$' -fuzz="^${name}\$" -fuzztime=30s "$pkg" >/tmp/fuzz-$$.log 2>&1; then
			echo "fuzz: $name passed on a second, longer run (the first timed out in its baseline)"
		else
			cat /tmp/fuzz-$$.log
			status=1
		fi
	fi
done < <(grep -rEn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | grep -v '/testdata/' | sed -E 's/^\.\///; s/^([^:]+):[0-9]+:/\1:/' | sort)
rm -f /tmp/fuzz-$$.log
exit $status
