#!/usr/bin/env bash
# recipes/system-reflash.lua on a phone that does not boot (issue 6): a
# bootlooping Redmi K70 answers on neither adb nor fastboot, so
# `droidfix run --model xiaomi/redmi-k70` starts without it, shows the
# model's fastboot button combination (a "waiting"/"instruct" JSON event),
# waits for the phone in fastboot, flashes it and sees it boot. The test
# plays the hand: it reads the combination from the event (checked against
# devices/xiaomi/redmi-k70.lua and the vendor file it extends) and presses
# it with `droidfix-sim press`.
# Also: no phone and no --model says to pass --model and how to list the
# ids; a missing backup (no ADB) stops a --yes run unless --no-backup, and
# is asked on a terminal; a wait with no press times out (exit 2) naming
# what it waited for; a phone that shows up as another model than --model
# is refused, as is a --model that does not fit a phone that answers.
source "$(dirname "$0")/../lib/harness.sh"

RECIPE="$DF_SOURCE_DIR/recipes/system-reflash.lua"
MAKE_ROM="$DF_SOURCE_DIR/tests/fixtures/make-rom.sh"
LUA=${LUA:-$(command -v lua5.4 || command -v lua || true)}
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
status() { "$SIM" status --state-dir "$WORK/phone"; }
mode() { status | json_get 'd["mode"]'; }
parts() { status | json_get 'json.dumps(d["partitions"], sort_keys=True)'; }
user_data() { status | json_get 'd["user_data_sha256"]'; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# finished_message NAME: the report's message of run NAME.
finished_message() {
  python3 - "$WORK/$1.json" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "finished":
        print(e.get("message", ""))
PY
}
# event_has NAME PYEXPR: some JSON event e of run NAME makes PYEXPR true.
event_has() {
  python3 - "$WORK/$1.json" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if eval(sys.argv[2], {"e": e}):
        sys.exit(0)
sys.exit(1)
PY
}
msg_has() { grep -q -- "$2" <<<"$(finished_message "$1")"; } # msg_has NAME REGEX
show() { tail -n 8 "$WORK/$1.err" | sed 's/^/    err: /'; finished_message "$1" | cut -c1-600 | sed 's/^/    /'; }

# ---- small ROMs: one for the K70 (vermeer), one for the K70 Pro (manet)
export DF_ROM_SUPER_MIB=1 DF_ROM_VENDOR_BOOT_KIB=256
mkdir -p "$WORK/roms"
GOOD=$("$MAKE_ROM" "$WORK/roms" good 2) || bad "make-rom.sh good"
MANET=$("$MAKE_ROM" "$WORK/roms" manet 2) || bad "make-rom.sh manet"
mkdir -p "$WORK/rom-good" && tar -C "$WORK/rom-good" -xzf "$GOOD"
BOOT_IMG=$(echo "$WORK/rom-good"/*/images/boot.img)

# ---- the phone: unlocked (a Xiaomi bootloader must be, to take a ROM),
# then broken: its boot image torn, adb and fastboot silent
SIM_ARGS=(--anti-rollback 2 --boot-ms 200)
sim_start phone "${SIM_ARGS[@]}" || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
check "setup: reboot into the bootloader" "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}"
check "setup: unlock the bootloader (Google's fastboot)" fastboot -s "tcp:$SIM_FB" flashing unlock
check "setup: back to system" "$DROIDFIX" reboot system --wait --timeout 30 "${C[@]}"
sim_stop "$SIM_PID"
sim_start phone "${SIM_ARGS[@]}" --fault bootloop || { bad "droidfix-sim restarts broken"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
check "setup: the phone bootloops" test "$(mode)" = bootloop
check "setup: neither adb nor fastboot answers" bash -c "! '$DROIDFIX' devices ${C[*]} | grep -q '$(status | json_get 'd["serial"]')'"
PARTS_BEFORE=$(parts)
USER_DATA=$(user_data)

# What the device file says the fastboot combination is: modes.fastboot of
# the model or of the file it extends, one line per step:
# ACTION|KEY,KEY|UNTIL
device_combo() { # device_combo MODEL_ID COMBO
  "$LUA" - "$DF_SOURCE_DIR/devices" "$1" "$2" <<'LUA'
local dir, id, combo = arg[1], arg[2], arg[3]
while id do
  local t = assert(loadfile(dir .. "/" .. id .. ".lua", "t", {}))()
  local m = t.modes and t.modes[combo]
  if m then
    for _, s in ipairs(m.steps) do
      print(s.action .. "|" .. table.concat(s.keys or {}, ",") .. "|" .. (s["until"] or ""))
    end
    return
  end
  id = t.extends
end
LUA
}

# run_recipe NAME ARGS...: droidfix run --json; a background hand watches
# the events and, at a "waiting" event for "instruct", writes the event's
# combination (as ACTION|KEYS|UNTIL lines) to NAME.combo and presses the
# combination the event names. Exit code in $RC; NAME.pressed holds what
# was pressed.
run_recipe() {
  local name=$1
  shift
  : >"$WORK/$name.json"
  "$DROIDFIX" run "$RECIPE" --json "${C[@]}" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ "${PRESS:-yes}" = yes ] && [ ! -e "$WORK/$name.pressed" ] &&
      grep -q '"for":"instruct"' "$WORK/$name.json"; then
      python3 - "$WORK/$name.json" >"$WORK/$name.combo" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "waiting" and e.get("for") == "instruct":
        print("COMBO " + e["combo"])
        for b in e.get("buttons", []):
            print("%s|%s|%s" % (b["action"], ",".join(b["keys"]), b.get("until", "")))
        break
PY
      local combo
      combo=$(awk '/^COMBO /{print $2}' "$WORK/$name.combo")
      echo "$combo" >"$WORK/$name.pressed"
      "$SIM" press --state-dir "$WORK/phone" "$combo" || echo "press failed" >>"$WORK/$name.pressed"
    fi
    sleep 0.1
  done
  wait "$pid"
  RC=$?
}

# ---- no phone and no --model: the error names --model and 'droidfix models'
"$DROIDFIX" run "$RECIPE" "${C[@]}" --yes --param "firmware=$GOOD" >"$WORK/nomodel.out" 2>"$WORK/nomodel.err"
RC=$?
check "no phone, no --model: exit 2" test "$RC" -eq 2
check "... the error says to pass --model" grep -q -- "pass --model ID" "$WORK/nomodel.err"
check "... and how to find the model ids ('droidfix models')" grep -q "'droidfix models' lists the model ids" "$WORK/nomodel.err"
check "... and the ids 'droidfix models' lists include xiaomi/redmi-k70" bash -c "'$DROIDFIX' models | grep -q '^xiaomi/redmi-k70 '"

# ---- --model of a phone the recipe is not for: refused before any wait
PRESS=no run_recipe samsung --model samsung/galaxy-s22 --yes --no-backup --param "firmware=$GOOD"
if [ "$RC" -eq 2 ] && msg_has samsung "is for xiaomi phones"; then
  ok "--model samsung/galaxy-s22 with no phone: refused (the recipe is for xiaomi phones), exit 2"
else
  bad "--model samsung/galaxy-s22 with no phone is refused (exit $RC)"; show samsung
fi
check "... without waiting for a phone" bash -c "! grep -q '\"for\":\"instruct\"' '$WORK/samsung.json'"

# ---- no backup can be taken: --yes alone does not go on
PRESS=no run_recipe nobackup --model xiaomi/redmi-k70 --yes --param "firmware=$GOOD"
if [ "$RC" -eq 2 ] && msg_has nobackup "no backup can be taken" &&
  msg_has nobackup "At risk: this step writes the phone's firmware" &&
  msg_has nobackup "pass --no-backup as well"; then
  ok "--yes without --no-backup, no ADB: refused, saying no backup can be taken, what is at risk, and --no-backup"
else
  bad "--yes without --no-backup is refused with the reason (exit $RC)"; show nobackup
fi
check "... a JSON waiting event for the backup said so" \
  event_has nobackup 'e["event"] == "waiting" and e.get("for") == "backup" and e["message"].startswith("no backup can be taken")'
check "... nothing was waited for" bash -c "! grep -q '\"for\":\"instruct\"' '$WORK/nobackup.json'"
check "... nor flashed" test "$(parts)" = "$PARTS_BEFORE"

# ---- on a terminal the missing backup is asked: "n" stops, nothing changed
on_tty() { # on_tty ANSWERS ARGS...: runs droidfix on a pty, ANSWERS one a line
  local answers=$1
  shift
  local cmd="'$DROIDFIX' run '$RECIPE' ${C[*]}"
  for a in "$@"; do cmd+=" '$a'"; done
  printf "$answers" | script -qec "$cmd" /dev/null
}
on_tty 'y\nn\n' --model xiaomi/redmi-k70 --param "firmware=$GOOD" >"$WORK/tty-no.out" 2>&1
check "on a terminal droidfix says no backup can be taken and what is at risk" grep -q "no backup can be taken before step 'reflash'.*At risk:" "$WORK/tty-no.out"
check "... and asks whether to go on without one" grep -q "Go on with step 'reflash' without a backup?" "$WORK/tty-no.out"
check "... answering n stops the run (declined, nothing changed)" grep -q "declined: no backup could be taken; nothing was changed" "$WORK/tty-no.out"
# answering y goes on: the combination is shown as text; nobody presses
# it, so the wait ends: exit 2, naming what it waited for
on_tty 'y\ny\nFLASH\n' --model xiaomi/redmi-k70 --param "firmware=$GOOD" --param wait_s=2 >"$WORK/tty-yes.out" 2>&1
RC=$?
check "... answering y goes on and the buttons are shown" grep -q "1. Hold Volume Down and Power until the FASTBOOT screen appears" "$WORK/tty-yes.out"
check "... saying what droidfix waits for, and how long" grep -q "droidfix waits up to 2 s for it in bootloader mode" "$WORK/tty-yes.out"
check "no press: the wait times out with exit 2" test "$RC" -eq 2
check "... the message names the mode and the combination it waited for" \
  grep -q "no phone showed up in bootloader mode within 2 s (droidfix showed the fastboot button combination and looked for it at 127.0.0.1:" "$WORK/tty-yes.out"
check "the phone still bootloops, nothing flashed" test "$(mode)" = bootloop -a "$(parts)" = "$PARTS_BEFORE"

# ---- --model says K70 Pro (and the ROM is a K70 Pro's): the phone that
# shows up in fastboot is a K70, so it is refused there, before any write
run_recipe pro --model xiaomi/redmi-k70-pro --yes --no-backup --param "firmware=$MANET" --param wait_s=30
check "the hand pressed the combination for --model xiaomi/redmi-k70-pro" grep -qx fastboot "$WORK/pro.pressed"
if [ "$RC" -eq 2 ] && msg_has pro "is xiaomi/redmi-k70, not xiaomi/redmi-k70-pro as --model said: refused"; then
  ok "a phone that shows up as another model than --model is refused once it answers (exit 2)"
else
  bad "a phone of another model than --model is refused once it answers (exit $RC)"; show pro
fi
check "... nothing was flashed" test "$(parts)" = "$PARTS_BEFORE"
check "... (the phone is in the bootloader, where the hand put it)" test "$(mode)" = bootloader
"$DROIDFIX" reboot system "${C[@]}" >/dev/null 2>&1
wait_until 20 bash -c "'$SIM' status --state-dir '$WORK/phone' | grep -q '\"mode\": *\"bootloop\"'"
check "setup: back to the boot loop" test "$(mode)" = bootloop

# ---- the repair: started without the phone, guided into fastboot, flashed
run_recipe good --model xiaomi/redmi-k70 --yes --no-backup --param "firmware=$GOOD" --param wait_s=60
check "the run started without a phone (offline event)" grep -q '"event":"offline".*"model":"xiaomi/redmi-k70"' "$WORK/good.json"
check "a JSON event said it waits for the fastboot combination, the phone in bootloader mode, 60 s" \
  event_has good 'e["event"] == "waiting" and e.get("for") == "instruct" and e.get("combo") == "fastboot" and e.get("mode") == "bootloader" and e.get("timeout") == 60 and len(e.get("steps", [])) == len(e.get("buttons", [])) > 0'

device_combo xiaomi/redmi-k70 fastboot >"$WORK/k70-fastboot.expected"
grep -v '^COMBO ' "$WORK/good.combo" >"$WORK/good.buttons" 2>/dev/null
check "the device file gives a fastboot combination" test -s "$WORK/k70-fastboot.expected"
check "the event's combination is devices/xiaomi/redmi-k70.lua's (Volume Down + Power)" \
  diff "$WORK/k70-fastboot.expected" "$WORK/good.buttons"
check "... and the hand pressed the combination the event named" grep -qx fastboot "$WORK/good.pressed"
if [ "$RC" -eq 0 ]; then ok "the bootlooping phone was repaired (exit 0)"; else bad "the repair succeeds (exit $RC)"; show good; fi
check "the phone that showed up was checked against --model" grep -q 'showed up in bootloader mode: xiaomi/redmi-k70 (codename vermeer), as --model said' "$WORK/good.json"
check "the report names the phone's serial once it answered" \
  test "$(grep '"event":"finished"' "$WORK/good.json" | json_get 'd["serial"]')" = "$(status | json_get 'd["serial"]')"
check "the boot image was flashed (boot_a and boot_b hold the ROM's)" \
  test "$(status | json_get 'd["partitions"]["boot_a"]["sha256"] + " " + d["partitions"]["boot_b"]["sha256"]')" = "$(sha "$BOOT_IMG") $(sha "$BOOT_IMG")"
check "the phone boots to system" test "$(mode)" = system
check "droidfix-sim status shows no faults" test "$(status | json_get 'd["faults"]')" = "[]"
check "the user's data was kept (flash_all_except_storage)" test "$(user_data)" = "$USER_DATA"

# ---- a phone that answers must be the --model given
PRESS=no run_recipe s22 --model samsung/galaxy-s22 --yes --no-backup --param "firmware=$GOOD"
if [ "$RC" -eq 2 ] && msg_has s22 "is xiaomi/redmi-k70, not samsung/galaxy-s22 as --model says: refused"; then
  ok "--model samsung/galaxy-s22 against the (answering) K70: refused with the phone's real model, exit 2"
else
  bad "--model samsung/galaxy-s22 against the K70 is refused (exit $RC)"; show s22
fi

finish
