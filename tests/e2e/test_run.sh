#!/usr/bin/env bash
# droidfix run, recipes and models against droidfix-sim: every device
# method through tests/fixtures/recipes/device-tour.lua (instruct answered by
# `droidfix-sim press` when the waiting event appears), --json events that
# parse, dry-run that changes nothing, refusal without --yes and without a
# terminal, applies_to refusals, an external plugin, and --all over two sims.
source "$(dirname "$0")/../lib/harness.sh"

FIX="$DF_SOURCE_DIR/tests/fixtures/recipes"
PLUGIN_DIR="$DF_BIN_DIR/../plugins-test"
export DROIDFIX_WORK_DIR="$WORK/runs"
export DROIDFIX_BACKUP_DIR="$WORK/backups"

# Every line of FILE is one JSON object with an "event"; the last is "finished".
json_events_ok() {
  python3 - "$1" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
evs = [json.loads(l) for l in lines]
assert evs, "no events"
assert all("event" in e for e in evs), "an object without event"
assert evs[-1]["event"] == "finished", evs[-1]
EOF
}

# python3 expression EXPR over the events of FILE (list `evs`, last `fin`).
json_check() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fin = [e for e in evs if e["event"] == "finished"]
fin = fin[-1] if fin else {}
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
EOF
}

status_of() { "$SIM" status --state-dir "$1"; }

# ---- verbs that need no phone ----
check "models lists device files" bash -c \
  "'$DROIDFIX' models | grep -q '^xiaomi/redmi-k70 ' && ! '$DROIDFIX' models | grep -q 'xiaomi/common'"
check "models --json parses" bash -c \
  "'$DROIDFIX' models --json | python3 -c 'import json,sys; d=json.load(sys.stdin); ids=[m[\"id\"] for m in d[\"models\"]]; assert \"samsung/galaxy-s9\" in ids and \"generic\" in ids'"
check "recipes --json lists the repository's recipes" bash -c \
  "'$DROIDFIX' recipes --json | python3 -c 'import json,sys; d=json.load(sys.stdin); r={x[\"id\"]:x for x in d[\"recipes\"] if x[\"ok\"]}; assert r[\"play-store-stuck\"][\"risk\"]; assert \"system\" in r[\"play-store-stuck\"][\"applies_to\"][\"modes\"]'"
DROIDFIX_RECIPE_PATH="$FIX" "$DROIDFIX" recipes >"$WORK/recipes.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'BROKEN.*not-a-table.lua:3' "$WORK/recipes.out" &&
  grep -q '^device-tour ' "$WORK/recipes.out" && grep -q '^device-clock ' "$WORK/recipes.out" &&
  ! grep -q 'BROKEN.*device-' "$WORK/recipes.out"; then
  ok "recipes names a broken vendor recipe with its line (exit 1)"
else
  bad "recipes with a broken recipe on the path (exit $rc)"
  head -20 "$WORK/recipes.out"
fi

"$DROIDFIX" run "$FIX/not-a-table.lua" >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'not-a-table.lua:3' "$WORK/bad.err"; then
  ok "a bad recipe is refused with its line before any phone (exit 2)"
else
  bad "bad recipe (exit $rc)"
  cat "$WORK/bad.err"
fi
"$DROIDFIX" run no-such-recipe-id >/dev/null 2>"$WORK/noid.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "no recipe 'no-such-recipe-id'" "$WORK/noid.err"; then
  ok "an unknown recipe id says where it looked (exit 2)"
else
  bad "unknown recipe id (exit $rc)"
fi

# ---- one phone: the whole device API ----
sim_start tour || exit 1
TOUR_DIR="$WORK/tour"
A=(--connect "$SIM_ADB" --connect "$SIM_FB")
mkdir -p "$WORK/pkg/pkg/images"
{ printf 'ANDROID!'; head -c 8184 /dev/urandom; } >"$WORK/boot.img"
cp "$WORK/boot.img" "$WORK/pkg/pkg/images/boot.img"
cat >"$WORK/pkg/pkg/flash_all.sh" <<'EOF'
fastboot $* getvar product 2>&1 | grep "^product: *vermeer"
if [ $? -ne 0 ] ; then echo "Missmatching image and device"; exit 1; fi
fastboot $* flash boot_ab `dirname $0`/images/boot.img
fastboot $* reboot
EOF
tar -C "$WORK/pkg" -cf "$WORK/fw.tar" pkg
P=(--param "image=$WORK/boot.img" --param "archive=$WORK/fw.tar")

# Without --yes and without a terminal the first step above app-data (the
# tour's push, user-data) is refused.
"$DROIDFIX" "${A[@]}" run "$FIX/device-tour.lua" "${P[@]}" --no-backup </dev/null \
  >"$WORK/refuse.out" 2>"$WORK/refuse.err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'adb-side .* refused' "$WORK/refuse.out" &&
  grep -q 'pass --yes' "$WORK/refuse.out" && status_of "$TOUR_DIR" | grep -q '"mode": "system"'; then
  ok "without --yes and a terminal a user-data step is refused, phone untouched (exit 2)"
else
  bad "refusal without --yes (exit $rc)"
  cat "$WORK/refuse.out" "$WORK/refuse.err" | head -30
fi

"$DROIDFIX" "${A[@]}" run "$FIX/device-tour.lua" "${P[@]}" --yes --no-backup --json \
  >"$WORK/tour.json" 2>"$WORK/tour.err" &
RUN_PID=$!
if wait_until 120 grep -q '"for":"instruct"' "$WORK/tour.json"; then
  ok "instruct emits a waiting event"
  "$SIM" press --state-dir "$TOUR_DIR" recovery >/dev/null 2>&1
else
  bad "no instruct waiting event"
fi
wait $RUN_PID
rc=$?
if [ $rc -eq 0 ]; then ok "device tour: exit 0"; else
  bad "device tour: exit $rc"
  tail -5 "$WORK/tour.json" | cut -c1-800
  tail -5 "$WORK/tour.err"
fi
check "device tour: every line is a JSON event" json_events_ok "$WORK/tour.json"
check "device tour: report says healthy and fixed" json_check "$WORK/tour.json" \
  'fin["status"] == "healthy" and [s["outcome"] for s in fin["report"]["steps"]] == ["fixed", "fixed", "fixed"] and fin["report"]["backup_skipped"]'
check "device tour: the waiting event names combo, mode and steps" json_check "$WORK/tour.json" \
  'any(e["event"] == "waiting" and e.get("for") == "instruct" and e["combo"] == "recovery" and e["mode"] == "recovery" and len(e["steps"]) >= 1 and e["timeout"] == 60 for e in evs)'
check "device tour: reboots are waiting events" json_check "$WORK/tour.json" \
  'any(e["event"] == "waiting" and e.get("for") == "reboot" and e["mode"] == "bootloader" for e in evs)'
check "device tour: boot was flashed with the image" bash -c \
  "status_sha=\$('$SIM' status --state-dir '$TOUR_DIR' | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"partitions\"]; print(p.get(\"boot_a\",{}).get(\"sha256\"))'); [ \"\$status_sha\" = \"\$(sha256sum '$WORK/boot.img' | cut -d\" \" -f1)\" ]"
check "device tour: phone back in system" bash -c "'$SIM' status --state-dir '$TOUR_DIR' | grep -q '\"mode\": \"system\"'"

# applies_to: a Samsung-only recipe on a Xiaomi phone
"$DROIDFIX" "${A[@]}" run "$FIX/device-samsung-only.lua" >"$WORK/applies.out" 2>"$WORK/applies.err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'is for samsung phones; this phone is xiaomi' "$WORK/applies.err"; then
  ok "a recipe that does not apply says why (exit 2)"
else
  bad "applies_to (exit $rc)"
  cat "$WORK/applies.out" "$WORK/applies.err"
fi

# an external plugin's functions, called from a recipe
DROIDFIX_PLUGIN_PATH="$PLUGIN_DIR" "$DROIDFIX" "${A[@]}" run "$FIX/device-plugin.lua" \
  >"$WORK/plugin.out" 2>"$WORK/plugin.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'hello, plugin' "$WORK/plugin.err"; then
  ok "a recipe calls an external plugin's function (exit 0)"
else
  bad "plugin (exit $rc)"
  cat "$WORK/plugin.out" "$WORK/plugin.err"
fi
"$DROIDFIX" "${A[@]}" run "$FIX/device-plugin.lua" >"$WORK/noplugin.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'the hello plugin is not loaded' "$WORK/noplugin.out"; then
  ok "without DROIDFIX_PLUGIN_PATH no plugin is loaded"
else
  bad "no plugin path (exit $rc)"
fi
sim_stop "$SIM_PID"

# ---- dry-run changes nothing ----
sim_start stuck --fault play-store-stuck || exit 1
STUCK_ADB=$SIM_ADB
STUCK_FB=$SIM_FB
before=$(status_of "$WORK/stuck")
"$DROIDFIX" --connect "$STUCK_ADB" --connect "$STUCK_FB" run play-store-stuck --dry-run --json \
  >"$WORK/dry.json" 2>"$WORK/dry.err"
rc=$?
after=$(status_of "$WORK/stuck")
if [ $rc -eq 1 ] && [ "$before" = "$after" ]; then
  ok "dry-run finds the problem (exit 1) and the phone's status is unchanged"
else
  bad "dry-run (exit $rc)"
  diff <(echo "$before") <(echo "$after") | head
fi
check "dry-run: events parse, steps planned, nothing changed" json_check "$WORK/dry.json" \
  'fin["report"]["dry_run"] and "planned" in [s["outcome"] for s in fin["report"]["steps"]] and not any(s["changed"] for s in fin["report"]["steps"])'

# ---- --all: two phones, one loop, a report each ----
sim_start second --model samsung/galaxy-s22 || exit 1
"$DROIDFIX" --connect "$STUCK_ADB" --connect "$STUCK_FB" --connect "$SIM_ADB" --connect "$SIM_FB" \
  run play-store-stuck --dry-run --all --json >"$WORK/all.json" 2>"$WORK/all.err"
rc=$?
check "--all: one finished report per phone" json_check "$WORK/all.json" \
  'len({e["serial"] for e in evs if e["event"] == "finished"}) == 2'
if [ $rc -eq 1 ]; then ok "--all: exit is the worst run (1: the stuck phone)"; else bad "--all exit $rc"; fi
"$DROIDFIX" --connect "$STUCK_ADB" --connect "$SIM_ADB" run play-store-stuck --dry-run --all \
  >"$WORK/all.txt" 2>&1
check "--all: text reports name each phone" bash -c "[ \$(grep -c '^status: ' '$WORK/all.txt') -eq 2 ]"

finish
