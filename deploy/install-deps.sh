#!/usr/bin/env bash
# Installs every Debian package that Reflex's build, tests and demos need.
# Idempotent: when all packages are present it returns at once without touching apt.
# Usage: deploy/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread
  libcaf-dev
  libzmq3-dev cppzmq-dev
  libmsgpack-cxx-dev
  libboost-test-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libtomlplusplus-dev
  prometheus-cpp-dev libxxhash-dev zlib1g-dev
  dataset-fashion-mnist
  python3 python3-torch python3-numpy python3-zmq python3-msgpack python3-yaml
  iproute2 nftables
  openssl libssl-dev  # TLS certificates (deploy/gen-tls.sh) and caf_openssl's link dependency
  prometheus          # promtool: tests/deploy/metrics_promtool_test.py lints every /metrics
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
