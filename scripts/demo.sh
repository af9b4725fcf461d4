#!/usr/bin/env bash
# Build, then run the demo: a failover, verify and restore drill on a local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/hawser demo
