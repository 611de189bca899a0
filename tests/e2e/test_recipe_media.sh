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
