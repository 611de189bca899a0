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
# - space that trimming caches cannot free, taken by app data that grew after
#   Android's last storage count: the count (dumpsys diskstats) does not know
#   of it; after trimming, Android counts again (cmd jobscheduler run) and
#   the verdict names the app with its real size, from that count.
# All leave the user's data unchanged.
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

# ---- app data that grew after Android's storage count ----
# WhatsApp saves a 10 GiB video into its data after the sim's first-boot
# count (a file in the app's data folder, as the app would write it).
if start grown --fault play-store-stuck:storage; then
  VIDEO="$WORK/grown/fs/data/data/com.whatsapp/files/video.mp4"
  mkdir -p "$(dirname "$VIDEO")" && truncate -s 10G "$VIDEO"
  OLD_COUNT=$(cached_size grown com.whatsapp data)
  run_recipe grown play-store-stuck --yes
  expect grown "exit code (not fixed)" "$RUN_RC" 1
  expect grown "step storage" "$(outcome_of grown storage)" not-fixed
  WHATSAPP=$(cd "$DF_SOURCE_DIR" && BYTES=$(live_data grown com.whatsapp) lua5.4 -e 'package.path = "recipes/lib/?.lua;" .. package.path
print(require("parse").human(tonumber(os.getenv("BYTES"))))')
  VERDICT=$(step_field grown storage message)
  case "$VERDICT" in
    "still only "*" free after trimming caches; the largest app data: com.whatsapp $WHATSAPP"*"(Android's storage count from "*" ago) (free space by hand)")
      ok "grown: the verdict names com.whatsapp's real size ($WHATSAPP), from Android's new count" ;;
    *) bad "grown: the verdict names com.whatsapp's real size ($WHATSAPP), from Android's new count (got '$VERDICT')" ;;
  esac
  case "$(step_field grown storage fix_message)" in
    *"Android counted app sizes again (its count was of unknown age)"*) ok "grown: the fix says Android counted again" ;;
    *) bad "grown: the fix says Android counted again (got '$(step_field grown storage fix_message)')" ;;
  esac
  check "grown: the count before the run did not know of the video ($OLD_COUNT bytes)" test "$OLD_COUNT" -lt 10737418240
  # The user's video is kept (hashing all user data, 10 GiB here, would
  # take minutes: the other scenarios check the digest).
  expect grown "the video is kept" "$(stat -c %s "$VIDEO")" 10737418240
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
