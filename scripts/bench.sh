#!/usr/bin/env bash
# Every performance figure in one run (issue 9): the window's launch to first paint and idle
# memory, then the benchmarks of the sync, the refresh, the family search and the poster.
# Measurements, not tests: they print their figures against the aims and fail only when
# something does not work.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guichet-qf/target}"

echo "== Machine"
echo "$(nproc) cœurs, $(awk '/MemTotal/ {printf "%.0f Go de mémoire", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ */Processeur : /' || true

echo "== Fenêtre (démarrage, mémoire)"
xvfb-run -a -s "-screen 0 1280x1024x24" cargo bench --quiet --bench window
for bench in sync refresh families poster; do
  echo "== $bench"
  cargo bench --quiet --bench "$bench"
done
