#!/usr/bin/env bash
# Installs what building, running and testing Guichet QF needs on Debian/Ubuntu.
# Idempotent and quiet when everything is already there. Usage: bootstrap.sh [app|test]
set -euo pipefail
purpose="${1:-app}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# System libraries: WebKitGTK for the window; Xvfb and WebKitWebDriver for the end-to-end tests;
# poppler-utils (pdftoppm, pdftotext) and zbar-tools (zbarimg) to read the poster in tests/poster.rs;
# chromium (Debian's, never a downloaded one) and python3 for the accessibility check of tests/ui-a11y/;
# xclip to read back what « À propos » copies (tests/e2e.rs); dbus and gnome-keyring for the vault
# on a real Secret Service (tests/os_keystore.rs).
packages=(libwebkit2gtk-4.1-dev build-essential pkg-config curl file fonts-dejavu-core)
if [ "$purpose" = test ]; then
  packages+=(xvfb xauth webkit2gtk-driver git poppler-utils zbar-tools chromium python3 xclip dbus gnome-keyring)
fi
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# node and npm may come from elsewhere than apt (nvm, NodeSource); only install them if absent.
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installation des paquets système : ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Rust: Tauri 2 needs a recent toolchain; Debian's cargo is too old.
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "Installation de Rust (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi

if [ "$purpose" = test ]; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
  if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    echo "Installation de tauri-driver"
    cargo install tauri-driver --locked --quiet
  fi
fi
