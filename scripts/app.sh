#!/usr/bin/env bash
# Builds Guichet QF and opens its window (first run: installs the system packages it needs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh app
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guichet-qf/target}"
exec cargo run --quiet
