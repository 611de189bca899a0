#!/usr/bin/env bash
# Installs every Debian package droidfix needs to build, test and benchmark.
# Idempotent: installs only what is missing, and runs apt-get update only then.
set -eu

packages=(
  build-essential cmake pkg-config git
  liblua5.4-dev lua5.4 libusb-1.0-0-dev libuv1-dev libarchive-dev libssl-dev
  libcmocka-dev clang llvm libclang-rt-14-dev
  umockdev libumockdev-dev
  adb fastboot android-sdk-libsparse-utils
  python3 zip unzip xxd
  zlib1g-dev
  jq
  hyperfine
  libdeflate0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "droidfix: missing packages: ${missing[*]}" >&2
  echo "droidfix: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "droidfix: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
