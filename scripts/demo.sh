#!/usr/bin/env bash
# README command 1: set everything up on a fresh machine and run an example agent task on the
# embedded default model (Qwen2.5-Coder-0.5B-Instruct). Usage: bash scripts/demo.sh [SPEC]
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC="${1:-Examples/calculator.yaml}"
bash scripts/install-deps.sh
swift build -c release --product loza 2>&1 | tail -n 1
.build/release/loza models pull qwen2.5-coder-0.5b-instruct >/dev/null
exec .build/release/loza run "$SPEC"
