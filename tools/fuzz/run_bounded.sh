#!/usr/bin/env bash
# Bounded fuzzing for CTest (tests/chaos/CMakeLists.txt: fuzz/libfuzzer_bounded): builds both
# libFuzzer harnesses with tools/fuzz/build.sh and runs each for SECONDS (default 20).
# Exits 77 (CTest: skipped) when clang++ with libFuzzer is not installed; 0 when both ran
# without a crash; otherwise the failing harness's exit status (its input is in
# <out_dir>/artifacts).
#
#   tools/fuzz/run_bounded.sh [seconds=20] [out_dir=build-fuzz]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-20}
OUT=${2:-$ROOT/build-fuzz}
CXX=${CXX:-clang++}
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe/p.cc"
if ! command -v "$CXX" >/dev/null || ! "$CXX" -fsanitize=fuzzer "$probe/p.cc" -o "$probe/p" 2>/dev/null; then
  echo "SKIP: $CXX with libFuzzer (-fsanitize=fuzzer) is not available (apt-get install clang libclang-rt-14-dev)"
  exit 77
fi
for harness in fuzz_wire_decode fuzz_rules_parse; do
  echo "== $harness: $SECONDS_EACH s"
  "$ROOT/tools/fuzz/build.sh" "$SECONDS_EACH" "$OUT" "$harness" 2>&1 | tail -15
  code=${PIPESTATUS[0]}
  if [[ $code -ne 0 ]]; then
    echo "FAIL: $harness exited $code"
    exit "$code"
  fi
done
echo "both harnesses ran ${SECONDS_EACH}s each without a crash"
