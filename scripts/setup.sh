#!/usr/bin/env bash
# Installs what building and testing tlsdissect needs on a Debian machine:
# libpcap-dev always; with "test", also tshark (cross-checks) and chromium
# (the HTML report's real-browser test). Uses sudo when not root.
set -euo pipefail

want=(libpcap-dev)
if [[ "${1:-}" == "test" ]]; then
	want+=(tshark chromium)
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
