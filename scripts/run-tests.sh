#!/bin/sh
# Runs every suite against the binaries in $BUILD and prints "N passed, N failed".
# Unit suites are cmocka binaries (build/<mode>/tests/test_*); end-to-end suites are
# tests/e2e/*.sh, which print cmocka-style "[ PASSED ]"/"[ FAILED ]" lines per case.
# VALGRIND=1 runs the unit suites under valgrind --leak-check=full.
set -u
BUILD=${BUILD:-build/asan}
export BUILD
export LK_BIN="$BUILD"
passed=0; failed=0
log=$(mktemp -d)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
count() { # file -> adds to passed/failed
  p=$(grep -c '^\[       OK \]' "$1")
  f=$(grep -c '^\[  FAILED  \] [a-z]' "$1")
  passed=$((passed + p)); failed=$((failed + f))
  echo "  $p passed, $f failed"
}
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  echo "== $name"
  if [ "${VALGRIND:-0}" = 1 ]; then
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$t" >"$log/$name" 2>&1
  else
    "$t" >"$log/$name" 2>&1
  fi
  rc=$?
  count "$log/$name"
  if [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \] [a-z]' "$log/$name"; then
    echo "  suite $name exited $rc without a failed case: counted as one failure"
    failed=$((failed + 1))
  fi
  [ $rc -ne 0 ] && sed 's/^/    /' "$log/$name" | tail -40
done
# Under valgrind (make valgrind) the end-to-end suites named in VALGRIND_E2E run with
# every hub and agent process under valgrind (tests/e2e/lib.sh, LK_VALGRIND).
if [ "${VALGRIND:-0}" = 1 ]; then export LK_VALGRIND=1; fi
for t in tests/e2e/*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  if [ "${VALGRIND:-0}" = 1 ]; then
    case " ${VALGRIND_E2E:-sync} " in *" $name "*) ;; *) continue ;; esac
  fi
  case "$name" in lib|*_lib) continue ;; esac  # sourced helpers, not suites
  echo "== e2e/$name"
  sh "$t" >"$log/$name" 2>&1
  rc=$?
  count "$log/$name"
  if [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \] [a-z]' "$log/$name"; then
    echo "  suite $name exited $rc without a failed case: counted as one failure"
    failed=$((failed + 1))
  fi
  [ $rc -ne 0 ] && sed 's/^/    /' "$log/$name" | tail -60
done
rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
