#!/bin/bash
# Builds and runs heal_cuda_check on a machine with pip PyTorch (CUDA) and no Debian packages.
# nlohmann/json.hpp comes from NLOHMANN_INCLUDE_DIR (default: the copy carried in
# build-gpu/include, made with: mkdir -p build-gpu/include && cp -r /usr/include/nlohmann build-gpu/include/).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
prefix=$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)')
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
inc=${NLOHMANN_INCLUDE_DIR:-$PWD/build-gpu/include}
cmake -S tools/gpu-check -B build-gpu/cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DNLOHMANN_INCLUDE_DIR="$inc" > build-gpu/configure.log 2>&1 || { tail -30 build-gpu/configure.log; exit 1; }
cmake --build build-gpu/cmake -j"$(nproc)" 2>&1 | tail -5
build-gpu/cmake/heal_cuda_check
