#!/usr/bin/env bash
# recipes/factory-mode-exit.lua end to end on droidfix-sim: a Samsung with
# root (the /efs flags rewritten), a Samsung without root (the factory test
# app's data), a Xiaomi (the CIT app), and a stuck volume key that no
# software fixes (the recipe names the key and exits 1).
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

# Samsung, rooted: /efs/FactoryApp/factorymode holds OFF.
if start sroot --model samsung/galaxy-s22 --rooted --fault factory-mode; then
  expect sroot "starts in factory mode" "$(sim_status "$WORK/sroot" mode)" "factory-mode"
  run_recipe sroot factory-mode-exit --yes
  repaired sroot efs-flags fixed test-app-data nothing-found still-factory-mode nothing-found
  sim_stop "$SIM_PID"
fi

# Samsung, not rooted: the factory test app's saved state.
# Android's per-app sizes (dumpsys diskstats) are its daily snapshot: after
# the clear they still count the app's data, and the step is verified from
# pm clear's answer and the reboot that follows, not from them.
if start sapp --model samsung/galaxy-s22 --fault factory-mode:app-data; then
  FT=com.sem.factoryapp
  FT_CACHED=$(cached_size sapp "$FT" data)
  check "sapp: the daily snapshot counts the factory app's data" test "${FT_CACHED:-0}" -gt 0
  run_recipe sapp factory-mode-exit --yes
  repaired sapp efs-flags nothing-found test-app-data fixed still-factory-mode nothing-found
  expect sapp "the factory app's data is gone (the sim's own count)" "$(live_data sapp "$FT")" 0
  expect sapp "dumpsys diskstats still shows its old size (the snapshot is stale)" "$(cached_size sapp "$FT" data)" "$FT_CACHED"
  sim_stop "$SIM_PID"
fi

# Samsung, not rooted, with the /efs flag: the shell cannot reach /efs, so
# the recipe does not claim a fix and says root (or a reflash) is needed.
if start sefs --model samsung/galaxy-s22 --fault factory-mode:efs; then
  run_recipe sefs factory-mode-exit --yes
  expect sefs "exit code" "$RUN_RC" 1
  expect sefs "still-factory-mode" "$(outcome_of sefs still-factory-mode)" not-fixed
  if report_text sefs | grep -q "root"; then ok "sefs: report says root is needed"; else bad "sefs: report says root is needed"; fi
  expect sefs "user data unchanged" "$(sim_status "$WORK/sefs" user_data_sha256)" "$BEFORE_SHA"
  sim_stop "$SIM_PID"
fi

# Xiaomi: CIT starts at boot.
if start cit --fault factory-mode; then
  run_recipe cit factory-mode-exit --yes
  repaired cit efs-flags nothing-found test-app-data fixed still-factory-mode nothing-found
  sim_stop "$SIM_PID"
fi

# A volume key held down: no software fix; the report names the key.
if start key --fault factory-mode:stuck-key; then
  run_recipe key factory-mode-exit --yes
  expect key "exit code" "$RUN_RC" 1
  expect key "still-factory-mode" "$(outcome_of key still-factory-mode)" not-fixed
  if report_text key | grep -q "volume key"; then ok "key: report names a stuck volume key"; else bad "key: report names a stuck volume key"; fi
  expect key "user data unchanged" "$(sim_status "$WORK/key" user_data_sha256)" "$BEFORE_SHA"
  sim_stop "$SIM_PID"
fi

# --dry-run: found, nothing changed.
if start dry --fault factory-mode; then
  run_recipe dry factory-mode-exit --dry-run
  expect dry "exit code" "$RUN_RC" 1
  untouched dry
  expect dry "test-app-data planned" "$(outcome_of dry test-app-data)" planned
  sim_stop "$SIM_PID"
fi

# A healthy phone.
if start healthy --model samsung/galaxy-s22 --rooted; then
  run_recipe healthy factory-mode-exit --yes
  expect healthy "exit code" "$RUN_RC" 0
  untouched healthy
  expect healthy "every step found nothing" "$(outcomes healthy | awk '$2 != "nothing-found"' | wc -l)" 0
  sim_stop "$SIM_PID"
fi

finish
