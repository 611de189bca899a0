#!/usr/bin/env bash
# recipes/play-store-stuck.lua, the paths where droidfix cannot finish the
# job and hands it to the person, end to end on droidfix-sim:
# - a 21 GB download waits for space that trimming caches cannot make
#   (fault play-store-stuck:large-download): the report gives the true sizes
#   and says to free space by hand or download smaller apps first; no
#   account change is suggested, since space still blocks every download;
# - the Google account's sign-in fails (play-store-stuck:account): after
#   every fix the last step asks for a new sign-in or another Google
#   account; droidfix cannot add one, so the fault stays and the run says so.
# Both leave the user's data unchanged.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"


step_field() {
  jq -r --arg s "$2" --arg f "$3" 'select(.event == "finished") | .report.steps[] | select(.id == $s) | .[$f] // ""' \
    "$WORK/$1.json"
}

# ---- a download larger than the free space ----
if start big --fault play-store-stuck:large-download; then
  FREE_BEFORE=$(sim_sizes "$WORK/big" | sed -n 1p)
  run_recipe big play-store-stuck --yes
  expect big "exit code (not fixed)" "$RUN_RC" 1
  expect big "step large-download" "$(outcome_of big large-download)" not-fixed
  expect big "found: the download's size and the free space are the sim's" \
    "$(step_field big large-download found_message)" \
    "the Play Store waits to download com.miHoYo.GenshinImpact, which needs 21 GB; only $FREE_BEFORE free on /data"
  FREE_AFTER=$(sim_sizes "$WORK/big" | sed -n 1p)
  case "$(step_field big large-download message)" in
    "still only $FREE_AFTER free after trimming caches, and com.miHoYo.GenshinImpact needs 21 GB: free space by hand"*"download smaller apps first"*)
      ok "big: the verdict gives the free space left and the way out" ;;
    *) bad "big: the verdict gives the free space left and the way out (got '$(step_field big large-download message)', free $FREE_AFTER)" ;;
  esac
  case "$(step_field big downloads-proceed fix_message)" in
    "no account change asked for: com.miHoYo.GenshinImpact needs 21 GB"*) ok "big: no other account suggested while space blocks" ;;
    *) bad "big: no other account suggested while space blocks (got '$(step_field big downloads-proceed fix_message)')" ;;
  esac
  expect big "fault still there" "$(sim_status "$WORK/big" faults)" play-store-stuck
  expect big "user data unchanged" "$(sim_status "$WORK/big" user_data_sha256)" "$BEFORE_SHA"
  expect big "phone in system mode" "$(sim_status "$WORK/big" mode)" system
  sim_stop "$SIM_PID"
fi

# ---- the account's sign-in fails: another account is what is left ----
if start acct --fault play-store-stuck:account; then
  run_recipe acct play-store-stuck --yes
  expect acct "exit code (not fixed)" "$RUN_RC" 1
  expect acct "step play-store-cache" "$(outcome_of acct play-store-cache)" fixed
  expect acct "step play-store-data (tried first)" "$(outcome_of acct play-store-data)" fixed
  expect acct "step downloads-proceed" "$(outcome_of acct downloads-proceed)" not-fixed
  case "$(step_field acct downloads-proceed fix_message)" in
    "the account's sign-in fails: asked for another Google account or a new sign-in"*) ok "acct: the fix names the sign-in failure" ;;
    *) bad "acct: the fix names the sign-in failure (got '$(step_field acct downloads-proceed fix_message)')" ;;
  esac
  if grep -q '"event":"say".*Remove account.*another Google account' "$WORK/acct.json"; then
    ok "acct: the person is told how (remove and add the account, or another one)"
  else
    bad "acct: the person is told how (remove and add the account, or another one)"
  fi
  case "$(step_field acct downloads-proceed message)" in
    *"sign-in still fails: sign in with another Google account"*) ok "acct: the verdict says another account" ;;
    *) bad "acct: the verdict says another account (got '$(step_field acct downloads-proceed message)')" ;;
  esac
  expect acct "fault still there (nobody added an account)" "$(sim_status "$WORK/acct" faults)" play-store-stuck
  expect acct "user data unchanged" "$(sim_status "$WORK/acct" user_data_sha256)" "$BEFORE_SHA"
  sim_stop "$SIM_PID"
fi

finish
