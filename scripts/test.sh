#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit + integration + end-to-end tests (real window
# under Xvfb), TypeScript bindings drift, UI type check and accessibility check (axe-core in
# Debian's Chromium), then the Debian package built, installed and started (scripts/deb.sh).
# Fails on the first failure.
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

echo "== Types de l'interface (ts-rs, tsc)"
npm ci --no-audit --no-fund --loglevel=error
cargo test --quiet --lib export_bindings >/dev/null
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if [ -n "$(git status --porcelain -- ui/bindings)" ]; then
    git status --porcelain -- ui/bindings
    echo "Les types TypeScript générés (ui/bindings) ne correspondent plus au code Rust :"
    echo "lancez cargo test puis committez ui/bindings."
    exit 1
  fi
fi
npx --no-install tsc -p ui

echo "== Accessibilité de l'interface (axe-core, couleurs forcées, zoom 200 %)"
node tests/ui-a11y/check.mjs </dev/null

echo "== Tests (unitaires, intégration, bout en bout)"
TAURI_E2E=1 xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --no-fail-fast

echo "== Paquet Debian (construit, installé, lancé)"
bash scripts/deb.sh </dev/null
