#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang and runs each for
# $FUZZ_SECONDS seconds (default 60) from its seed corpus tests/fuzz/corpus/<target>/.
# New inputs go to build/fuzz/work/<target>/ (the committed corpus is only read);
# crashes, leaks and timeouts go to build/fuzz/artifacts/. Exits non-zero on the first
# target with a finding, after printing how to reproduce it.
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CC_FUZZ=${CC_FUZZ:-clang}
OUT=build/fuzz
PKGS="jansson zlib libcrypto libutf8proc"
if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
  echo "fuzz: $CC_FUZZ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra -Werror \
  -Iprotocol $(pkg-config --cflags $PKGS)"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
LIBS="$(pkg-config --libs $PKGS) -lm"
mkdir -p "$OUT/obj" "$OUT/artifacts"

# The library is instrumented for coverage but not linked with libFuzzer's main.
objs=""
for src in protocol/*.c; do
  case "$src" in *_win.c) continue ;; esac # the Windows build's (make win)
  obj="$OUT/obj/$(basename "$src" .c).o"
  $CC_FUZZ $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  objs="$objs $obj"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  bin="$OUT/$name"
  extra=""
  # The CSV reader lives in the agent; its target links that one module.
  if [ "$name" = fuzz_csv ]; then
    $CC_FUZZ $CFLAGS $SAN -fsanitize=fuzzer-no-link -Iagent -c agent/csv.c -o "$OUT/obj/csv.o"
    extra="-Iagent $OUT/obj/csv.o"
  fi
  $CC_FUZZ $CFLAGS $SAN -fsanitize=fuzzer -Itests/fuzz $extra "$src" $objs -o "$bin" $LIBS
  mkdir -p "$OUT/work/$name"
  echo "== $name: ${FUZZ_SECONDS}s"
  if ! "$bin" "$OUT/work/$name" "tests/fuzz/corpus/$name" \
      -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$OUT/artifacts/$name-" -print_final_stats=1 \
      >"$OUT/$name.log" 2>&1; then
    echo "fuzz: $name found a problem; log: $OUT/$name.log" >&2
    tail -30 "$OUT/$name.log" >&2
    echo "reproduce: $bin $OUT/artifacts/$name-<file>" >&2
    status=1
    break
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$OUT/$name.log" | tail -2 || true
done
[ $status -eq 0 ] && echo "fuzz: no findings"
exit $status
