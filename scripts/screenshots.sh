#!/usr/bin/env bash
# The agent's guide screenshots (docs/captures/), taken in the real window under Xvfb on the
# demonstration. Run after a change of screen, then commit the images with the guide.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guichet-qf/target}"
export GUICHET_QF_CAPTURES="$PWD/docs/captures"
TAURI_E2E=1 xvfb-run -a -s "-screen 0 1280x1024x24" \
  cargo test --quiet --test e2e screenshots_of_every_screen_for_the_guide -- --ignored --exact
ls -1 "$GUICHET_QF_CAPTURES"
