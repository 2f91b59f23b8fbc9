# bench/gen.mk — lienket-gen, the deterministic province generator (bench/README-gen.md).
#
# Included by the main Makefile (after B, CC, CFLAGS, LDFLAGS, LDLIBS and PROTO_LIB are set):
#     include bench/gen.mk
#
#   make gen          build $(B)/lienket-gen
#   make gen-check    generate the province twice with one seed, require byte-identical
#                     output, and recompute the article's headline figures from the CSV
#                     files with bench/check-gen.sh
#
# GEN_UNITS is the unit tree to generate from; GEN_SEED the seed; GEN_OUT where gen-check
# writes (it is removed first).

GEN_BIN   := $(B)/lienket-gen
GEN_UNITS ?= ../shared/domain/units/binh-thuan-before-2025-07.csv
GEN_SEED  ?= 1
GEN_YEAR  ?= 2021
GEN_OUT   ?= $(B)/gen-province

.PHONY: gen gen-check

gen: $(GEN_BIN)

$(GEN_BIN): bench/gen.c protocol/schema.h $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ bench/gen.c $(PROTO_LIB) $(LDLIBS)

gen-check: $(GEN_BIN)
	rm -rf $(GEN_OUT) $(GEN_OUT).again
	$(GEN_BIN) province --units $(GEN_UNITS) --seed $(GEN_SEED) --year $(GEN_YEAR) --out $(GEN_OUT)
	$(GEN_BIN) province --units $(GEN_UNITS) --seed $(GEN_SEED) --year $(GEN_YEAR) --out $(GEN_OUT).again
	diff -r $(GEN_OUT) $(GEN_OUT).again
	rm -rf $(GEN_OUT).again
	bench/check-gen.sh $(GEN_OUT) $(GEN_YEAR)
