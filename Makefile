# Veneer: `make demo` and `make check` work on a fresh Debian 12 machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60

.PHONY: all deps demo demo-down check unit api asan install clean fuzz

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --werror --prefix=$(PREFIX)

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) --werror -Dbuildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false

deps:
	scripts/install-deps.sh

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

demo: deps
	$(MAKE) all
	scripts/demo.sh $(BUILD)

demo-down:
	VENEER_BUILD=$(CURDIR)/$(BUILD) scripts/veneer-lab down --name demo

# Everything: unit tests and fuzz-corpus replay in the normal (gcc) and the sanitizer (clang)
# builds,
# then the API suite against both builds' veneerd.
check: deps
	$(MAKE) all
	$(MAKE) asan
	scripts/check.sh $(BUILD) $(ASAN_BUILD)

install: all
	meson install -C $(BUILD)

# Coverage-guided fuzzing with clang's libFuzzer (not part of check: check replays the corpus).
fuzz:
	[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dtests=false
	ninja -C $(FUZZ_BUILD)
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
