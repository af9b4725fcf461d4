#!/usr/bin/env bash
# Build and run every test (unit and integration) through ctest; exits with its status.
# Timeouts live in CMakeLists.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
HW_DEPS_TEST=1 bash scripts/deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j2
