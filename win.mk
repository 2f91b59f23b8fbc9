# win.mk — the agent for Windows, cross-built on Debian with mingw-w64 (docs/windows.md).
#
# Included by the main Makefile (after PROTO_SRC, AGENT_SRC, WARN and VERSION are set):
#
#   make win            build/win/lienket-agent.exe (and lienket-sync.exe, the same
#                       program without a console window), the Windows unit tests
#                       (build/win/tests/*.exe) and the installer
#                       build/win/lienket-setup-$(VERSION).exe
#   make win-agent      the agent only
#
# The libraries (SQLite, zlib, jansson, libcurl with Schannel, libmicrohttpd, cmocka) come
# from scripts/build-win-deps.sh: Debian's source packages at pinned versions, built once
# into ~/.cache/lienket/mingw-<versions>/ and reused by every clone and CI run.
# Everything is linked statically: the .exe needs only DLLs every Windows 10 has.
#
# The platform seams swap files, never #ifdef the core: *_posix.c and *_openssl.c are
# replaced by *_win.c (agent/plat.h, daemon_posix.h, synclock_posix.h, protocol/lkcrypto.h).

WIN_HOST   := x86_64-w64-mingw32
WIN_CC     := $(WIN_HOST)-gcc
WIN_AR     := $(WIN_HOST)-ar
WIN_B      := build/win
WIN_DEPS    = $(shell scripts/build-win-deps.sh --prefix)
WIN_STAMP  := $(WIN_B)/.deps

WIN_PROTO_SRC := $(filter-out %_openssl.c,$(PROTO_SRC)) $(wildcard protocol/*_win.c)
WIN_AGENT_SRC := $(filter-out %_posix.c,$(AGENT_SRC)) $(wildcard agent/*_win.c)
WIN_PROTO_OBJ := $(WIN_PROTO_SRC:%.c=$(WIN_B)/%.o)
WIN_FIG_OBJ   := $(FIG_SRC:%.c=$(WIN_B)/%.o)
WIN_AGENT_OBJ := $(WIN_AGENT_SRC:%.c=$(WIN_B)/%.o) $(WIN_B)/gen/app_assets.o
WIN_PROTO_LIB := $(WIN_B)/liblienket-protocol.a
WIN_FIG_LIB   := $(WIN_B)/libfigures.a
WIN_AGENT_LIB := $(WIN_B)/libagent.a

# _POSIX_C_SOURCE: mingw-w64's localtime_r, strdup, clock_gettime (winpthreads);
# __USE_MINGW_ANSI_STDIO: its C99 printf (%zu, %lld) instead of msvcrt's.
# -Wno-format: for mingw the `printf` format attribute of our own functions means
# msvcrt's printf (no %zu), though __USE_MINGW_ANSI_STDIO makes them C99; the native
# build checks the same format strings with -Wformat=2.
# Windows 10 is the oldest supported (BCrypt pseudo-handles; docs/windows.md).
WIN_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D__USE_MINGW_ANSI_STDIO=1 -D_WIN32_WINNT=0x0A00 \
        -DLK_VERSION=\"$(VERSION)\" $(WARN) -Wno-format -O2 -g -Iprotocol -Ifigures -I$(WIN_DEPS)/include \
        -DCURL_STATICLIB -DUTF8PROC_STATIC
WIN_LDFLAGS = -static -L$(WIN_DEPS)/lib
# Order: libraries before what they use. Schannel: secur32, crypt32; curl also bcrypt,
# ws2_32 and advapi32; libmicrohttpd ws2_32.
WIN_LDLIBS  := -lcurl -lmicrohttpd -ljansson -lsqlite3 -lutf8proc -lz -lbcrypt -lcrypt32 -lsecur32 \
        -lws2_32 -lshell32 -ladvapi32 -lpthread -lm

# The unit suites run under Wine by tests/e2e/windows.sh: the protocol's (pure C, the
# same cases as on Debian, with its fuzz corpus and allocation failures) and the agent's
# store, journal, sync (with its fake hub), records, commands, office app API, CSV and
# CSV fuzz corpus. tests/unit/win_compat.h gives them the POSIX calls mingw-w64 lacks
# (mkdtemp, setenv, fmemopen, open_memstream, …). Not built for Windows: the hub's
# suites (the hub is Debian's) and test_gen (bench/gen.c uses OpenSSL directly).
WIN_UNIT   := test_entry test_fieldarg test_hlc test_ids test_joincode test_schema test_textnorm \
        test_textsafe test_validate test_wire test_wire_v2 test_wire_alloc test_zio test_fuzz_corpus \
        test_agent_journal test_agent_store test_agent_sync test_agent_records \
        test_agent_commands test_agent_app test_agent_csv test_agent_fuzz_csv
WIN_TEST_CFLAGS = $(WIN_CFLAGS) -include tests/unit/win_compat.h -Itests/unit
WIN_UNIT_BIN := $(WIN_UNIT:%=$(WIN_B)/tests/%.exe)
WIN_INSTALLER := $(WIN_B)/lienket-setup-$(VERSION).exe

.PHONY: win win-agent win-deps
win: win-agent $(WIN_UNIT_BIN) $(WIN_INSTALLER)
win-agent: $(WIN_B)/lienket-agent.exe

# The dependency prefix is a stamp: built (or found in the cache) once per version set.
$(WIN_STAMP): scripts/build-win-deps.sh
	@scripts/deps.sh --check-or-install win
	@scripts/build-win-deps.sh >/dev/null
	@mkdir -p $(dir $@)
	@scripts/build-win-deps.sh --prefix >$@
win-deps: $(WIN_STAMP)

$(WIN_B)/%.o: %.c $(wildcard protocol/*.h figures/*.h agent/*.h agent/*.def) $(WIN_STAMP) win.mk
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

# The office app's page, embedded as for Debian (Makefile: app_assets).
$(WIN_B)/gen/app_assets.c: scripts/embed_assets.sh $(APP_ASSETS) $(B)/gen/app_assets.list
	@mkdir -p $(dir $@)
	sh scripts/embed_assets.sh $(APP_ASSETS) > $@.tmp && mv $@.tmp $@
$(WIN_B)/gen/app_assets.o: $(WIN_B)/gen/app_assets.c agent/app_assets.h $(WIN_STAMP) win.mk
	$(WIN_CC) $(WIN_CFLAGS) -Iagent -c $< -o $@

$(WIN_PROTO_LIB): $(WIN_PROTO_OBJ)
	rm -f $@ && $(WIN_AR) rcs $@ $^
$(WIN_FIG_LIB): $(WIN_FIG_OBJ)
	rm -f $@ && $(WIN_AR) rcs $@ $^
$(WIN_AGENT_LIB): $(WIN_AGENT_OBJ)
	rm -f $@ && $(WIN_AR) rcs $@ $^

$(WIN_B)/lienket-agent.exe: $(WIN_B)/agent/main.o $(WIN_AGENT_LIB) $(WIN_FIG_LIB) $(WIN_PROTO_LIB)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $^ $(WIN_LDLIBS)
# The same program for the windows subsystem: started at logon for the background sync
# (`lienket-sync.exe daemon`), it opens no console window. Same main(): the console entry
# point is kept (-e mainCRTStartup), only the subsystem differs.
$(WIN_B)/lienket-sync.exe: $(WIN_B)/agent/main.o $(WIN_AGENT_LIB) $(WIN_FIG_LIB) $(WIN_PROTO_LIB)
	$(WIN_CC) $(WIN_LDFLAGS) -Wl,--subsystem,windows -Wl,-e,mainCRTStartup -o $@ $^ $(WIN_LDLIBS)

$(WIN_B)/tests/test_agent_%.exe: tests/unit/test_agent_%.c tests/unit/win_compat.h $(WIN_AGENT_LIB) $(WIN_FIG_LIB) $(WIN_PROTO_LIB) $(WIN_STAMP)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_TEST_CFLAGS) -Iagent $(WIN_LDFLAGS) -o $@ $(filter %.c %.a,$^) -lcmocka $(WIN_LDLIBS)
$(WIN_B)/tests/test_%.exe: tests/unit/test_%.c tests/unit/win_compat.h $(WIN_PROTO_LIB) $(WIN_STAMP)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_TEST_CFLAGS) $(WIN_LDFLAGS) -o $@ $(filter %.c %.a,$^) -lcmocka $(WIN_LDLIBS)

# The installer: NSIS from Debian (makensis), per user, no administrator (installer/).
# The shortcuts open the office app (`app`); an agent without that command gets `status`.
WIN_SHORTCUT_ARGS = $(if $(shell grep -s '{ "app",' agent/main.c),app,status)
$(WIN_INSTALLER): installer/lienket.nsi $(WIN_B)/lienket-agent.exe $(WIN_B)/lienket-sync.exe
	makensis -V2 -WX -DVERSION=$(VERSION) -DAGENT=$(abspath $(WIN_B)/lienket-agent.exe) \
		-DSYNC=$(abspath $(WIN_B)/lienket-sync.exe) -DSHORTCUT_ARGS=$(WIN_SHORTCUT_ARGS) \
		-DOUTFILE=$(abspath $@) installer/lienket.nsi
