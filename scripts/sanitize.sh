#!/usr/bin/env bash
# Build the unit tests with AddressSanitizer and UndefinedBehaviorSanitizer (HW_SANITIZE,
# in build-san/) and run them (ctest label "unit"): a read past a buffer, a use after
# free, a leak or undefined behaviour fails the test that did it, every run, where a
# plain build passes by luck (docs/testing.md, "Sanitizers"). Exits non-zero on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build-san
if ! { cmake -S . -B build-san -DHW_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	cmake --build build-san --target hw_unit_tests -j"$(nproc)"; } >build-san/build.log 2>&1; then
	tail -n 40 build-san/build.log >&2
	echo "sanitize.sh: the sanitizer build failed (build-san/build.log)" >&2
	exit 1
fi
cd build-san
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest -L unit --output-on-failure -j2
