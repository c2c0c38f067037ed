# mailvault — one non-recursive Makefile.
#
#   make          build ./mailvault
#   make test     build and run every test (unit, then integration)
#   make asan     the whole suite under AddressSanitizer + UBSan
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS
#   make bench    benchmarks against Dovecot, printed as ratios
#   make run      a demo store with tests/corpus/, then serve it
#   make depcheck fail on an include that points the wrong way
#   make deb      a Debian package under build/deb (dpkg-buildpackage)
#   make deb-check  make deb, lintian, the package unpacked into a scratch
#                 root and its mailvault run from there (CI runs it)
#
# The Debian packages it needs are installed on first use when run as
# root (scripts/deps.sh); otherwise it says which apt-get line to run.

# Packages needed to build, to test, and to fuzz and benchmark. Cyrus IMAP
# conflicts with dovecot-imapd, so it is not among them: tests/lib/cyrus.py
# downloads and unpacks it into build/cyrus on first use; the libraries
# and SASL tools it needs are here.
BUILD_PKGS = gcc make pkg-config libsqlite3-dev libsodium-dev libssl-dev \
	     libzstd-dev
TEST_PKGS  = check python3 openssl procps curl dovecot-imapd dovecot-pop3d \
	     isync fetchmail sasl2-bin libsasl2-modules libical3 libxapian30
EXTRA_PKGS = clang libclang-rt-14-dev cppcheck

PKGS_LIBS = sqlite3 libsodium openssl libzstd

CC      ?= cc
WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
OPT     ?= -O2 -g
BASE_CPPFLAGS = -I. -D_GNU_SOURCE
BASE_CFLAGS   = -std=c11 $(WARN) $(OPT) -fno-strict-aliasing -MMD -MP

B        = build
BIN      = mailvault
STAMP    = $(B)/.deps-ok

LIB_SRC    = $(wildcard lib/*.c)
STORE_SRC  = $(wildcard store/*.c)
SERVER_SRC = $(wildcard server/*.c server/*/*.c)
SYNC_SRC   = $(wildcard sync/*.c)
DAEMON_SRC = $(wildcard daemon/*.c)
CLI_SRC    = $(wildcard cli/*.c)
CORE_SRC   = $(LIB_SRC) $(STORE_SRC) $(SERVER_SRC) $(SYNC_SRC) \
	     $(DAEMON_SRC) $(filter-out cli/main.c,$(CLI_SRC))
GEN_SRC    = $(B)/gen/schema.c
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all test unit integration asan fuzz bench run depcheck clean deps \
	install uninstall cppcheck deb deb-check

all: $(BIN)

# The version: debian/changelog's first line is its one source.
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)

# NO_DEPS=1: someone else checked the packages (dpkg-buildpackage).
ifeq ($(NO_DEPS),1)
DEPS_SH = :
else
DEPS_SH = scripts/deps.sh
endif

deps: $(STAMP)
# (again when the Makefile changes: its package lists may have grown)
$(STAMP): scripts/deps.sh Makefile
	@$(DEPS_SH) $(BUILD_PKGS) $(TEST_PKGS)
	@mkdir -p $(B) && touch $@

# pkg-config is asked only once the packages are there: config.mk is made
# after the deps stamp, and GNU make restarts after making an included file.
$(B)/config.mk: $(STAMP) Makefile
	@{ echo "PKG_CFLAGS = $$(pkg-config --cflags $(PKGS_LIBS))"; \
	   echo "PKG_LIBS = $$(pkg-config --libs $(PKGS_LIBS))"; \
	   echo "CHECK_LIBS = $$(pkg-config --libs check)"; } > $@.tmp && mv $@.tmp $@
ifeq ($(filter clean,$(MAKECMDGOALS)),)
include $(B)/config.mk
endif
LDLIBS    += $(PKG_LIBS) -lpthread -lm

ALL_CPPFLAGS = $(BASE_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(BASE_CFLAGS) $(CFLAGS)

# ---- the normal build (objects under build/obj) -------------------------

OBJ      = $(B)/obj
CORE_OBJ = $(patsubst %.c,$(OBJ)/%.o,$(CORE_SRC)) $(OBJ)/gen/schema.o
LIB_OBJ  = $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRC))
STORE_OBJ = $(patsubst %.c,$(OBJ)/%.o,$(STORE_SRC)) $(OBJ)/gen/schema.o
SERVER_OBJ = $(patsubst %.c,$(OBJ)/%.o,$(SERVER_SRC))
SYNC_OBJ = $(patsubst %.c,$(OBJ)/%.o,$(SYNC_SRC))
DAEMON_OBJ = $(patsubst %.c,$(OBJ)/%.o,$(DAEMON_SRC))

$(B)/gen/schema.c: schema.sql scripts/schema2c.sh
	@mkdir -p $(@D)
	scripts/schema2c.sh schema.sql > $@

$(OBJ)/gen/schema.o: $(B)/gen/schema.c | $(STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(OBJ)/%.o: %.c | $(STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# `mailvault --version`
$(OBJ)/cli/main.o $(B)/asan/cli/main.o: debian/changelog
$(OBJ)/cli/main.o $(B)/asan/cli/main.o: ALL_CPPFLAGS += \
	-DMAILVAULT_VERSION='"$(VERSION)"'

$(BIN): $(CORE_OBJ) $(OBJ)/cli/main.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links only its module and what that module depends on, so
# the link line enforces the dependency map: test_store* gets store/ and
# lib/, test_server* and test_sync* add their module, test_daemon* gets
# daemon/ with all it stands on, the rest get lib/. The sync engine's
# scripted fake upstream is test code: it is linked into the test_sync*
# binaries only, never into mailvault.
UNIT_BIN = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
TLINK = $(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)
SYNC_FAKE = tests/unit/sync_fake.o
# Named as a prerequisite here, so make takes the test_sync% rules below
# (a pattern rule's other files must be known ones) and keeps the object.
.SECONDARY: $(OBJ)/$(SYNC_FAKE) $(B)/asan/$(SYNC_FAKE)

$(B)/tests/test_store%: $(OBJ)/tests/unit/test_store%.o $(STORE_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(TLINK)
$(B)/tests/test_server%: $(OBJ)/tests/unit/test_server%.o $(SERVER_OBJ) $(STORE_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(TLINK)
$(B)/tests/test_sync%: $(OBJ)/tests/unit/test_sync%.o $(OBJ)/$(SYNC_FAKE) \
		$(SYNC_OBJ) $(STORE_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(TLINK)
$(B)/tests/test_daemon%: $(OBJ)/tests/unit/test_daemon%.o $(DAEMON_OBJ) \
	    $(SERVER_OBJ) $(SYNC_OBJ) $(STORE_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(TLINK)
$(B)/tests/test_%: $(OBJ)/tests/unit/test_%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	$(TLINK)

# ---- tests ---------------------------------------------------------------

# The include rules first (make depcheck), then the unit suites, then
# integration: one after the other even under -j, so the output reads in
# order and ends with the summary lines.
test: $(UNIT_BIN) $(BIN)
	@scripts/depcheck.sh
	@scripts/run-unit.sh $(UNIT_BIN)
	@MAILVAULT=$(abspath $(BIN)) tests/integration/run.sh

unit: $(UNIT_BIN) $(BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

integration: $(BIN)
	@MAILVAULT=$(abspath $(BIN)) tests/integration/run.sh

# ---- sanitizers (objects under build/asan) --------------------------------

SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
ASAN     = $(B)/asan
ASAN_OBJ = $(patsubst %.c,$(ASAN)/%.o,$(CORE_SRC)) $(ASAN)/gen/schema.o
ASAN_UNIT_BIN = $(patsubst tests/unit/%.c,$(ASAN)/tests/%,$(UNIT_SRC))

$(ASAN)/gen/schema.o: $(B)/gen/schema.c | $(STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

$(ASAN)/%.o: %.c | $(STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

$(ASAN)/mailvault: $(ASAN_OBJ) $(ASAN)/cli/main.o
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ASAN_TLINK = $(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ \
	     $(CHECK_LIBS) $(LDLIBS)

$(ASAN)/tests/test_sync%: $(ASAN)/tests/unit/test_sync%.o \
		$(ASAN)/$(SYNC_FAKE) $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(ASAN_TLINK)
$(ASAN)/tests/%: $(ASAN)/tests/unit/%.o $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(ASAN_TLINK)

asan: $(ASAN)/mailvault $(ASAN_UNIT_BIN)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 scripts/run-unit.sh $(ASAN_UNIT_BIN)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 MAILVAULT=$(CURDIR)/$(ASAN)/mailvault MAILVAULT_SANITIZED=1 \
	 tests/integration/run.sh

# ---- fuzzing (clang, libFuzzer) -------------------------------------------

FUZZ_SECONDS ?= 30
FUZZ     = $(B)/fuzz
FUZZ_LIB = $(patsubst %.c,$(FUZZ)/%.o,$(LIB_SRC))
FUZZ_BIN = $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(FUZZ_SRC))
FUZZ_CFLAGS = -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined

$(FUZZ)/.deps-ok: scripts/deps.sh
	@scripts/deps.sh clang libclang-rt-14-dev
	@mkdir -p $(@D) && touch $@

$(FUZZ)/%.o: %.c | $(STAMP) $(FUZZ)/.deps-ok
	@mkdir -p $(@D)
	clang $(BASE_CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

# Targets for server/ parsers link the server and the store too.
FUZZ_SRV = $(patsubst %.c,$(FUZZ)/%.o,$(SERVER_SRC) $(STORE_SRC)) \
	   $(FUZZ)/gen/schema.o

$(FUZZ)/gen/schema.o: $(B)/gen/schema.c | $(FUZZ)/.deps-ok
	@mkdir -p $(@D)
	clang $(BASE_CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

# Static pattern rules: each target list is explicit, so make never has to
# guess between the two recipes.
FUZZ_SRV_BIN = $(filter $(FUZZ)/fuzz_server_%,$(FUZZ_BIN))
FUZZ_LIB_BIN = $(filter-out $(FUZZ_SRV_BIN),$(FUZZ_BIN))

$(FUZZ_SRV_BIN): $(FUZZ)/%: tests/fuzz/%.c $(FUZZ_SRV) $(FUZZ_LIB) | $(FUZZ)/.deps-ok
	clang $(BASE_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_LIB_BIN): $(FUZZ)/%: tests/fuzz/%.c $(FUZZ_LIB) | $(FUZZ)/.deps-ok
	clang $(BASE_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		n=$$(basename $$f); mkdir -p $(FUZZ)/corpus-$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		    $(FUZZ)/corpus-$$n tests/corpus >$(FUZZ)/$$n.log 2>&1 || \
		    { tail -n 40 $(FUZZ)/$$n.log; exit 1; }; \
		tail -n 1 $(FUZZ)/$$n.log; \
	done

# ---- benchmarks, demo, checks -----------------------------------------------

bench: mailvault
	@scripts/deps.sh $(EXTRA_PKGS)
	@MAILVAULT=$(CURDIR)/mailvault bench/run.sh

run: mailvault
	@MAILVAULT=$(CURDIR)/mailvault scripts/demo.sh

depcheck:
	@scripts/depcheck.sh

cppcheck:
	@scripts/deps.sh cppcheck
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c11 -I. -D_GNU_SOURCE lib store server sync daemon cli \
	    $(SYNC_FAKE:.o=.c)

# ---- installation -----------------------------------------------------------

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
UNITDIR  = $(PREFIX)/lib/systemd/user
PLISTDIR = $(PREFIX)/share/mailvault
COMPDIR  = $(PREFIX)/share/bash-completion/completions

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PLISTDIR) $(DESTDIR)$(COMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/mailvault
	install -m 644 cli/mailvault.1 $(DESTDIR)$(MANDIR)/man1/mailvault.1
	install -m 644 cli/completion.bash $(DESTDIR)$(COMPDIR)/mailvault
	sed 's|@BINDIR@|$(BINDIR)|g' daemon/mailvault.service.in > \
	    $(DESTDIR)$(UNITDIR)/mailvault.service
	sed 's|@BINDIR@|$(BINDIR)|g' daemon/org.mailvault.mailvault.plist.in > \
	    $(DESTDIR)$(PLISTDIR)/org.mailvault.mailvault.plist
	chmod 644 $(DESTDIR)$(UNITDIR)/mailvault.service \
	    $(DESTDIR)$(PLISTDIR)/org.mailvault.mailvault.plist

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailvault \
	    $(DESTDIR)$(MANDIR)/man1/mailvault.1 \
	    $(DESTDIR)$(COMPDIR)/mailvault \
	    $(DESTDIR)$(UNITDIR)/mailvault.service \
	    $(DESTDIR)$(PLISTDIR)/org.mailvault.mailvault.plist
	-rmdir $(DESTDIR)$(PLISTDIR) 2>/dev/null

# ---- the Debian package -------------------------------------------------------

# The tracked files (git ls-files, as they are now) are copied to
# build/deb/src and built there, so dpkg-buildpackage's files land in
# build/deb, not beside the checkout, and nothing of a local build gets
# into the package.
DEB      = $(B)/deb
DEB_PKGS = dpkg-dev debhelper fakeroot lintian

deb:
	@scripts/deps.sh $(DEB_PKGS) $(BUILD_PKGS)
	rm -rf $(DEB) && mkdir -p $(DEB)/src
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(DEB)/src
	cd $(DEB)/src && DEB_BUILD_OPTIONS="parallel=$$(nproc) $${DEB_BUILD_OPTIONS:-}" \
	    dpkg-buildpackage -us -uc -b
	@ls $(DEB)/*.deb

deb-check: deb
	scripts/deb-check.sh $(DEB)

clean:
	rm -rf $(B) mailvault

# (build/cyrus holds an unpacked Cyrus, whose etc/init.d is no make file)
-include $(shell find $(B) -path $(B)/cyrus -prune -o -name '*.d' -type f \
	    -print 2>/dev/null)
