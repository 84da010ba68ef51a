#!/usr/bin/env bash
# Builds a libFuzzer harness with clang++ -fsanitize=fuzzer,address,undefined against libs/core
# and libs/wire, then fuzzes it for N seconds. Harnesses:
#   fuzz_wire_decode  the wire decoder (tools/fuzz/fuzz_wire_decode.cc; dictionary wire.dict)
#   fuzz_rules_parse  the rule-language parser (tools/fuzz/fuzz_rules_parse.cc)
#
#   tools/fuzz/build.sh [seconds=60] [out_dir=build-fuzz] [harness=fuzz_wire_decode]
#
# Needs clang with libFuzzer: on Debian 12 `apt-get install -y clang libclang-rt-14-dev`.
# The corpus persists in <out_dir>/corpus (seeded with a valid encoding of every message type),
# crashes land in <out_dir>/artifacts. Single process (-jobs is left to the caller's machine).
# Extra libFuzzer flags can be passed in FUZZ_FLAGS, e.g. FUZZ_FLAGS="-runs=100000".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN_SECONDS=${1:-60}
OUT=${2:-$ROOT/build-fuzz}
HARNESS=${3:-fuzz_wire_decode}
case "$HARNESS" in
  fuzz_wire_decode) SEED_ENV=WIRE_FUZZ_WRITE_SEEDS; DICT=(-dict="$ROOT/tools/fuzz/wire.dict") ;;
  fuzz_rules_parse) SEED_ENV=RULES_FUZZ_WRITE_SEEDS; DICT=() ;;
  *) echo "unknown harness '$HARNESS' (fuzz_wire_decode or fuzz_rules_parse)" >&2; exit 2 ;;
esac
CXX=${CXX:-clang++}
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -I"$ROOT/libs" -I"$ROOT/tests/wire")
SANITIZERS=address,undefined
NO_RECOVER=-fno-sanitize-recover=undefined

# Objects live in a folder named after the compiler and flags, so changing either rebuilds.
OBJ="$OUT/obj-$(echo "$CXX ${FLAGS[*]} $SANITIZERS $NO_RECOVER" | md5sum | cut -c1-8)"
CORPUS="$OUT/corpus"
[[ "$HARNESS" == fuzz_wire_decode ]] || CORPUS="$OUT/corpus-$HARNESS"
mkdir -p "$OBJ" "$CORPUS" "$OUT/artifacts"

# Library sources get coverage instrumentation without libFuzzer's main; objects are reused
# when the source is older than the object.
objects=()
for src in "$ROOT"/libs/core/*.cc "$ROOT"/libs/wire/*.cc; do
  obj="$OBJ/$(basename "$(dirname "$src")")_$(basename "${src%.cc}").o"
  if [[ ! -f "$obj" || "$src" -nt "$obj" ]]; then
    "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link,$SANITIZERS $NO_RECOVER -c "$src" -o "$obj"
  fi
  objects+=("$obj")
done
"$CXX" "${FLAGS[@]}" -fsanitize=fuzzer,$SANITIZERS $NO_RECOVER \
  "$ROOT/tools/fuzz/$HARNESS.cc" "${objects[@]}" -o "$OUT/$HARNESS"

if [[ "$RUN_SECONDS" == 0 ]]; then
  echo "built $OUT/$HARNESS"
  exit 0
fi

# Seed the corpus with valid frames, then fuzz. -malloc_limit_mb makes any single allocation
# over 64 MiB a failure (inputs are at most 4 KiB, so the decoder never needs one).
if ! env "$SEED_ENV=$CORPUS" "$OUT/$HARNESS" -runs=0 "$CORPUS" >"$OUT/seed-$HARNESS.log" 2>&1; then
  cat "$OUT/seed-$HARNESS.log"
  exit 1
fi
"$OUT/$HARNESS" "$CORPUS" \
  "${DICT[@]}" \
  -max_total_time="$RUN_SECONDS" -max_len=4096 -malloc_limit_mb=64 -rss_limit_mb=2048 \
  -timeout=5 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/" ${FUZZ_FLAGS:-}
