# mtls - mutual TLS tools.  Plain make; see README.md.

VERSION    = 0.1.0
PREFIX     = /usr/local
BINDIR     = $(PREFIX)/bin
MANPREFIX  = $(PREFIX)/share/man
DATADIR    = $(PREFIX)/share/mtls
# systemd looks in /usr/local/lib/systemd/system too; Debian 12's
# package uses /lib/systemd/system.
SYSTEMDUNITDIR = $(PREFIX)/lib/systemd/system
STRIP      = strip
DESTDIR    =
PKG_CONFIG = pkg-config
CC        ?= cc
CFLAGS    ?= -O2 -g
KEYTYPE    = ecdsa
# make certs: where, and the names in the certificates.
CERTS      = certs
SERVER_NAMES = localhost 127.0.0.1 ::1
CLIENT_NAME = mtls-client
FORCE      = 0
PROVE      = prove
# SANITIZE=1 builds with AddressSanitizer and UBSan into build-san/.
SANITIZE   =

# FUZZ=1 (used by `make fuzz`) builds libFuzzer targets with clang into
# build-fuzz/; otherwise the fuzz targets get a replay driver instead.
FUZZ       =
FUZZ_SECONDS = 30
FUZZ_TARGETS = certinfo addr allow proxyhdr keymsg

ifeq ($(FUZZ),1)
B          = build-fuzz
SANFLAGS   = -fsanitize=fuzzer-no-link,address,undefined \
             -fno-omit-frame-pointer
FUZZ_LINK  = -fsanitize=fuzzer
FUZZ_DRIVER =
else ifeq ($(SANITIZE),1)
B          = build-san
# MTLS_SANITIZE: the sandbox lets the sanitizers' runtime make its calls.
SANFLAGS   = -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined -DMTLS_SANITIZE
FUZZ_LINK  =
FUZZ_DRIVER = $(B)/obj/t/fuzz/replay.o
else
B          = build
SANFLAGS   =
FUZZ_LINK  =
FUZZ_DRIVER = $(B)/obj/t/fuzz/replay.o
endif

PKGS       = gnutls libtasn1
# mtls-serve's alone: its connections' seccomp sandbox.
SERVE_PKGS = libseccomp

# What the goals need, checked before anything is built: a missing
# library or tool is one line naming the apt-get command that installs it
# (mk/deps holds the one list of packages), never a cascade of errors.
# `make deps` installs them (as root); DEPS_GROUPS says which.
DEPS_GROUPS = build certs check
DEPS_NEED  = build
ifneq ($(filter certs demo client-cert,$(MAKECMDGOALS)),)
DEPS_NEED += certs
endif
ifneq ($(filter check bench,$(MAKECMDGOALS)),)
DEPS_NEED += certs check
endif
ifneq ($(filter fuzz,$(MAKECMDGOALS)),)
DEPS_NEED += fuzz
endif
ifneq ($(filter deb,$(MAKECMDGOALS)),)
DEPS_NEED += deb
endif
ifeq ($(filter deps clean uninstall lint-man,$(MAKECMDGOALS)),)
DEPS_MISSING := $(shell PKG_CONFIG='$(PKG_CONFIG)' sh mk/deps check \
             $(sort $(DEPS_NEED)) 2>&1)
ifneq ($(DEPS_MISSING),)
$(error $(DEPS_MISSING))
endif
endif
MTLS_CPPFLAGS = -D_GNU_SOURCE -DMTLS_VERSION='"$(VERSION)"' -Icommon \
             $(shell $(PKG_CONFIG) --cflags $(PKGS) $(SERVE_PKGS)) $(CPPFLAGS)
MTLS_CFLAGS = -std=c11 -Wall -Wextra -Wformat-security -Wshadow \
             $(SANFLAGS) $(CFLAGS)
# -z now: every symbol bound once in the parent, not again in each child.
MTLS_LDFLAGS = -Wl,-z,now -Wl,-z,relro $(SANFLAGS) $(LDFLAGS)
MTLS_LIBS  = $(shell $(PKG_CONFIG) --libs $(PKGS)) $(LIBS)
SERVE_LIBS = $(shell $(PKG_CONFIG) --libs $(SERVE_PKGS))

COMMON_SRC = common/addr.c common/keymsg.c common/tlskey.c common/tlskeyd.c common/proxyhdr.c common/cli.c common/connect.c common/credpath.c common/diag.c common/fileio.c common/logline.c \
             common/tlsx509.c common/pump.c common/timefmt.c common/tlsconf.c \
             common/tlssess.c common/tlsverify.c common/tlsenv.c common/child.c \
             common/textesc.c
SERVE_SRC  = mtls-serve/main.c mtls-serve/conn.c mtls-serve/echo.c \
             mtls-serve/listen.c mtls-serve/server.c mtls-serve/allow.c \
             mtls-serve/privdrop.c mtls-serve/exec.c mtls-serve/proxyin.c \
             mtls-serve/slots.c mtls-serve/sandbox.c
SEND_SRC   = mtls-send/main.c mtls-send/explain.c mtls-send/resume.c
# mtls-certinfo's GnuTLS work lives behind common/tls*, but only it links it.
CERTINFO_SRC = mtls-certinfo/main.c mtls-certinfo/asn1dump.c \
             mtls-certinfo/json.c mtls-certinfo/probe.c mtls-certinfo/show.c \
             common/tlschain.c common/tlsfacts.c common/tlsload.c

COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/obj/%.o)
SERVE_OBJ  = $(SERVE_SRC:%.c=$(B)/obj/%.o)
SEND_OBJ   = $(SEND_SRC:%.c=$(B)/obj/%.o)
CERTINFO_OBJ = $(CERTINFO_SRC:%.c=$(B)/obj/%.o)
CERTINFO_LIB = $(filter-out %/main.o,$(CERTINFO_OBJ))
FUZZ_BINS  = $(FUZZ_TARGETS:%=$(B)/fuzz-%)

PROGS      = $(B)/mtls-serve $(B)/mtls-send $(B)/mtls-certinfo
MANS       = man/mtls-serve.1 man/mtls-send.1 man/mtls-certinfo.1
# systemd units; make install fills in the programs' installed path.
UNITS      = mtls-serve.service mtls-serve-inetd.socket \
             mtls-serve-inetd@.service
# mkpki and its templates, for making certificates once installed.
PKI_FILES  = certs/mkpki certs/ca.tmpl certs/server.tmpl certs/client.tmpl

.PHONY: all check install install-strip uninstall clean certs client-cert \
        demo deps deb bench fuzz fuzz-build lint-man

all: $(PROGS)

$(B)/mtls-serve: $(SERVE_OBJ) $(COMMON_OBJ)
	$(CC) $(MTLS_LDFLAGS) -o $@ $(SERVE_OBJ) $(COMMON_OBJ) $(MTLS_LIBS) \
	    $(SERVE_LIBS)

# The tests' own mtls-serve, never installed: its sandbox makes the call
# MTLS_TEST_SANDBOX_CALL names, to show that the filter kills
# (t/53-serve-sandbox.t).  Only sandbox.o differs.
HOOKS_OBJ  = $(filter-out %/sandbox.o,$(SERVE_OBJ)) \
             $(B)/obj-hooks/mtls-serve/sandbox.o
$(B)/mtls-serve-hooks: $(HOOKS_OBJ) $(COMMON_OBJ)
	$(CC) $(MTLS_LDFLAGS) -o $@ $(HOOKS_OBJ) $(COMMON_OBJ) $(MTLS_LIBS) \
	    $(SERVE_LIBS)

$(B)/obj-hooks/%.o: %.c common/*.h mtls-serve/*.h
	@mkdir -p $(dir $@)
	$(CC) $(MTLS_CPPFLAGS) -DMTLS_TEST_HOOKS $(MTLS_CFLAGS) -c -o $@ $<

$(B)/mtls-send: $(SEND_OBJ) $(COMMON_OBJ)
	$(CC) $(MTLS_LDFLAGS) -o $@ $(SEND_OBJ) $(COMMON_OBJ) $(MTLS_LIBS)

$(B)/mtls-certinfo: $(CERTINFO_OBJ) $(COMMON_OBJ)
	$(CC) $(MTLS_LDFLAGS) -o $@ $(CERTINFO_OBJ) $(COMMON_OBJ) $(MTLS_LIBS)

$(B)/fuzz-certinfo: $(B)/obj/t/fuzz/fuzz_certinfo.o $(CERTINFO_LIB) \
        $(COMMON_OBJ) $(FUZZ_DRIVER)
	$(CC) $(MTLS_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(MTLS_LIBS)

$(B)/fuzz-addr: $(B)/obj/t/fuzz/fuzz_addr.o $(COMMON_OBJ) $(FUZZ_DRIVER)
	$(CC) $(MTLS_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(MTLS_LIBS)

$(B)/fuzz-proxyhdr: $(B)/obj/t/fuzz/fuzz_proxyhdr.o $(COMMON_OBJ) \
        $(FUZZ_DRIVER)
	$(CC) $(MTLS_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(MTLS_LIBS)

$(B)/fuzz-allow: $(B)/obj/t/fuzz/fuzz_allow.o $(B)/obj/mtls-serve/allow.o \
        $(COMMON_OBJ) $(FUZZ_DRIVER)
	$(CC) $(MTLS_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(MTLS_LIBS)

$(B)/fuzz-keymsg: $(B)/obj/t/fuzz/fuzz_keymsg.o $(COMMON_OBJ) $(FUZZ_DRIVER)
	$(CC) $(MTLS_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(MTLS_LIBS)

# bench/ only, never installed: mtls-serve without its key process (the
# key in every connection's process, as before), to measure what the
# key process costs.
$(B)/mtls-serve-keyinproc: $(B)/obj/mtls-serve/main-keyinproc.o \
        $(filter-out %/main.o,$(SERVE_OBJ)) $(COMMON_OBJ)
	$(CC) $(MTLS_LDFLAGS) -o $@ $^ $(MTLS_LIBS) $(SERVE_LIBS)

$(B)/obj/mtls-serve/main-keyinproc.o: mtls-serve/main.c common/*.h \
        mtls-serve/*.h
	@mkdir -p $(dir $@)
	$(CC) $(MTLS_CPPFLAGS) -DMTLS_NO_KEYPROC $(MTLS_CFLAGS) -c -o $@ $<

# The key process against misbehaving channels, for t/54.
$(B)/keyprobe: $(B)/obj/t/keyprobe.o $(COMMON_OBJ)
	$(CC) $(MTLS_LDFLAGS) -o $@ $^ $(MTLS_LIBS)

# The load generator, for bench/run and the load tests.
$(B)/loadgen: bench/loadgen.c
	@mkdir -p $(B)
	$(CC) $(MTLS_CPPFLAGS) $(MTLS_CFLAGS) $(MTLS_LDFLAGS) -o $@ \
	    bench/loadgen.c $(MTLS_LIBS) -lpthread

$(B)/obj/t/fuzz/%.o: MTLS_CPPFLAGS += -Imtls-certinfo -Imtls-serve

$(B)/obj/%.o: %.c common/*.h mtls-serve/*.h mtls-send/*.h mtls-certinfo/*.h
	@mkdir -p $(dir $@)
	$(CC) $(MTLS_CPPFLAGS) $(MTLS_CFLAGS) -c -o $@ $<

deps:
	PKG_CONFIG='$(PKG_CONFIG)' sh mk/deps install $(DEPS_GROUPS)

check: all $(FUZZ_BINS) $(B)/loadgen $(B)/keyprobe $(B)/mtls-serve-hooks \
        lint-man
	MTLS_BIN=$(CURDIR)/$(B) $(PROVE) t/

lint-man:
	mandoc -Tlint -Wwarning $(MANS)

# make certs CERTS=/etc/mtls SERVER_NAMES="db1.example 10.0.0.5"
#     CLIENT_NAME=alice; make client-cert CERTS=DIR CLIENT_NAME=bob adds a
# client certificate (DIR/bob-cert.pem) from the CA already there.
certs:
	FORCE=$(FORCE) certs/mkpki -s '$(SERVER_NAMES)' -c '$(CLIENT_NAME)' \
	    '$(CERTS)' $(KEYTYPE)

client-cert:
	FORCE=$(FORCE) certs/mkpki -a '$(CLIENT_NAME)' '$(CERTS)' $(KEYTYPE)

demo: all
	MTLS_BIN=$(B) t/demo.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DATADIR)
	cp -f $(PROGS) $(DESTDIR)$(BINDIR)/
	cp -f $(MANS) $(DESTDIR)$(MANPREFIX)/man1/
	for u in $(UNITS); do \
		src=contrib/systemd/$$u; [ -f $$src ] || src=$$src.in; \
		sed 's|@BINDIR@|$(BINDIR)|g' $$src \
		    >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	cp -f $(PKI_FILES) $(DESTDIR)$(DATADIR)/
	cd $(DESTDIR)$(BINDIR) && chmod 755 $(notdir $(PROGS))
	cd $(DESTDIR)$(MANPREFIX)/man1 && chmod 644 $(notdir $(MANS))
	cd $(DESTDIR)$(SYSTEMDUNITDIR) && chmod 644 $(UNITS)
	cd $(DESTDIR)$(DATADIR) && chmod 644 $(notdir $(PKI_FILES)) && \
	    chmod 755 mkpki

# As install, with the programs' symbols stripped.
install-strip: install
	cd $(DESTDIR)$(BINDIR) && $(STRIP) $(notdir $(PROGS))

uninstall:
	cd $(DESTDIR)$(BINDIR) && rm -f $(notdir $(PROGS))
	cd $(DESTDIR)$(MANPREFIX)/man1 && rm -f $(notdir $(MANS))
	cd $(DESTDIR)$(SYSTEMDUNITDIR) && rm -f $(UNITS)
	cd $(DESTDIR)$(DATADIR) && rm -f $(notdir $(PKI_FILES))
	-rmdir $(DESTDIR)$(DATADIR)

# The Debian package, from a clean tree: ../mtls_VERSION_ARCH.deb.
deb:
	dpkg-buildpackage -us -uc -b
	lintian --fail-on error ../mtls_$(VERSION)_*.changes

# Each target runs FUZZ_SECONDS from the seed corpus in t/fuzz/corpus;
# what it finds new goes to build-fuzz/corpus-NAME (copy keepers to t/).
fuzz:
	$(MAKE) FUZZ=1 CC=clang fuzz-build
	for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t && \
		build-fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
		    -timeout=10 -rss_limit_mb=2048 \
		    build-fuzz/corpus-$$t t/fuzz/corpus/$$t || exit 1; \
	done

fuzz-build: $(FUZZ_BINS)

# The benchmark beside gnutls-serv, openssl and socat: bench/RESULTS.md.
bench: all $(B)/loadgen $(B)/mtls-serve-keyinproc
	MTLS_BIN=$(CURDIR)/$(B) bench/run

clean:
	rm -rf build build-san build-fuzz
