# rcvgov: one entry point for dependencies, BPF objects, skeletons, the C++
# userspace, the tests and the benchmarks. Everything built lands in build/.

BUILD    := build

# Build in parallel by default; the test recipes themselves run one by one.
MAKEFLAGS += -j$(shell nproc)
OBJ      := $(BUILD)/obj
GEN      := $(BUILD)/gen
BIN      := $(BUILD)/bin

CLANG    ?= clang
BPFTOOL  ?= bpftool
CXX      ?= g++
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Dependencies are checked once per make invocation; deps.sh is a no-op when
# everything is installed.
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(BUILD)
	@./scripts/deps.sh
	@touch $@

# vmlinux.h comes from the running kernel's BTF; a build host without BTF
# uses the checked-in copy (generated from a 6.18 kernel, CO-RE relocates it).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
$(GEN)/vmlinux.h: | $(DEPS_STAMP)
	@mkdir -p $(GEN)
	@if [ -r $(VMLINUX_BTF) ]; then \
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
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	@rm -f $@.tmp

$(GEN)/%.skel.h: $(OBJ)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

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
LDLIBS   := -lbpf -lelf -lz -lmnl -ltomlplusplus -lspdlog -lfmt -pthread

LIB_OBJS  := $(patsubst %.cpp,$(OBJ)/%.o,$(LIB_SRCS))
TEST_OBJS := $(patsubst %.cpp,$(OBJ)/%.o,$(TEST_SRCS))
LIBRCVGOV := $(OBJ)/librcvgov.a

$(OBJ)/%.o: %.cpp $(SKELS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIBRCVGOV): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/rcvgovd: $(OBJ)/userspace/rcvgovd/rcvgovd.o $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/rcvgovctl: $(OBJ)/userspace/rcvgovctl/rcvgovctl.o $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/rcvgov-sender: $(OBJ)/userspace/pair/rcvgov-sender.o $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/rcvgov-reader: $(OBJ)/userspace/pair/rcvgov-reader.o $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/rcvgov-unit-tests: $(TEST_OBJS) $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgmock -lgtest_main $(LDLIBS)

BENCH_OBJS := $(patsubst %.cpp,$(OBJ)/%.o,$(BENCH_SRCS))
$(BIN)/rcvgov-bench: $(BENCH_OBJS) $(LIBRCVGOV)
	@mkdir -p $(BIN)
	$(CXX) $(CXXFLAGS) -o $@ $^ -lbenchmark -lbenchmark_main $(LDLIBS)

PROGRAMS := $(BIN)/rcvgovd $(BIN)/rcvgovctl $(BIN)/rcvgov-sender $(BIN)/rcvgov-reader

.PHONY: all deps run test unit-test integration-test vm-test kernel-test bench format clean
.DEFAULT_GOAL := all
# Keep the BPF objects: they are also packed into the VM tests.
.SECONDARY:
all: $(PROGRAMS) $(BIN)/rcvgov-unit-tests

deps: $(DEPS_STAMP)

# The main job: the daemon in the foreground with its embedded defaults.
run: $(PROGRAMS)
	$(BIN)/rcvgovd

unit-test: $(BIN)/rcvgov-unit-tests
	$(BIN)/rcvgov-unit-tests

integration-test: all
	./tests/run-integration.sh

vm-test: all
	./tests/vm/run-vm-tests.sh

kernel-test: all
	./scripts/kernel/run-kernel-tests.sh

# Benchmarks print figures (see docs/performance.md); they assert nothing.
bench: $(BIN)/rcvgov-bench
	$(BIN)/rcvgov-bench --benchmark_counters_tabular=true

# Everything, in the order that fails fastest.
test: all
	./tests/run-all.sh

format:
	clang-format -i $(shell find userspace bpf -name '*.cpp' -o -name '*.h' -o -name '*.c' | grep -v vmlinux)

clean:
	rm -rf $(BUILD)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
