#!/usr/bin/env bash
# `make run`: the whole story in under a minute. Starts droidfix-sim as a
# Redmi K70 whose Play Store downloads stay pending (fault play-store-stuck:
# a stale queue, the clock 400 days behind, /data nearly full) on free ports
# in a temporary folder, shows what is wrong, runs
# `droidfix run recipes/play-store-stuck.lua --yes` against it (confirming
# for the user), then shows the phone healthy and stops it.
# Usage: bash tests/e2e/make-run.sh BIN_DIR   (the Makefile passes build/bin)
set -u
BIN=$(cd "${1:-build/bin}" && pwd) || { echo "make-run.sh: no folder ${1:-build/bin}; run make build first" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SIM="$BIN/droidfix-sim"
DROIDFIX="$BIN/droidfix"
command -v jq >/dev/null || { echo "make-run.sh: jq is missing (make deps installs it)" >&2; exit 2; }
for b in "$SIM" "$DROIDFIX"; do
  [ -x "$b" ] || { echo "make-run.sh: $b is missing; run make build first" >&2; exit 2; }
done

DEMO=$(mktemp -d /tmp/droidfix-run.XXXXXX)
SIM_PID=
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null; fi
  rm -rf "$DEMO"
}
trap cleanup EXIT
# droidfix's adb key and any backup stay in the demo's folder, not in ~.
export HOME="$DEMO/home"
export DROIDFIX_BACKUP_DIR="$DEMO/backups"
mkdir -p "$HOME" "$DROIDFIX_BACKUP_DIR"

# show_status TITLE: the simulated phone's state, for people.
show_status() {
  "$SIM" status --state-dir "$DEMO/phone" | jq -r '
    "  phone:  \(.name) (\(.codename)), serial \(.serial), in \(.mode) mode",
    "  faults: \(if (.faults | length) == 0 then "none: the phone is healthy" else (.faults | join(", ")) end)",
    "  user data sha256: \(.user_data_sha256)"'
}
# sim_field FIELD: one field of the status (lists joined by ",").
sim_field() {
  "$SIM" status --state-dir "$DEMO/phone" | jq -r --arg f "$1" '.[$f] | if type == "array" then join(",") else tostring end'
}

echo "== 1. A simulated Redmi K70 whose Play Store downloads stay pending"
"$SIM" serve --state-dir "$DEMO/phone" --model xiaomi/redmi-k70 --fault play-store-stuck \
  >"$DEMO/sim.out" 2>"$DEMO/sim.err" &
SIM_PID=$!
for _ in $(seq 100); do
  grep -q '^fastboot ' "$DEMO/sim.out" 2>/dev/null && break
  kill -0 "$SIM_PID" 2>/dev/null || break
  sleep 0.1
done
ADB=$(awk '/^adb /{print $2}' "$DEMO/sim.out")
FB=$(awk '/^fastboot /{print $2}' "$DEMO/sim.out")
if [ -z "$ADB" ] || [ -z "$FB" ]; then
  echo "droidfix-sim did not start:" >&2
  cat "$DEMO/sim.err" >&2
  exit 2
fi
echo "  droidfix-sim answers ADB on $ADB and fastboot on $FB (its state: $DEMO/phone)"
show_status
SHA_BEFORE=$(sim_field user_data_sha256)

echo
echo "== 2. droidfix run recipes/play-store-stuck.lua --connect $ADB --connect $FB --yes"
echo "   (--yes confirms for you; on a real phone leave it out and droidfix asks)"
"$DROIDFIX" run "$SRC/recipes/play-store-stuck.lua" --connect "$ADB" --connect "$FB" --yes
RC=$?
echo "  droidfix exited with $RC (0: healthy, 1: not fixed, 2: could not proceed)"

echo
echo "== 3. The phone afterwards"
show_status
FAULTS=$(sim_field faults)
SHA_AFTER=$(sim_field user_data_sha256)
if [ "$RC" -eq 0 ] && [ -z "$FAULTS" ] && [ "$SHA_BEFORE" = "$SHA_AFTER" ]; then
  echo "  Repaired: no fault left, and the user's data is byte for byte what it was."
  STATUS=0
else
  echo "  NOT repaired (exit $RC, faults '${FAULTS}', user data $([ "$SHA_BEFORE" = "$SHA_AFTER" ] && echo unchanged || echo CHANGED))."
  STATUS=1
fi
echo
echo "== 4. Stopping the simulated phone"
kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
SIM_PID=
exit "$STATUS"
