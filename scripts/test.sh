#!/usr/bin/env bash
# Build and run every test (unit and integration) through ctest, then the unit tests
# under ASan and UBSan (scripts/sanitize.sh, its own build in build-san/), then every fuzz
# harness for 10 s (scripts/fuzz.sh, its own build in build-fuzz/); fails if any fails.
# Timeouts live in CMakeLists.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
HW_DEPS_TEST=1 bash scripts/deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j2)
bash scripts/sanitize.sh
bash scripts/fuzz.sh --seconds 10
