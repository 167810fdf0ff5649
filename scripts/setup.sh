#!/usr/bin/env bash
# Installs what building and testing tlsdissect needs on a Debian machine:
# libpcap-dev always; with "test", also tshark (cross-checks) and chromium
# (the HTML report's real-browser test). Uses sudo when not root. When
# another apt or dpkg holds the lock (unattended-upgrades, a second
# setup), it waits for it, up to SETUP_LOCK_WAIT seconds (default 600).
set -euo pipefail

lock_wait=${SETUP_LOCK_WAIT:-600}

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
# apt_get runs apt-get, waiting while another apt or dpkg holds a lock:
# apt itself waits for the dpkg lock (DPkg::Lock::Timeout, apt 1.9.11 and
# later), and any lock error (the lists lock of "update", an older apt)
# is retried every 5 s until the deadline.
apt_get() {
	local deadline=$((SECONDS + lock_wait)) err said=""
	while :; do
		if err=$($sudo apt-get -o DPkg::Lock::Timeout="$lock_wait" "$@" 2>&1 >/dev/null); then
			return 0
		fi
		if grep -qiE 'could not get lock|unable to acquire|unable to lock|another process using it' <<<"$err" && ((SECONDS < deadline)); then
			if [[ -z $said ]]; then
				echo "setup: another apt or dpkg is running; waiting for it (up to ${lock_wait}s)" >&2
				said=1
			fi
			sleep 5
			continue
		fi
		printf '%s\n' "$err" >&2
		return 1
	done
}

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_get update -qq
apt_get install -y -qq --no-install-recommends "${missing[@]}"
