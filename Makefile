# rcvgov: one entry point for dependencies, BPF objects, skeletons, the C++
# userspace, the tests and the benchmarks. Everything built lands in
# $(BUILD) (build/ by default; `make BUILD=build-x ...` for a separate tree).

BUILD    := build
SHELL    := /bin/bash

# Build in parallel by default; the test recipes themselves run one by one.
MAKEFLAGS += -j$(shell nproc)
OBJ      := $(BUILD)/obj
GEN      := $(BUILD)/gen
BIN      := $(BUILD)/bin

CLANG    ?= clang
BPFTOOL  ?= bpftool
CXX      ?= g++
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

# Quiet by default ("  CXX      build/obj/foo.o"); V=1 prints every command.
V ?= 0
ifeq ($(V),1)
Q   :=
msg :=
else
Q   := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

# Dependencies come in sets (scripts/deps.sh): the build set before the
# first compile, build + runtime for `make run`, all of them for the tests.
# Each is checked once per build tree (deps.sh is a no-op when everything is
# installed), one after the other. NO_DEPS=1 skips the checks (debian/rules:
# Build-Depends did it).
DEPS_STAMP      := $(BUILD)/.deps-build-ok
DEPS_RUN_STAMP  := $(BUILD)/.deps-runtime-ok
DEPS_TEST_STAMP := $(BUILD)/.deps-all-ok
$(BUILD)/.deps-%-ok: scripts/deps.sh
	@mkdir -p $(BUILD)
	@[ "$(NO_DEPS)" = 1 ] || ./scripts/deps.sh $*
	@touch $@
$(DEPS_RUN_STAMP) $(DEPS_TEST_STAMP): $(DEPS_STAMP)

# vmlinux.h comes from the running kernel's BTF; a build host without BTF
# uses the checked-in copy (generated from a 6.18 kernel, CO-RE relocates it).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
$(GEN)/vmlinux.h: | $(DEPS_STAMP)
	@mkdir -p $(GEN)
	$(call msg,GEN,$@)
	$(Q)if [ -r $(VMLINUX_BTF) ]; then \
		$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@; \
	else \
		echo "vmlinux.h: $(VMLINUX_BTF) not readable, using bpf/vmlinux/vmlinux.h"; \
		xz -dc bpf/vmlinux/vmlinux.h.xz > $@; \
	fi

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OBJ)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(GEN)/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.h)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(GEN) -Ibpf

$(OBJ)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(GEN)/vmlinux.h
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	@rm -f $@.tmp

$(GEN)/%.skel.h: $(OBJ)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Userspace. Every .cpp under userspace/ is library code, except tests
# (*_test.cpp), benchmarks (*_bench.cpp) and the program entry points below.
MAIN_SRCS := userspace/rcvgovd/rcvgovd.cpp userspace/rcvgovctl/rcvgovctl.cpp \
	userspace/pair/rcvgov-sender.cpp userspace/pair/rcvgov-reader.cpp
ALL_SRCS  := $(shell find userspace -name '*.cpp' 2>/dev/null)
TEST_SRCS := $(filter %_test.cpp,$(ALL_SRCS))
BENCH_SRCS:= $(filter %_bench.cpp,$(ALL_SRCS))
LIB_SRCS  := $(filter-out $(TEST_SRCS) $(BENCH_SRCS) $(MAIN_SRCS),$(ALL_SRCS))

CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Werror -Iuserspace -Ibpf -I$(GEN) \
	-MMD -MP -fno-strict-aliasing -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1
LDLIBS   := -lbpf -lelf -lz -lmnl -ltomlplusplus -lspdlog -lfmt -lsystemd \
	-lprometheus-cpp-pull -lprometheus-cpp-core -pthread

LIB_OBJS  := $(patsubst %.cpp,$(OBJ)/%.o,$(LIB_SRCS))
TEST_OBJS := $(patsubst %.cpp,$(OBJ)/%.o,$(TEST_SRCS))
LIBRCVGOV := $(OBJ)/librcvgov.a

# The skeletons are order-only: they exist before the first compile (a
# source may include one), and afterwards each object depends on exactly
# the headers -MMD recorded for it, so a changed BPF program rebuilds only
# the sources that include its skeleton.
$(OBJ)/%.o: %.cpp | $(SKELS) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIBRCVGOV): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/rcvgovd: $(OBJ)/userspace/rcvgovd/rcvgovd.o $(LIBRCVGOV)
$(BIN)/rcvgovctl: $(OBJ)/userspace/rcvgovctl/rcvgovctl.o $(LIBRCVGOV)
$(BIN)/rcvgov-sender: $(OBJ)/userspace/pair/rcvgov-sender.o $(LIBRCVGOV)
$(BIN)/rcvgov-reader: $(OBJ)/userspace/pair/rcvgov-reader.o $(LIBRCVGOV)
$(BIN)/rcvgovd $(BIN)/rcvgovctl $(BIN)/rcvgov-sender $(BIN)/rcvgov-reader:
	@mkdir -p $(BIN)
	$(call msg,LD,$@)
	$(Q)$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/rcvgov-unit-tests: $(TEST_OBJS) $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(call msg,LD,$@)
	$(Q)$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgmock -lgtest_main $(LDLIBS)

BENCH_OBJS := $(patsubst %.cpp,$(OBJ)/%.o,$(BENCH_SRCS))
$(BIN)/rcvgov-bench: $(BENCH_OBJS) $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(call msg,LD,$@)
	$(Q)$(CXX) $(CXXFLAGS) -o $@ $^ -lbenchmark -lbenchmark_main $(LDLIBS)

PROGRAMS := $(BIN)/rcvgovd $(BIN)/rcvgovctl $(BIN)/rcvgov-sender $(BIN)/rcvgov-reader

# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (g++),
# objects of their own in $(BUILD)/asan-obj.
ASAN_OBJ      := $(BUILD)/asan-obj
ASAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_CXXFLAGS := -O1 -g1 $(ASAN_FLAGS) $(filter-out -O% -g,$(CXXFLAGS))
ASAN_LIB_OBJS := $(patsubst %.cpp,$(ASAN_OBJ)/%.o,$(LIB_SRCS))
ASAN_TEST_OBJS:= $(patsubst %.cpp,$(ASAN_OBJ)/%.o,$(TEST_SRCS))

$(ASAN_OBJ)/%.o: %.cpp | $(SKELS) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CXX-ASAN,$@)
	$(Q)$(CXX) $(ASAN_CXXFLAGS) -c $< -o $@

$(ASAN_OBJ)/librcvgov.a: $(ASAN_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/rcvgov-unit-tests-asan: $(ASAN_TEST_OBJS) $(ASAN_OBJ)/librcvgov.a
	@mkdir -p $(BIN)
	$(call msg,LD,$@)
	$(Q)$(CXX) $(ASAN_CXXFLAGS) -o $@ $^ -lgtest -lgmock -lgtest_main $(LDLIBS)

# libFuzzer harnesses (fuzz/*_fuzz.cpp), clang++ with the fuzzer, ASan and
# UBSan, over the parsers of outside bytes. Only the library folders those
# parsers live in are compiled for them (no BPF skeleton needed), into
# $(BUILD)/fuzz-obj; each harness takes what it uses from the archive.
FUZZ_CXX      ?= clang++
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CXXFLAGS := -std=c++20 -O1 -g $(FUZZ_SAN) -Wall -Wextra -Iuserspace -Ibpf \
	-MMD -MP -fno-strict-aliasing -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1
FUZZ_LIBS     := -lmnl -ltomlplusplus -lspdlog -lfmt -pthread
FUZZ_OBJ      := $(BUILD)/fuzz-obj
FUZZ_BIN      := $(BUILD)/fuzz
FUZZ_LIB_DIRS := common config control core diag tracker
FUZZ_LIB_SRCS := $(filter $(patsubst %,userspace/%/%,$(FUZZ_LIB_DIRS)),$(LIB_SRCS))
FUZZ_LIB_OBJS := $(patsubst %.cpp,$(FUZZ_OBJ)/%.o,$(FUZZ_LIB_SRCS))
FUZZERS       := $(patsubst fuzz/%_fuzz.cpp,%,$(wildcard fuzz/*_fuzz.cpp))
FUZZ_BINS     := $(patsubst %,$(FUZZ_BIN)/%_fuzz,$(FUZZERS))
FUZZ_TIME     ?= 60
# make test: each harness this long (seconds); 4 harnesses x 20 s.
FUZZ_SHORT_TIME ?= 20

$(FUZZ_OBJ)/userspace/%.o: userspace/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CXX-FUZZ,$@)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OBJ)/fuzz/%.o: fuzz/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CXX-FUZZ,$@)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -Werror -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OBJ)/librcvgov-fuzz.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BIN)/%_fuzz: $(FUZZ_OBJ)/fuzz/%_fuzz.o $(FUZZ_OBJ)/librcvgov-fuzz.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# The seed corpora's generated part (events, snapshot records, sock_diag
# datagrams) comes from the ABI structs and the kernel headers.
$(FUZZ_BIN)/gen-seeds: fuzz/gen_seeds.cpp bpf/rcvgov_abi.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CXX,$@)
	$(Q)$(CXX) -std=c++20 -O1 -Wall -Wextra -Werror -Iuserspace -Ibpf -o $@ $< -lmnl

# The version (`git describe` at build time, --version and status JSON):
# looked up on every make run, the header rewritten only when it changes,
# and only common/version.cpp includes it.
VERSION_H := $(GEN)/rcvgov_version.h
$(VERSION_H): FORCE
	$(Q)./scripts/gen-version.sh $@
.PHONY: FORCE
FORCE:
$(OBJ)/userspace/common/version.o $(ASAN_OBJ)/userspace/common/version.o: $(VERSION_H)
$(FUZZ_OBJ)/userspace/common/version.o: $(VERSION_H)
$(FUZZ_OBJ)/userspace/common/version.o: FUZZ_CXXFLAGS += -I$(GEN)

.PHONY: all programs deps run install install-list uninstall test unit-test unit-test-asan integration-test vm-test kernel-test \
	bench bench-smoke bench-tracker format format-check tidy compile_commands fuzz-build fuzz fuzz-short \
	fuzz-seeds clean
.DEFAULT_GOAL := all
# What only the tests need (GoogleTest, Google Benchmark, the sanitizer
# runtime, netns tools, qemu, Prometheus, ...) is installed before their
# objects and targets.
$(TEST_OBJS) $(ASAN_TEST_OBJS) $(BENCH_OBJS) $(FUZZ_BINS): | $(DEPS_TEST_STAMP)
test unit-test unit-test-asan integration-test vm-test kernel-test bench bench-smoke fuzz \
	fuzz-short format-check format tidy: | $(DEPS_TEST_STAMP)
# Keep the BPF objects: they are also packed into the VM tests.
.SECONDARY:
all: $(PROGRAMS) $(BIN)/rcvgov-unit-tests
# Only the four programs (debian/rules).
programs: $(PROGRAMS)

deps: $(DEPS_TEST_STAMP)

# The main job: the daemon in the foreground with its embedded defaults.
run: $(PROGRAMS) | $(DEPS_RUN_STAMP)
	$(BIN)/rcvgovd

# make install [PREFIX=/usr/local] [DESTDIR=]: rcvgovd in sbin, rcvgovctl
# and the test pair in bin, the systemd unit (ExecStart= under PREFIX), the
# example configuration and the operator docs, the man pages (gzip), bash
# completion. debian/rules runs it with PREFIX=/usr. `make uninstall` removes
# the same files.
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR  = $(PREFIX)/sbin
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
DOCDIR   = $(PREFIX)/share/doc/rcvgov
COMPDIR  = $(PREFIX)/share/bash-completion/completions
# /usr: where Debian 12's systemd keeps units; elsewhere under PREFIX
# (/usr/local/lib/systemd/system is on systemd's unit path).
UNITDIR  = $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
MAN_PAGES := man/rcvgovd.8 man/rcvgovctl.8 man/rcvgov.toml.5 man/rcvgov-sender.1
INSTALL_DOCS = docs/operations-safety.md $(wildcard docs/operating.md)
INSTALLED = $(SBINDIR)/rcvgovd $(addprefix $(BINDIR)/,rcvgovctl rcvgov-sender rcvgov-reader) \
	$(UNITDIR)/rcvgovd.service $(DOCDIR)/rcvgov.toml.example \
	$(addprefix $(DOCDIR)/,$(notdir $(INSTALL_DOCS))) \
	$(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)).gz) \
	$(MANDIR)/man1/rcvgov-reader.1.gz \
	$(COMPDIR)/rcvgovd $(COMPDIR)/rcvgovctl

install: $(PROGRAMS)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(COMPDIR)
	$(Q)install -m 0755 $(BIN)/rcvgovd $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0755 $(BIN)/rcvgovctl $(BIN)/rcvgov-sender $(BIN)/rcvgov-reader \
		$(DESTDIR)$(BINDIR)/
	$(Q)sed -e 's#/usr/local/sbin/rcvgovd#$(SBINDIR)/rcvgovd#g' \
		-e 's#/usr/share/doc/rcvgov/#$(DOCDIR)/#g' scripts/systemd/rcvgovd.service \
		>$(DESTDIR)$(UNITDIR)/rcvgovd.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/rcvgovd.service
	$(Q)install -m 0644 etc/rcvgov.toml $(DESTDIR)$(DOCDIR)/rcvgov.toml.example
	$(Q)install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	$(Q)for m in $(MAN_PAGES); do \
		s=$${m##*.}; gzip -9n -c $$m >$(DESTDIR)$(MANDIR)/man$$s/$${m##*/}.gz && \
		chmod 0644 $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}.gz || exit 1; \
	done
	$(Q)ln -sf rcvgov-sender.1.gz $(DESTDIR)$(MANDIR)/man1/rcvgov-reader.1.gz
	$(Q)install -m 0644 completion/rcvgovd completion/rcvgovctl $(DESTDIR)$(COMPDIR)/

# The installed paths, one a line (tests/package/check.sh compares them
# with the package's).
install-list:
	@printf '%s\n' $(INSTALLED)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

unit-test: $(BIN)/rcvgov-unit-tests
	BUILD=$(BUILD) ./tests/run-unit.sh

unit-test-asan: $(BIN)/rcvgov-unit-tests-asan
	BUILD=$(BUILD) ./tests/run-unit.sh --asan

integration-test: all
	RCVGOV_BIN=$(abspath $(BIN)) ./tests/run-integration.sh

vm-test: all
	RCVGOV_BIN=$(abspath $(BIN)) ./tests/vm/run-vm-tests.sh

kernel-test: all
	RCVGOV_BIN=$(abspath $(BIN)) ./scripts/kernel/run-kernel-tests.sh

# The system benchmarks P1-P7 (docs/performance.md): each figure next to
# its anchor measured in the same run, as a table and as JSON in
# $(BUILD)/bench/results.json. `make bench BENCH="p2 p6"` runs some of
# them; bench-smoke is the short version `make test` runs (nothing judged).
# The tracker's own micro-benchmarks: `make bench-tracker`.
BENCH ?=
# P3's floor: empty programs on the same tracepoints (bench/floor/).
$(OBJ)/bench/floor.bpf.o: bench/floor/floor.bpf.c $(GEN)/vmlinux.h
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BIN)/rcvgov-bpf-floor: bench/floor/floor_loader.c $(OBJ)/bench/floor.bpf.o | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -o $@ $< -lbpf -lelf -lz
	@cp $(OBJ)/bench/floor.bpf.o $(BIN)/rcvgov-bpf-floor.bpf.o

BENCH_TOOLS := $(BIN)/rcvgov-bench $(BIN)/rcvgov-bpf-floor

bench: all $(BENCH_TOOLS)
	RCVGOV_BIN=$(abspath $(BIN)) BENCH_OUT=$(abspath $(BUILD))/bench ./bench/run.sh $(BENCH)

bench-smoke: all $(BENCH_TOOLS)
	BENCH_SMOKE=1 RCVGOV_BIN=$(abspath $(BIN)) BENCH_OUT=$(abspath $(BUILD))/bench-smoke \
		./bench/run.sh $(BENCH)

bench-tracker: $(BIN)/rcvgov-bench
	$(BIN)/rcvgov-bench --benchmark_counters_tabular=true

fuzz-build: $(FUZZ_BINS)

# Every harness for FUZZ_TIME seconds from its seed corpus; crashes land in
# $(BUILD)/fuzz-artifacts/, new inputs in $(BUILD)/fuzz-corpus/.
fuzz: fuzz-build
	BUILD=$(BUILD) ./fuzz/run.sh $(FUZZ_TIME) $(FUZZERS)

fuzz-short: fuzz-build
	BUILD=$(BUILD) ./fuzz/run.sh $(FUZZ_SHORT_TIME) $(FUZZERS)

# Rewrites fuzz/corpus/{event,diag}/gen-* from the current ABI.
fuzz-seeds: $(FUZZ_BIN)/gen-seeds
	$(FUZZ_BIN)/gen-seeds fuzz/corpus

# Everything, in the order that fails fastest. The test programs are built
# first; tests/run-all.sh runs the stages one by one.
test: all $(BIN)/rcvgov-unit-tests-asan $(BENCH_TOOLS) fuzz-build
	BUILD=$(BUILD) FUZZ_TIME=$(FUZZ_SHORT_TIME) ./tests/run-all.sh

# clang-format: userspace/ and fuzz/ with the top-level .clang-format; bpf/
# in kernel style (bpf/.clang-format, the kernel's own file). Both fail
# the check.
FORMAT_SRCS     = $(shell find userspace fuzz -name '*.cpp' -o -name '*.h' 2>/dev/null | sort)
BPF_FORMAT_SRCS = $(sort $(wildcard bpf/*.c bpf/*.h bench/floor/*.c))

format:
	clang-format -i $(FORMAT_SRCS) $(BPF_FORMAT_SRCS)

# One clang-format run per tree (--dry-run -Werror names every file that
# differs), then the diff of each such file.
format-check:
	@check() { \
		clang-format --dry-run -Werror "$$@" 2>&1 | \
			sed -nE 's/^([^:]+):[0-9]+:[0-9]+: (warning|error):.*/\1/p' | sort -u; \
	}; \
	show() { \
		clang-format "$$1" | diff -u --label "$$1" --label "$$1 ($$2)" "$$1" - | head -n 40; \
	}; \
	srcs="$(FORMAT_SRCS)"; bpf_srcs="$(BPF_FORMAT_SRCS)"; \
	bad=$$(check $$srcs); bpf_bad=$$(check $$bpf_srcs); \
	for f in $$bad; do show $$f clang-format; done; \
	for f in $$bpf_bad; do show $$f "kernel style"; done; \
	total=$$(echo $$srcs $$bpf_srcs | wc -w); \
	fail=$$(echo $$bad $$bpf_bad | wc -w); pass=$$((total - fail)); \
	[ -z "$$bad" ] || echo "format-check: differ from .clang-format:" $$bad; \
	[ -z "$$bpf_bad" ] || echo "format-check: differ from kernel style (bpf/.clang-format):" $$bpf_bad; \
	echo "format-check: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

# compile_commands.json for clang-tidy and editors: the exact command of
# every userspace object (the same flags as the rules above).
CDB_SRCS = $(LIB_SRCS) $(TEST_SRCS) $(BENCH_SRCS) $(MAIN_SRCS)
cdb_entry = {"directory": "$(CURDIR)", "file": "$(1)", "output": "$(OBJ)/$(1:.cpp=.o)", "command": "$(CXX) $(CXXFLAGS) -c $(1) -o $(OBJ)/$(1:.cpp=.o)"}
$(BUILD)/compile_commands.json: Makefile $(ALL_SRCS)
	@mkdir -p $(BUILD)
	$(call msg,GEN,$@)
	$(file >$@.tmp,[)
	$(foreach s,$(wordlist 2,$(words $(CDB_SRCS)),$(CDB_SRCS)),$(file >>$@.tmp,$(call cdb_entry,$(s)),))
	$(file >>$@.tmp,$(call cdb_entry,$(firstword $(CDB_SRCS))))
	$(file >>$@.tmp,])
	$(Q)mv $@.tmp $@

compile_commands: $(BUILD)/compile_commands.json

# clang-tidy with .clang-tidy (bugprone-*, performance-*, a few noisy ones
# off), every warning an error. TIDY_SRCS=... narrows it down.
TIDY_SRCS ?= $(LIB_SRCS) $(MAIN_SRCS)
TIDY_JOBS ?= 2
tidy: $(BUILD)/compile_commands.json | $(SKELS) $(VERSION_H)
	$(Q)printf '%s\n' $(TIDY_SRCS) | xargs -P$(TIDY_JOBS) -n4 \
		clang-tidy -p $(BUILD) --quiet --warnings-as-errors='*' \
		--extra-arg=-Wno-unknown-warning-option 2>&1 | \
		grep -v -E '^[0-9]+ warnings? generated\.$$|^Suppressed [0-9]+ warnings|^Use -header-filter' ; \
		exit $${PIPESTATUS[1]}

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
