#!/usr/bin/env bash
# Installs every Debian package diffevent needs (build, tests, benchmarks, docs data).
# Usage: bash scripts/setup.sh            (full: with LibTorch)
#        DIFFEVENT_NO_TORCH=1 bash scripts/setup.sh   (event half only)
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
pkgs=(
  build-essential cmake ninja-build pkg-config ccache clang-format
  # OpenBLAS for LibTorch's CPU matrix products (Debian's default libblas.so.3 is the reference
  # BLAS: the priors ran 3x slower on it, docs/performance.md).
  libopenblas0-pthread
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libpng-dev zlib1g-dev libhdf5-dev libcli11-dev nlohmann-json3-dev
  liblz4-dev libzstd-dev python3 time
  # gzip-compressed HDF5 inflated about twice as fast as with zlib (optional at build time).
  libdeflate-dev
  # The C API's tests: bindings (Go; Python + numpy, installed with pip into a venv; the Rust
  # crate's pkg-config build dependency) and the ABI check.
  golang-go python3-numpy python3-venv python3-pip python3-setuptools librust-pkg-config-dev abigail-tools
  # diffevent.cluster (Dask distributed) and its test.
  python3-distributed
  # Photos for priors and benchmarks: JPEG to PNG in scripts/fetch_photos.sh.
  python3-pil
)
# Rust binding: Debian's cargo unless a Rust toolchain is already on PATH (rustup's is fine).
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then pkgs+=(cargo); fi
# python3-torch: the prior tooling (lab/priors) and its tests.
if [ -z "${DIFFEVENT_NO_TORCH:-}" ]; then pkgs+=(libtorch-dev python3-torch); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"
