# Liên Kết — build, test, install.
#
#   make            release build: build/release/{lienket-agent,lienket-hub,liblienket-protocol.a}
#                   (libfigures.a: the thirteen figures, shared by agent and hub)
#   make test       ASan+UBSan build, every suite, last line "N passed, N failed"
#   make valgrind   non-sanitized debug build, unit + end-to-end suites under valgrind
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each (default 60)
#   make lint       cppcheck + clang-tidy
#   make install    PREFIX=/usr/local DESTDIR=
#   make win        the agent for Windows, its unit tests and installer (win.mk)
#
# Dependencies come from pkg-config; scripts/deps.sh installs them on Debian 12.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PKGS     := sqlite3 libcurl zlib jansson libmicrohttpd libcrypto libutf8proc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
# The hub alone draws QR codes (enroll --csv sheets), hashes viewer passwords (argon2id)
# writes spreadsheets (.xlsx) and speaks to PostgreSQL (libpq, store_pg*.c): the agent
# does not link them.
HUB_PKGS := libqrencode libargon2 xlsxwriter libpq
HUB_CFLAGS := $(shell pkg-config --cflags $(HUB_PKGS) 2>/dev/null)
HUB_LIBS := $(shell pkg-config --libs $(HUB_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wno-format-nonliteral
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -DLK_VERSION=\"$(VERSION)\" $(WARN) -Iprotocol -Ifigures $(PKG_CFLAGS)

MODE ?= release
ifeq ($(MODE),release)
  MODE_CFLAGS := -O2 -g
else ifeq ($(MODE),asan)
  MODE_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(MODE),debug)
  MODE_CFLAGS := -O0 -g
endif
CFLAGS  := $(BASE_CFLAGS) $(MODE_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(MODE_LDFLAGS) $(EXTRA_LDFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -lpthread

B ?= build/$(MODE)

# *_win.c are the Windows implementations of the platform seams (win.mk, `make win`).
PROTO_SRC := $(filter-out %_win.c,$(wildcard protocol/*.c))
FIG_SRC   := $(wildcard figures/*.c)
# hub/: main.c and one folder per wing (http, access, merge, units, views, store);
# docs/ARCHITECTURE.md draws them. Hub files include each other's headers by name.
HUB_DIRS  := $(sort $(dir $(wildcard hub/*/*.c hub/*/*.h)))
HUB_INC   := -Ihub $(addprefix -I,$(HUB_DIRS:%/=%))
HUB_SRC   := $(wildcard hub/*/*.c)
# store_open.c (the back-end factory) calls the PostgreSQL back end when it is built.
ifneq ($(wildcard hub/store/store_pg.c),)
HUB_CFLAGS += -DLK_STORE_PG
endif
AGENT_SRC := $(filter-out agent/main.c %_win.c,$(wildcard agent/*.c))
PROTO_OBJ := $(PROTO_SRC:%.c=$(B)/%.o)
FIG_OBJ   := $(FIG_SRC:%.c=$(B)/%.o)
HUB_OBJ   := $(HUB_SRC:%.c=$(B)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(B)/%.o)
# The office app's page (agent/app/, app_assets.h) is compiled into the agent.
APP_ASSETS := $(sort $(wildcard agent/app/*.html agent/app/*.js agent/app/*.css agent/app/*.svg))
AGENT_OBJ += $(B)/gen/app_assets.o
PROTO_LIB := $(B)/liblienket-protocol.a
FIG_LIB   := $(B)/libfigures.a
HUB_LIB   := $(B)/libhub.a
AGENT_LIB := $(B)/libagent.a

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)

.PHONY: deb test-deb all test unit e2e valgrind fuzz fuzz-smoke lint install clean bench bench-smoke demo soak protocol hub agent
all: $(B)/lienket-agent $(B)/lienket-hub $(PROTO_LIB)

protocol: $(PROTO_LIB)
hub: $(B)/lienket-hub
agent: $(B)/lienket-agent

$(B)/%.o: %.c $(wildcard protocol/*.h figures/*.h hub/*/*.h agent/*.h agent/*.def)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
$(B)/hub/%.o: CFLAGS += $(HUB_INC) $(HUB_CFLAGS)

# The list of page files, rewritten only when it changes, so removing a file rebuilds too.
$(B)/gen/app_assets.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(APP_ASSETS)' | cmp -s - $@ || echo '$(APP_ASSETS)' > $@
$(B)/gen/app_assets.c: scripts/embed_assets.sh $(APP_ASSETS) $(B)/gen/app_assets.list
	sh scripts/embed_assets.sh $(APP_ASSETS) > $@.tmp && mv $@.tmp $@
$(B)/gen/app_assets.o: $(B)/gen/app_assets.c agent/app_assets.h
	$(CC) $(CFLAGS) -Iagent -c $< -o $@
.PHONY: FORCE
FORCE:

# Each archive is made afresh (rm first): `ar rcs` on an existing one would keep the
# members of files since moved or removed (hub/unittree.o after it moved to figures/),
# and the programs would link those stale copies.
$(PROTO_LIB): $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^
$(FIG_LIB): $(FIG_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^
$(HUB_LIB): $(HUB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^
$(AGENT_LIB): $(AGENT_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(B)/lienket-hub: $(B)/hub/main.o $(HUB_LIB) $(FIG_LIB) $(PROTO_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(HUB_LIBS) $(LDLIBS)
$(B)/lienket-agent: $(B)/agent/main.o $(AGENT_LIB) $(FIG_LIB) $(PROTO_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: test_hub_* link the hub library, test_agent_* the agent library (each
# with the figures library).
$(B)/tests/test_hub_%: tests/unit/test_hub_%.c $(HUB_LIB) $(FIG_LIB) $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HUB_INC) $(HUB_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(HUB_LIBS) $(LDLIBS)
$(B)/tests/test_agent_%: tests/unit/test_agent_%.c $(AGENT_LIB) $(FIG_LIB) $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iagent -Itests/unit $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)
# test_figures_*: the figures seen from both programs (hub, agent and figures libraries).
$(B)/tests/test_figures_%: tests/unit/test_figures_%.c $(HUB_LIB) $(AGENT_LIB) $(FIG_LIB) $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HUB_INC) -Iagent -Itests/unit $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(HUB_LIBS) $(LDLIBS)
$(B)/tests/test_%: tests/unit/test_%.c $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)
$(B)/tools/%: tests/tools/%.c $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test:
	@scripts/deps.sh --check-or-install test
	@$(MAKE) --no-print-directory MODE=asan all-tests
	@$(MAKE) --no-print-directory win
	@MODE=asan BUILD=build/asan scripts/run-tests.sh

# The programs of protocol 1 (before change-set shape 2, PROTOCOL.md §6.2a), built from
# the last commit that had it, for tests/e2e/compat.sh: an old hub against a new agent,
# an old agent against a new hub. Built once per build directory (release mode).
COMPAT_COMMIT := e392f9f8a6ea87998299bc67dbdf159cf10ae132
COMPAT_BIN := $(B)/compat/lienket-hub-p1

# lienket-gen too: tests/e2e/setup.sh runs scripts/demo.sh on these binaries.
all-tests: all $(UNIT_BIN) $(TOOL_BIN) $(B)/lienket-gen $(COMPAT_BIN)

$(COMPAT_BIN):
	@rm -rf $(B)/compat && mkdir -p $(B)/compat/src
	git archive $(COMPAT_COMMIT) | tar -x -C $(B)/compat/src
	$(MAKE) --no-print-directory -C $(B)/compat/src MODE=release B=build build/lienket-hub build/lienket-agent
	cp $(B)/compat/src/build/lienket-agent $(B)/compat/lienket-agent-p1
	cp $(B)/compat/src/build/lienket-hub $(B)/compat/lienket-hub-p1
	rm -rf $(B)/compat/src

valgrind:
	@scripts/deps.sh --check-or-install valgrind
	@$(MAKE) --no-print-directory MODE=debug all-tests
	@VALGRIND=1 BUILD=build/debug scripts/run-tests.sh

FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh
fuzz-smoke:
	@FUZZ_SECONDS=5 scripts/fuzz.sh

lint:
	@scripts/deps.sh --check-or-install lint
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem --inline-suppr -Iprotocol -Ifigures protocol figures hub agent
	clang-tidy --quiet $(PROTO_SRC) $(FIG_SRC) $(HUB_SRC) hub/main.c $(AGENT_SRC) agent/main.c -- $(BASE_CFLAGS) $(HUB_INC) $(HUB_CFLAGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/lienket
	install -m 0755 $(B)/lienket-agent $(B)/lienket-hub $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(PROTO_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 protocol/*.h $(DESTDIR)$(PREFIX)/include/lienket/

clean:
	rm -rf build

# Debian packages lienket-hub and lienket-agent (debian/, debhelper) into build/deb/,
# checked with lintian (scripts/deb.sh). test-deb installs them in a fresh minimal
# Debian 12, upgrades from the previous commit's packages, removes and purges
# (tests/deb/install.sh; the debootstrap tree is cached in ~/.cache/lienket).
deb:
	@scripts/deps.sh --check-or-install deb
	@scripts/deb.sh build/deb
test-deb:
	@scripts/deps.sh --check-or-install deb
	@scripts/deb.sh build/deb
	@sh tests/deb/install.sh build/deb

include bench/gen.mk
include win.mk
include bench/bench.mk

soak:
	@$(MAKE) --no-print-directory MODE=asan all-tests
	@LK_BIN=build/asan SOAK_ITERATIONS=$${SOAK_ITERATIONS:-500} sh scripts/soak.sh
	@LK_BIN=build/asan sh scripts/soak-merge.sh

# The main job: a province on loopback (scripts/demo.sh, docs/demo.md).
demo:
	@sh scripts/demo.sh
