#!/usr/bin/env bash
# Installs the Debian 12 packages vigil builds and tests with. Idempotent: does nothing
# when everything is already installed. Run as root (or with sudo available).
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libyaml-cpp-dev libre2-dev libcpp-httplib-dev libsqlitecpp-dev libsqlite3-dev libspdlog-dev catch2
  nlohmann-json3-dev libssl-dev libcurl4-openssl-dev libpq-dev postgresql
  python3 python3-jsonschema python3-yaml python3-aiosmtpd python3-cryptography
  wrk curl openssl
  chromium
)
# Node.js and npm build the web workbench and drive the browser tests; Debian's nodejs (18)
# is enough, and a newer one already installed is kept.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
