#!/usr/bin/env bash
# The agent's guide screenshots (docs/captures/), taken in the real window under Xvfb on the
# demonstration. Run after a change of screen, then commit the images with the guide.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
# ImageMagick's `import` reads the window's pixels from the X server (see `capture` in tests/e2e.rs).
if ! command -v import >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends imagemagick
fi
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guichet-qf/target}"
export GUICHET_QF_CAPTURES="$PWD/docs/captures"
TAURI_E2E=1 xvfb-run -a -s "-screen 0 1280x1024x24" \
  cargo test --quiet --test e2e screenshots_of_every_screen_for_the_guide -- --ignored --exact
ls -1 "$GUICHET_QF_CAPTURES"
