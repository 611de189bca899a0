#!/usr/bin/env bash
# A transport added by an external plugin (issue 5): the fixture plugin
# tests/fixtures/plugin/tcp_relay_plugin.c registers the scheme "relay", and
# `--connect relay:HOST:PORT` makes droidfix get its stream from the
# plugin's open(), which connects to a droidfix-sim port and logs each call.
# Every verb below must go through it: shell, devices, push/pull, a reboot
# into the bootloader followed over the relay, fastboot getvar, and
# `droidfix run`; each is checked against the plugin's own log of opens, so
# a droidfix that reached the sim by itself fails. Also the refusals: an
# unknown scheme, an open() that fails (its message shown), a plugin built
# for another ABI (file and both numbers named), and an ABI-1 plugin still
# accepted.
source "$(dirname "$0")/../lib/harness.sh"

PLUGINS="$DF_BIN_DIR/.."
RELAY_DIR="$PLUGINS/plugins-transport"
export RELAY_PLUGIN_LOG="$WORK/relay.log"
: >"$RELAY_PLUGIN_LOG"
export DROIDFIX_WORK_DIR="$WORK/runs"
export DROIDFIX_BACKUP_DIR="$WORK/backups"
unset DROIDFIX_PLUGIN_PATH DROIDFIX_CONNECT ANDROID_SERIAL

# opens the plugin logged for ADDRESS with RESULT ("ok" or "failed:")
opens() { grep -c "^open $1 $2" "$RELAY_PLUGIN_LOG"; }
# check NAME CMD...; then: the plugin opened ADDRESS at least once more
BEFORE=0
mark() { BEFORE=$(opens "$1" ok); }
used() { test "$(opens "$1" ok)" -gt "$BEFORE"; }

check "the fixture plugins are built" test -f "$RELAY_DIR/relay.so" -a \
  -f "$PLUGINS/plugins-badabi/future.so" -a -f "$PLUGINS/plugins-abi1/oldabi.so"

# ---- listing
"$DROIDFIX" plugins --plugin-dir "$RELAY_DIR" >"$WORK/plugins.out" 2>"$WORK/plugins.err"
check "plugins shows the transport's scheme" grep -q 'transport  --connect relay:ADDRESS' \
  "$WORK/plugins.out"
"$DROIDFIX" plugins --json --plugin-dir "$RELAY_DIR" >"$WORK/plugins.json"
check "plugins --json gives the scheme" python3 -c "
import json,sys
d=json.load(open('$WORK/plugins.json'))
p=[x for x in d['plugins'] if x['name']=='relay']
assert p and p[0]['transport']['scheme']=='relay' and p[0]['abi']==2, d"
check "--help names --plugin-dir" bash -c "'$DROIDFIX' --help | grep -q -- '--plugin-dir DIR'"

# ---- a phone over the relay
sim_start phone --boot-ms 200 || { bad "droidfix-sim starts"; finish; }
C=(--plugin-dir "$RELAY_DIR" --connect "relay:$SIM_ADB" --connect "relay:$SIM_FB")
SERIAL=$("$SIM" status --state-dir "$WORK/phone" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])')

mark "$SIM_ADB"
check "shell echo hi over the relay" test "$("$DROIDFIX" "${C[@]}" shell echo hi)" = "hi"
check "  ... and the plugin opened the adb port" used "$SIM_ADB"

mark "$SIM_ADB"
"$DROIDFIX" "${C[@]}" devices --json >"$WORK/devices.json" 2>"$WORK/devices.err"
check "devices lists the phone once, in system mode, through relay:" python3 -c "
import json
d=json.load(open('$WORK/devices.json'))['devices']
assert [(x['serial'], x['mode'], x['transport']) for x in d] == \
  [('$SERIAL', 'system', 'relay:$SIM_ADB')], d"
check "  ... and the plugin opened the adb port" used "$SIM_ADB"

head -c $((4 * 1024 * 1024 + 123)) /dev/urandom >"$WORK/blob"
mark "$SIM_ADB"
check "push over the relay" "$DROIDFIX" -q "${C[@]}" push "$WORK/blob" /sdcard/blob.bin
check "pull over the relay" "$DROIDFIX" -q "${C[@]}" pull /sdcard/blob.bin "$WORK/blob.back"
check "  ... the sha256 of what came back is the sha256 of what went" test \
  "$(sha256sum <"$WORK/blob" | cut -d' ' -f1)" = "$(sha256sum <"$WORK/blob.back" | cut -d' ' -f1)"
check "  ... and the plugin opened the adb port" used "$SIM_ADB"

# droidfix run: the plugin loads from --plugin-dir and from DROIDFIX_PLUGIN_PATH
# (the same folder: loaded once, no "taken" warning), plus an ABI-1 plugin.
mark "$SIM_ADB"
DROIDFIX_PLUGIN_PATH="$RELAY_DIR" "$DROIDFIX" "${C[@]}" --plugin-dir "$PLUGINS/plugins-abi1" \
  run "$DF_SOURCE_DIR/tests/fixtures/plugin/relay-recipe.lua" </dev/null \
  >"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'relay says over-relay, oldabi says 42' "$WORK/run.err" &&
  ! grep -q 'taken' "$WORK/run.err"; then
  ok "droidfix run of a recipe over the relay (exit 0), ABI-1 plugin called"
else
  bad "run over the relay (exit $rc)"
  sed 's/^/    /' "$WORK/run.out" "$WORK/run.err" | head -30
fi
check "  ... and the plugin opened the adb port" used "$SIM_ADB"

# The bootloader: the reboot is followed over the relay (the wait probes
# through the plugin again), then fastboot commands run over it.
mark "$SIM_FB"
check "reboot bootloader --wait over the relay" \
  "$DROIDFIX" "${C[@]}" reboot bootloader --wait --timeout 30
check "fastboot getvar product over the relay" \
  test "$("$DROIDFIX" "${C[@]}" getvar product)" = "product: vermeer"
check "  ... and the plugin opened the fastboot port" used "$SIM_FB"
check "the sim is in the bootloader" bash -c \
  "'$SIM' status --state-dir '$WORK/phone' | grep -q '\"mode\": *\"bootloader\"'"
# a fastboot-only transport: "fastboot:" in front skips the ADB try
mark "$SIM_FB"
check "getvar over fastboot:relay:HOST:PORT" test \
  "$("$DROIDFIX" --plugin-dir "$RELAY_DIR" --connect "fastboot:relay:$SIM_FB" getvar product)" \
  = "product: vermeer"
check "  ... and the plugin opened the fastboot port" used "$SIM_FB"

# DROIDFIX_CONNECT takes plugin endpoints too
mark "$SIM_FB"
check "DROIDFIX_CONNECT=relay:... with DROIDFIX_PLUGIN_PATH" test "$(
  DROIDFIX_PLUGIN_PATH="$RELAY_DIR" DROIDFIX_CONNECT="relay:$SIM_FB" "$DROIDFIX" getvar product
)" = "product: vermeer"
check "  ... and the plugin opened the fastboot port" used "$SIM_FB"

# ---- refusals
"$DROIDFIX" --connect "nosuch:$SIM_ADB" shell true >"$WORK/unknown.out" 2>"$WORK/unknown.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "no loaded plugin provides the transport 'nosuch'" "$WORK/unknown.err" &&
  grep -q -- '--plugin-dir' "$WORK/unknown.err" && grep -q DROIDFIX_PLUGIN_PATH "$WORK/unknown.err"
then
  ok "an unknown scheme is refused, naming it and where plugins come from (exit 2)"
else
  bad "unknown scheme (exit $rc)"
  sed 's/^/    /' "$WORK/unknown.err"
fi
"$DROIDFIX" --connect "relay:$SIM_FB" getvar product >/dev/null 2>"$WORK/noplugin.err"
rc=$?
check "relay: without the plugin loaded is an unknown scheme too" \
  bash -c "[ $rc -eq 2 ] && grep -q \"transport 'relay'\" '$WORK/noplugin.err'"

DEAD=$(free_port)
"$DROIDFIX" --plugin-dir "$RELAY_DIR" --connect "relay:127.0.0.1:$DEAD" shell true \
  >"$WORK/dead.out" 2>"$WORK/dead.err"
rc=$?
if [ $rc -eq 1 ] &&
  grep -q "relay:127.0.0.1:$DEAD: the relay plugin could not open it: relay: connect to 127.0.0.1:$DEAD failed" \
    "$WORK/dead.err" && [ "$(opens "127.0.0.1:$DEAD" failed:)" -ge 1 ]; then
  ok "a failing open() shows the plugin's message (exit 1)"
else
  bad "failing open (exit $rc)"
  sed 's/^/    /' "$WORK/dead.err"
fi

"$DROIDFIX" --plugin-dir "$PLUGINS/plugins-badabi" plugins >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
if [ $rc -eq 0 ] && grep -q "future.so was built for plugin ABI 99; this droidfix has ABI 2" \
  "$WORK/bad.err" && ! grep -q '^future' "$WORK/bad.out"; then
  ok "a plugin built for ABI 99 is refused, naming the file and both numbers"
else
  bad "ABI mismatch (exit $rc)"
  sed 's/^/    /' "$WORK/bad.out" "$WORK/bad.err"
fi
check "  ... and its scheme is not there" bash -c \
  "'$DROIDFIX' --plugin-dir '$PLUGINS/plugins-badabi' --connect future:x devices 2>&1 |
   grep -q \"no loaded plugin provides the transport 'future'\""
# run loads DROIDFIX_PLUGIN_PATH again: the refusal is still said once
DROIDFIX_PLUGIN_PATH="$PLUGINS/plugins-badabi" "$DROIDFIX" --connect "relay:$SIM_FB" \
  --plugin-dir "$RELAY_DIR" run "$DF_SOURCE_DIR/tests/fixtures/recipes/minimal.lua" \
  </dev/null >/dev/null 2>"$WORK/twice.err"
check "droidfix run warns once about a refused plugin" \
  test "$(grep -c 'future.so was built for plugin ABI 99' "$WORK/twice.err")" -eq 1

"$DROIDFIX" plugins --plugin-dir "$PLUGINS/plugins-abi1" >"$WORK/abi1.out" 2>&1
check "an ABI-1 plugin is still loaded" grep -q '^oldabi 0.1 (ABI 1)' "$WORK/abi1.out"

finish
