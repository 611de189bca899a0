#!/usr/bin/env bash
# The README's "A recipe in 20 lines" is a recipe that works: taken out of
# README.md as it stands, it fits in 20 lines, `droidfix recipes` reads it,
# --dry-run finds the clock off and changes nothing, and a run on a phone
# whose clock is far off with automatic time off fixes it (the sim's
# play-store-stuck cause "clock"); on a phone whose clock is right it finds
# nothing.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

RECIPE="$WORK/clock-off.lua"
awk '/^## A recipe in 20 lines/ { f = 1 } f && /^```lua/ { g = 1; next } g && /^```/ { exit } g' \
  "$DF_SOURCE_DIR/README.md" >"$RECIPE"
lines=$(wc -l <"$RECIPE")
if [ "$lines" -gt 0 ] && [ "$lines" -le 20 ]; then ok "README recipe found, $lines lines"; else bad "README recipe has $lines lines"; fi

# A contributor's own recipes folder (~/.config/droidfix/recipes; HOME is the test's).
mkdir -p "$HOME/.config/droidfix/recipes"
cp "$RECIPE" "$HOME/.config/droidfix/recipes/"
check "droidfix recipes lists it from ~/.config/droidfix/recipes" \
  sh -c "'$DROIDFIX' recipes --json | jq -e '.. | objects | select(.id? == \"clock-off\")' >/dev/null"

status() { sim_status_field "$WORK/$1" "$2"; }
auto_time() { "$DROIDFIX" shell --connect "$SIM_ADB" "settings get global auto_time" 2>/dev/null | tr -d '\r\n'; }

# A phone whose clock is off, automatic time off.
sim_start skewed --fault play-store-stuck:clock || { bad "sim did not start"; finish; }
check "the sim has the fault" sh -c "'$SIM' status --state-dir '$WORK/skewed' | grep -q play-store-stuck"
before_sha=$(status skewed user_data_sha256)

"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" --dry-run >"$WORK/dry.out" 2>"$WORK/dry.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "clock is off by" "$WORK/dry.out" "$WORK/dry.err"; then
  ok "--dry-run finds the clock off (exit $rc)"
else
  bad "--dry-run: exit $rc, no 'clock is off by'"; sed 's/^/    /' "$WORK/dry.out" "$WORK/dry.err" | head -20
fi
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$2', want '$3')"; fi; }
expect_eq "--dry-run left automatic time off" "$(auto_time)" "0"

"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" >"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
expect_eq "run exits 0" "$rc" "0"
grep -q "fixed" "$WORK/run.out" && ok "the report says fixed" || { bad "no 'fixed' in the report"; sed 's/^/    /' "$WORK/run.out" "$WORK/run.err" | head -20; }
expect_eq "automatic time is on" "$(auto_time)" "1"
skew=$(( $("$DROIDFIX" shell --connect "$SIM_ADB" "date +%s" | tr -d '\r\n') - $(date +%s) ))
[ "${skew#-}" -le 300 ] && ok "the phone's clock is right ($skew s)" || bad "the clock is still off by $skew s"
expect_eq "user data unchanged" "$(status skewed user_data_sha256)" "$before_sha"

# On a healthy phone the check finds nothing.
"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" --json >"$WORK/again.json" 2>"$WORK/again.err"
rc=$?
expect_eq "a second run exits 0" "$rc" "0"
expect_eq "a second run finds nothing" \
  "$(jq -r 'select(.event == "finished") | (.report // .) | .steps[0].outcome' "$WORK/again.json")" "nothing-found"

finish
