#!/usr/bin/env bash
# Before a step that can lose user data the runner takes its backup FIRST
# (it only reads), then asks; the question names the archive and exactly
# what it does not hold (meta/not-backed-up.txt: on an unrooted phone every
# user app's data and the accounts). On droidfix-sim (unrooted, with
# WhatsApp, Telegram, ... and a Google account) and a small recipe of one
# user-data step written here:
# - --yes --json: step_backed_up comes before the confirmation; the
#   confirmation event and the report's step name the apps whose data and
#   the account the backup lacks ("backup_lacks"); the step runs;
# - a pty answering no: the question (after the backup) names them, the
#   step ends declined, the phone is unchanged and the archive stays;
# - no terminal, no --yes: refused naming --yes, before any backup (as
#   before).
source "$(dirname "$0")/../lib/harness.sh"

export DROIDFIX_BACKUP_DIR="$WORK/backups"
RECIPE="$WORK/gap-step.lua"
cat >"$RECIPE" <<'LUA'
return {
  id = "gap-step",
  title = "A step that can lose data",
  summary = "Removes a marker file; for tests of the confirmation after a backup.",
  risk = "user-data",
  applies_to = { modes = { "system" } },
  steps = {
    {
      id = "drop-marker",
      title = "Remove the marker",
      risk = "user-data",
      check = function(ctx)
        local st = ctx.device:stat("/sdcard/Download/marker.txt")
        return st and st.type == "file", "the marker is there"
      end,
      fix = function(ctx)
        df.say("ctx.backup is " .. tostring(ctx.backup))
        local r, err = ctx.device:shell("rm /sdcard/Download/marker.txt")
        if not r then error(err, 0) end
        return "removed the marker"
      end,
      verify = function(ctx)
        return ctx.device:stat("/sdcard/Download/marker.txt") == false
      end,
    },
  },
}
LUA

# put_marker: the file the step removes.
put_marker() {
  echo hello >"$WORK/marker.txt"
  "$DROIDFIX" push --connect "$SIM_ADB" "$WORK/marker.txt" /sdcard/Download/marker.txt >/dev/null 2>&1
}
marker_there() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "ls /sdcard/Download/marker.txt" >/dev/null 2>&1
}
export -f put_marker marker_there
export DROIDFIX WORK
backups() { ls "$DROIDFIX_BACKUP_DIR" 2>/dev/null | grep -c '\.tar$'; }

if ! sim_start plain; then
  bad "droidfix-sim starts"
  finish
fi
export SIM_ADB
check "setup: the marker is on the phone" bash -c "put_marker && marker_there"

# ---- --yes --json: backup, then the confirmation's facts, in events and report
"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" --yes --json >"$WORK/yes.json" 2>"$WORK/yes.err"
rc=$?
check "--yes: exit 0, the step fixed" test "$rc" -eq 0
python3 - "$WORK/yes.json" >"$WORK/yes.check" 2>&1 <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
names = [e["event"] for e in ev]
i_bk = names.index("step_backed_up")
conf = [i for i, e in enumerate(ev) if e["event"] == "waiting" and e.get("for") == "confirmation"]
assert len(conf) == 1, conf
c = ev[conf[0]]
assert i_bk < conf[0], "backup after the confirmation"
assert c["message"].startswith("confirmed by --yes: Step 'drop-marker'"), c["message"]
assert "it does NOT hold: the data of " in c["message"], c["message"]
for want in ("com.whatsapp", "org.telegram.messenger", "alex.rivera.sim@gmail.com", "no root"):
    assert want in c["message"], want
path = ev[i_bk]["message"].split(" (")[0]
assert c["backup"] == path, (c["backup"], path)
assert "app-data com.whatsapp" in c["backup_lacks"], c["backup_lacks"]
assert "app-data org.telegram.messenger" in c["backup_lacks"]
assert "account com.google alex.rivera.sim@gmail.com" in c["backup_lacks"]
fin = ev[-1]
step = fin["report"]["steps"][0]
assert fin["status"] == "healthy", fin["status"]
assert step["outcome"] == "fixed" and step["backed_up"], step
assert step["backup"] == path
assert step["backup_lacks"] == c["backup_lacks"], step["backup_lacks"]
assert "com.whatsapp" in step["backup_note"]
says = [e["message"] for e in ev if e["event"] == "say"]
assert "ctx.backup is " + path in says, says
print(path)
PY
if [ $? -eq 0 ]; then
  ok "--yes --json: backed up before the confirmation, which names the apps' data and the account the backup lacks (event and report backup_lacks)"
else
  bad "--yes --json: the events and report name what the backup lacks"
  sed 's/^/    /' "$WORK/yes.check" | tail -8
fi
ARCHIVE=$(tail -1 "$WORK/yes.check")
check "... the backup's own list agrees (meta/not-backed-up.txt)" \
  sh -c "tar -xOf '$ARCHIVE' meta/not-backed-up.txt | grep -qx 'app-data com.whatsapp'"
if marker_there; then bad "... the step ran: the marker is gone"; else ok "... the step ran: the marker is gone"; fi

# ---- the text report says it too
put_marker
"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" --yes >"$WORK/yes.txt" 2>"$WORK/yes.txt.err"
check "--yes (text): the events say what the backup lacks" \
  grep -q "confirmed by --yes: Step 'drop-marker'.*does NOT hold: the data of .*com.whatsapp" "$WORK/yes.txt.err"
check "... and so does the report" grep -q "^      backup: the backup at .*does NOT hold: .*com.whatsapp" "$WORK/yes.txt"

# ---- a terminal answering no: the question after the backup names the gaps
put_marker
n_before=$(backups)
sum_before=$(sim_status_field "$WORK/plain" user_data_sha256)
printf 'n\n' | script -qec "'$DROIDFIX' run '$RECIPE' --connect '$SIM_ADB'" /dev/null >"$WORK/no.out" 2>&1
bk_line=$(grep -n "backed up: " "$WORK/no.out" | head -1 | cut -d: -f1)
q_line=$(grep -n "Go on? \[y/N\]" "$WORK/no.out" | head -1 | cut -d: -f1)
if [ -n "$bk_line" ] && [ -n "$q_line" ] && [ "$bk_line" -lt "$q_line" ]; then
  ok "on a terminal: the backup is taken before the question"
else
  bad "on a terminal: the backup is taken before the question (lines '$bk_line' '$q_line')"
  sed 's/^/    /' "$WORK/no.out" | head -20
fi
check "... the question names the archive and the apps' data and the account it lacks" \
  grep -q "The backup at $DROIDFIX_BACKUP_DIR/.*\.tar holds /sdcard.*it does NOT hold: the data of .*com.whatsapp.*the accounts com.google alex.rivera.sim@gmail.com.*(no root.*Go on? \[y/N\]" "$WORK/no.out"
check "... no: declined, nothing changed, the backup stays (named)" \
  grep -q "declined by the user; nothing was changed; the backup at $DROIDFIX_BACKUP_DIR/.*\.tar stays" "$WORK/no.out"
check "... the marker is still there" marker_there
check "... the phone's user data is unchanged" test "$(sim_status_field "$WORK/plain" user_data_sha256)" = "$sum_before"
check "... the archive is kept" test "$(backups)" -eq $((n_before + 1))

# ---- no terminal, no --yes: refused naming --yes, and no backup taken
n_before=$(backups)
"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" </dev/null >"$WORK/notty.out" 2>&1
rc=$?
check "no terminal, no --yes: refused (exit 2)" test "$rc" -eq 2
check "... naming --yes" grep -q "needs a confirmation: run droidfix from a terminal, or pass --yes" "$WORK/notty.out"
check "... before any backup" test "$(backups)" -eq "$n_before"
check "... the marker is still there" marker_there

finish
