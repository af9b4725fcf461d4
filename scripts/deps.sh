#!/usr/bin/env bash
# Install the Debian 12 packages hawser needs to build and test, only those missing,
# so a warm machine does not wait. Run as root (CI and the README quick start are).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libev-dev liblmdb-dev lmdb-utils liburing-dev libsodium-dev libinih-dev
  libprotobuf-c-dev protobuf-c-compiler libcmocka-dev
)
# chromium: tests/integration/test_report_html.c renders a drill report headless.
# clang, libclang-rt-14-dev: libFuzzer and the sanitizers for scripts/fuzz.sh.
[ "${HW_DEPS_TEST:-0}" = 1 ] && pkgs+=(tmux iproute2 nftables procps chromium clang libclang-rt-14-dev)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "hawser: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "hawser: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
