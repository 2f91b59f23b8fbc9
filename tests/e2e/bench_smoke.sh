# tests/e2e/bench_smoke.sh — the benchmarks' smoke run (make bench-smoke: every figure
# of bench/README.md with tiny counts), so CI proves they all still run. It prints one
# cmocka-style line per figure; figures are printed, never judged here.
: "${LK_BIN:=build/asan}"
make -s --no-print-directory B="$LK_BIN" MODE="${MODE:-asan}" bench-smoke
