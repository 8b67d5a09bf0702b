#!/usr/bin/env bash
# The Debian package (issue 9): built by the Tauri bundler, installed with apt-get, then the
# installed program is started under Xvfb and must paint its first screen (the "first paint"
# line its page makes it log). `bash scripts/deb.sh` builds and checks; the package stays in
# target/release/bundle/deb/ and is removed from the system afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guichet-qf/target}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

echo "== Construction du paquet .deb (tauri build --bundles deb)"
npm ci --no-audit --no-fund --loglevel=error
# Not in package.json: the lock file would then name the CLI's binary for every platform, and
# `npm ci` refuses a lock whose other platforms' packages the registry mirror does not list.
npm install --no-save --no-audit --no-fund --loglevel=error @tauri-apps/cli@2.12.5
npx --no-install tauri build --bundles deb
deb="$(ls -t "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb | head -n 1)"
echo "Paquet : $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --field "$deb" Package Version Depends

echo "== Installation"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >/dev/null
package="$(dpkg-deb --field "$deb" Package)"
trap '$sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "$package" >/dev/null' EXIT
test -x /usr/bin/guichet-qf
ls /usr/share/applications/ | grep -i guichet

echo "== Démarrage du programme installé"
data="$(mktemp -d)"
GUICHET_QF_DATA_DIR="$data" GUICHET_QF_KEYSTORE=aucun \
  xvfb-run -a -s "-screen 0 1280x1024x24" /usr/bin/guichet-qf </dev/null >/dev/null 2>&1 &
runner=$!
painted=""
for _ in $(seq 1 600); do
  if grep -hs "first paint" "$data"/logs/*.log; then painted=yes; break; fi
  sleep 0.1
done
pkill -f "^/usr/bin/guichet-qf$" || true
wait "$runner" 2>/dev/null || true
rm -rf "$data"
if [ -z "$painted" ]; then
  echo "Le programme installé n'a pas affiché sa fenêtre en 60 secondes."
  exit 1
fi
echo "Le paquet s'installe et la fenêtre s'affiche."
