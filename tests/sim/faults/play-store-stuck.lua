-- "Play Store stuck on downloading / download pending". Causes a scenario
-- picks (DOMAIN.md lists what guides name): a stale download queue, the
-- Download Manager disabled, the clock far off with automatic time off,
-- storage nearly full, an outdated Play Store, a very large download, an
-- account whose sign-in fails. Finsky's log lines are the sim's wording
-- (the Play Store's real messages are not public). The fault clears at a boot
-- where no cause is left. A stale queue cleared while another cause is still
-- there fills up again at the next boot; an outdated Play Store updates
-- itself at a boot where nothing else blocks downloads.
-- The default mix is fixable without losing user data: automatic time on,
-- pm trim-caches (caches only), clearing the Play Store's cache, reboot.
local GiB, MiB = 1024 * 1024 * 1024, 1024 * 1024
local PENDING = "download queue (stale)\ncom.whatsapp 2.24.2.76 PENDING\ncom.spotify.music 8.9.8.545 PENDING\n"
local pending_log = {
  { prio = "W", tag = "Finsky", msg = "[2] DownloadQueue: 2 downloads pending, none running" },
}
return {
  summary = "Play Store downloads stay pending",
  scenarios = {
    default = { "stale-queue-cache", "clock", "storage" },
    all = { "stale-queue-cache", "stale-queue-data", "dm-queue", "dm-disabled", "clock", "storage", "outdated" },
    ["queue-only"] = { "stale-queue-cache" },
    -- The account's sign-in fails on Google's side: nothing on the phone
    -- droidfix can clear fixes it; another Google account is what is left.
    account = { "account-auth" },
    -- A 21 GB game waits for space that trimming caches cannot make.
    ["large-download"] = { "large-download" },
  },
  causes = {
    ["account-auth"] = {
      summary = "the Google account's sign-in fails (BadAuthentication): only another account helps",
      -- The failing sign-in is kept in Play services' data (a stand-in
      -- file; no recipe clears Play services' data), not in AccountsDb's
      -- accounts_ce.db: droidfix-sim rewrites that file from the phone's
      -- accounts at every boot (phone_appdata.c), which would clear this
      -- cause at the first reboot.
      setup = {
        { write = "/data/data/com.google.android.gms/databases/auth_tokens.db",
          content = "SQLite format 3\0authtokens: com.google alex.rivera.sim@gmail.com androidmarket BadAuthentication\n",
          owner = "package:com.google.android.gms", mode = "0660" },
      },
      present = { { file_contains = "/data/data/com.google.android.gms/databases/auth_tokens.db", text = "BadAuthentication" } },
      log = {
        pending_log[1],
        { prio = "W", tag = "Finsky", msg = "[2] Auth: token refresh failed for account [hashed 3fa1c0]: BadAuthentication" },
      },
    },
    ["large-download"] = {
      summary = "a 21 GB game waits for space; caches are not enough",
      setup = { { fill_other_leave_free = 6 * GiB } },
      present = { { data_free_below = 21 * GiB + 400 * MiB } },
      log = {
        pending_log[1],
        { prio = "W", tag = "Finsky",
          msg = "[2] Insufficient storage to download com.miHoYo.GenshinImpact: 22976204800 bytes needed" },
      },
    },
    ["stale-queue-cache"] = {
      summary = "the Play Store's cache holds a stale download queue",
      renew_while_others = true,
      setup = {
        { write = "/data/data/com.android.vending/cache/main/download_queue", content = PENDING,
          owner = "package:com.android.vending", mode = "0600" },
      },
      present = { { file_exists = "/data/data/com.android.vending/cache/main/download_queue" } },
      log = pending_log,
    },
    ["stale-queue-data"] = {
      summary = "the Play Store's data holds a stale download queue",
      renew_while_others = true,
      setup = {
        { write = "/data/data/com.android.vending/databases/download_queue.db",
          content = "SQLite format 3\0" .. PENDING, owner = "package:com.android.vending", mode = "0660" },
      },
      present = { { file_exists = "/data/data/com.android.vending/databases/download_queue.db" } },
      log = pending_log,
    },
    ["dm-queue"] = {
      summary = "the Download Manager's queue holds stuck downloads",
      renew_while_others = true,
      setup = {
        { write = "/data/data/com.android.providers.downloads/databases/downloads.db",
          content = "SQLite format 3\0downloads: 2 rows STATUS_PENDING (190) from com.android.vending\n",
          owner = "package:com.android.providers.downloads", mode = "0660" },
      },
      present = {
        { file_contains = "/data/data/com.android.providers.downloads/databases/downloads.db", text = "STATUS_PENDING" },
      },
      log = { { prio = "W", tag = "DownloadManager", msg = "[12] Download 2 waiting: queued for network" } },
    },
    ["dm-disabled"] = {
      summary = "the Download Manager is disabled",
      setup = { { package = "com.android.providers.downloads", enabled = 3 } },
      present = { { package_disabled = "com.android.providers.downloads" } },
      log = { { prio = "E", tag = "Finsky", msg = "[2] DownloadManager: provider com.android.providers.downloads is disabled" } },
    },
    clock = {
      summary = "the clock is 400 days behind and automatic time is off",
      setup = {
        { setting = "global/auto_time", value = "0" },
        { clock_offset = -400 * 86400 },
      },
      present = {
        { setting = "global/auto_time", equals = "0" },
        { clock_skew_over = 600 },
      },
      log = { { prio = "W", tag = "Finsky", msg = "[2] SSL handshake failed: certificate not yet valid (device clock wrong?)" } },
    },
    storage = {
      -- Photos and videos fill /data to 300 MB free, and Spotify's
      -- streaming cache has grown to 9 GB: trimming caches gets the space
      -- back, the user's files stay.
      summary = "/data is nearly full (media, and a 9 GB app cache)",
      setup = { { package = "com.spotify.music", cache_bytes = 9 * GiB }, { fill_other_leave_free = 300 * MiB } },
      present = { { data_free_below = 1 * GiB } },
      log = { { prio = "W", tag = "Finsky", msg = "[2] Insufficient storage to download com.whatsapp" } },
    },
    outdated = {
      summary = "the Play Store is far out of date",
      heals_when_alone = true,
      setup = { { package = "com.android.vending", version_code = 80071300,
                  version_name = "8.0.71.M-all [0] [PR] 275000000" } },
      heal = { { package = "com.android.vending", version_code = 83951830,
                 version_name = "39.5.18-31 [0] [PR] 612345678" } },
      present = { { package = "com.android.vending", version_code_below = 83000000 } },
      log = { { prio = "W", tag = "Finsky", msg = "[2] SelfUpdate: update required before downloads can start" } },
    },
  },
}
