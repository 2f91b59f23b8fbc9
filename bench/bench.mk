# bench/bench.mk — `make bench` and `make bench-smoke` (issue 8; bench/README.md).
#
# Included by the main Makefile after bench/gen.mk (B, CC, CFLAGS, LDFLAGS, LDLIBS,
# PROTO_LIB, FIG_LIB, HUB_LIB and GEN_BIN set):
#     include bench/bench.mk
#
#   make bench         every figure with its baseline and ratio (release build under
#                      $(B), build/release by default; ~8 minutes on a 2-core machine,
#                      ~12 the first time)
#   make bench-smoke   the same with tiny counts: one cmocka-style line per figure
#                      ("[       OK ] bench_smoke__…"), under a minute; exits non-zero
#                      when a figure failed to run
#
# BENCH_DIR is the scratch directory (removed first; BENCH_KEEP=1 keeps it afterwards);
# BENCH_CACHE keeps the pre-loaded ten-million-row hub between runs (`make bench`
# builds it once, in about 4 minutes; 7 GB). Another build directory keeps a bench
# away from a test build: make B=build/bench bench.

BENCH_BIN   := $(B)/lienket-bench
BENCH_REPLAY := $(B)/lienket-bench-replay
BENCH_DIR   ?= $(B)/bench-run
BENCH_CACHE ?= $(B)/bench-cache

.PHONY: bench bench-smoke bench-tools

$(BENCH_BIN): bench/bench_merge.c $(HUB_LIB) $(FIG_LIB) $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK $(HUB_INC) $(HUB_CFLAGS) $(LDFLAGS) \
	  -o $@ bench/bench_merge.c $(HUB_LIB) $(FIG_LIB) $(PROTO_LIB) $(HUB_LIBS) $(LDLIBS)

bench-tools: $(B)/lienket-hub $(B)/lienket-agent $(B)/lienket-gen $(B)/tools/faultproxy $(BENCH_BIN) $(BENCH_REPLAY)

bench: bench-tools
	@LK_BIN=$(B) BENCH_DIR=$(BENCH_DIR) BENCH_CACHE=$(BENCH_CACHE) sh bench/run.sh full

bench-smoke: bench-tools
	@LK_BIN=$(B) BENCH_DIR=$(BENCH_DIR)-smoke BENCH_CACHE=$(BENCH_CACHE)-smoke sh bench/run.sh smoke

$(BENCH_REPLAY): bench/bench_replay.c $(AGENT_LIB) $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iagent $(LDFLAGS) -o $@ bench/bench_replay.c $(AGENT_LIB) $(PROTO_LIB) $(LDLIBS)
