#!/usr/bin/env bash
# Idempotent setup on Debian 12 as root: Debian packages, then the project virtualenv.
# Fast when everything is already there, so `make testbed` and `make test` run it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "setup: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (packages and network namespaces need it)"

PKGS=(hostapd wpasupplicant eapoltest iw wireless-regdb freeradius iproute2 tcpdump tshark openssl kmod
      bridge-utils iputils-ping python3-venv openssh-server openssh-client)
# Without a usable mac80211_hwsim here, radios run in a VM: qemu + Debian's kernel (with hwsim).
if [ ! -d /sys/module/mac80211_hwsim ] && ! modprobe -n mac80211_hwsim 2>/dev/null; then
    PKGS+=(qemu-system-x86 linux-image-amd64 busybox-static)
fi

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq || die "apt-get update failed (no network to the Debian mirror?)"
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/mihsec-apt.log 2>&1; then
        for p in "${missing[@]}"; do  # find and name the package that failed
            apt-get install -y -qq --no-install-recommends "$p" >>/tmp/mihsec-apt.log 2>&1 \
                || die "could not install Debian package '$p' (see /tmp/mihsec-apt.log)"
        done
    fi
fi
# Check by file what the runs and tests use: a package that some machines have only because another one
# Recommends it (wireless-regdb via iw) passes there and fails on a fresh machine.
need=(hostapd:hostapd wpa_supplicant:wpasupplicant eapol_test:eapoltest iw:iw freeradius:freeradius ip:iproute2
      tc:iproute2 tcpdump:tcpdump tshark:tshark openssl:openssl ping:iputils-ping modprobe:kmod
      sshd:openssh-server ssh-keygen:openssh-client)
for n in "${need[@]}"; do
    command -v "${n%%:*}" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "${n%%:*}" >/dev/null \
        || die "'${n%%:*}' is missing although Debian package '${n#*:}' should provide it"
done
[ -f /lib/firmware/regulatory.db ] || die "/lib/firmware/regulatory.db is missing (Debian package wireless-regdb): \
no country code would apply and every 5 GHz channel would stay closed to APs"
# hostapd's Debian unit would grab the radios natively; we start our own instances.
systemctl disable --now hostapd freeradius >/dev/null 2>&1 || true

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ needed ($PY is $("$PY" -V 2>&1))"
stamp=.venv/.mihsec-setup
want=$(cat requirements.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
    echo "setup: creating the virtualenv .venv"
    [ -x .venv/bin/python ] || "$PY" -m venv .venv || die "python3 -m venv failed (package python3-venv?)"
    .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/pip install -q -r requirements.txt -c constraints.txt || die "pip install -r requirements.txt failed"
    .venv/bin/pip install -q --no-deps -e . || die "pip install -e . failed"
    echo "$want" > $stamp
fi
# wpa_supplicant with ERP (Debian's own source and configuration plus CONFIG_ERP=y), built once per version.
.venv/bin/python -m testbed.wpabuild || die "building wpa_supplicant with ERP failed (see above)"
