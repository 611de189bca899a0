#!/usr/bin/env bash
# recipes/media-process-crash.lua end to end on droidfix-sim: the media
# process crashes at every boot (corrupt provider databases); `droidfix run
# --yes` clears what the guides say, least harmful first, rebooting after
# each, until the crash is gone, with the user's data unchanged. Android 14
# (MediaProvider module in its own process) and Android 10 (legacy
# MediaProvider inside android.process.media).
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

# Both databases corrupt, Redmi K70 (Android 14).
if start def --fault media-process-crash; then
  expect def "fault installed" "$BEFORE_FAULTS" "media-process-crash"
  run_recipe def media-process-crash --yes
  repaired def google-caches fixed download-manager fixed media-storage fixed sync nothing-found \
    app-preferences nothing-found safe-mode nothing-found factory-reset nothing-found
  sim_stop "$SIM_PID"
fi

# Only the Download Manager's database: the media storage data is left alone.
if start dl --fault media-process-crash:downloads-only; then
  run_recipe dl media-process-crash --yes
  repaired dl google-caches fixed download-manager fixed media-storage nothing-found
  sim_stop "$SIM_PID"
fi

# Only the media storage database (Android 14: the module's own process).
if start media --fault media-process-crash:media-only; then
  run_recipe media media-process-crash --yes
  repaired media google-caches fixed download-manager nothing-found media-storage fixed
  sim_stop "$SIM_PID"
fi

# Android 10 (Galaxy S9): the legacy MediaProvider runs in android.process.media.
if start s9 --model samsung/galaxy-s9 --fault media-process-crash; then
  run_recipe s9 media-process-crash --yes
  repaired s9 download-manager fixed media-storage fixed factory-reset nothing-found
  sim_stop "$SIM_PID"
fi

# --dry-run: found (exit 1), nothing changed, no reboot.
if start dry --fault media-process-crash; then
  run_recipe dry media-process-crash --dry-run
  expect dry "exit code" "$RUN_RC" 1
  untouched dry
  expect dry "google-caches planned" "$(outcome_of dry google-caches)" planned
  sim_stop "$SIM_PID"
fi

# A system fault (it crashes in safe mode too) on a rooted phone, run on a
# terminal (a pty): every question answered yes but the factory reset's
# "Erase ALL data": no reset, the manufacturer's support, data unchanged.
if start decline --rooted --fault media-process-crash:system; then
  python3 - "$DROIDFIX" "$DF_SOURCE_DIR/recipes/media-process-crash.lua" "$SIM_ADB" >"$WORK/decline.out" 2>&1 <<'PY'
import os, pty, sys, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", sys.argv[2], "--connect", sys.argv[3]])
out, seen = b"", 0
while True:
    r, _, _ = select.select([fd], [], [], 120)
    if not r:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    sys.stdout.write(data.decode("utf-8", "replace"))
    sys.stdout.flush()
    if out.rstrip().endswith(b"[y/N]") and len(out) > seen:
        seen = len(out)
        last = out.splitlines()[-1]
        os.write(fd, b"n\n" if b"Erase ALL data" in last else b"y\n")
_, status = os.waitpid(pid, 0)
print("\nEXIT %d" % os.waitstatus_to_exitcode(status))
PY
  expect decline "asked to erase, answered no" "$(grep -c 'Erase ALL data.*\[y/N\]' "$WORK/decline.out")" 1
  expect decline "exit code (not fixed)" "$(sed -n 's/^EXIT //p' "$WORK/decline.out")" 1
  check "decline: the report says to contact the manufacturer's support" \
    grep -q "not reset: you chose not to reset: contact the manufacturer's support" "$WORK/decline.out"
  expect decline "fault still there" "$(sim_status "$WORK/decline" faults)" media-process-crash
  expect decline "user data unchanged" "$(sim_status "$WORK/decline" user_data_sha256)" "$BEFORE_SHA"
  expect decline "phone in system mode" "$(sim_status "$WORK/decline" mode)" system
  sim_stop "$SIM_PID"
fi

# A healthy phone: nothing found, exit 0.
if start healthy; then
  run_recipe healthy media-process-crash --yes
  expect healthy "exit code" "$RUN_RC" 0
  untouched healthy
  expect healthy "every step found nothing" "$(outcomes healthy | awk '$2 != "nothing-found"' | wc -l)" 0
  expect healthy "report lists the steps" "$(outcomes healthy | wc -l)" 7
  sim_stop "$SIM_PID"
fi

finish
