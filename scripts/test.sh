#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
export PATH="$HOME/.cargo/bin:$PATH"
# A warm target directory outside the clone makes repeated runs fast; a cold one must pass too.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guichet-qf/target}"
if [ -d "$CARGO_TARGET_DIR" ] && [ "$(du -sm "$CARGO_TARGET_DIR" | cut -f1)" -gt 15000 ]; then
  echo "Le cache de compilation dépasse 15 Go : il est vidé."
  rm -rf "$CARGO_TARGET_DIR"
fi

echo "== Formatage (cargo fmt --check)"
cargo fmt --check

echo "== Analyse (cargo clippy -D warnings)"
cargo clippy --all-targets --quiet -- -D warnings

echo "== Tests (unitaires, intégration, bout en bout)"
cargo test --no-fail-fast
