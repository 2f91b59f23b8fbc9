# tests/e2e/fuzz_smoke.sh — a short smoke of every libFuzzer target (make fuzz runs
# them 60 s each): builds them with clang and runs each for FUZZ_SMOKE_SECONDS (3).
# One case per target: it fails on any finding or when the targets cannot be built.
. tests/e2e/lib.sh
secs=${FUZZ_SMOKE_SECONDS:-3}
if ! FUZZ_SECONDS=$secs sh scripts/fuzz.sh >"$E2E_DIR/fuzz.log" 2>&1; then
	tail -30 "$E2E_DIR/fuzz.log"
fi
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	if grep -q "^== $name:" "$E2E_DIR/fuzz.log" && ! grep -q "fuzz: $name found a problem" "$E2E_DIR/fuzz.log" \
		&& grep -q "fuzz: no findings" "$E2E_DIR/fuzz.log"; then
		ok "fuzz_smoke__${name}_runs_${secs}s_without_finding"
	else
		fail "fuzz_smoke__${name}_runs_${secs}s_without_finding" "see build/fuzz/$name.log"
	fi
done
e2e_finish
