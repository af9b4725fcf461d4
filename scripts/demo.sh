#!/usr/bin/env bash
# Build, then run the store demo: ingest, verify, backup, restore, compare digests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/hawser demo
