#!/usr/bin/env bash
# Unit tests of the recipes' pure helpers (recipes/lib/parse.lua and
# diskstats.lua) under plain
# Lua 5.4, on outputs in the formats the phone's shell prints (AOSP
# PackageManagerShellCommand, dumpsys package/diskstats/dropbox/account,
# logcat threadtime, toybox df). Each check is one assertion in Lua; the Lua
# side prints "ok - NAME" / "FAIL - NAME" and the totals.
set -u
DF_SOURCE_DIR=${DF_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LUA=${LUA:-$(command -v lua5.4 || command -v lua)}
if [ -z "$LUA" ]; then
  echo "lua5.4 is not installed (apt-get install lua5.4)"
  echo "0 passed, 1 failed"
  exit 1
fi
cd "$DF_SOURCE_DIR"
exec "$LUA" - <<'EOF'
package.path = "recipes/lib/?.lua;" .. package.path
local parse = require("parse")
local passed, failed = 0, 0
local function check(name, cond, detail)
  if cond then
    passed = passed + 1
    print("ok - " .. name)
  else
    failed = failed + 1
    print("FAIL - " .. name .. (detail and (": " .. tostring(detail)) or ""))
  end
end

-- pm list packages, with -f paths holding '='
local names, set = parse.packages("package:com.whatsapp\npackage:org.telegram.messenger\n\n")
check("packages names", #names == 2 and names[1] == "com.whatsapp" and set["org.telegram.messenger"])
names = parse.packages("package:/data/app/~~Ab3x==/com.spotify.music-Zq==/base.apk=com.spotify.music\n"
  .. "package:/system/priv-app/Shell/Shell.apk=com.android.shell uid:2000\n")
check("packages -f keeps the name after the last '='", names[1] == "com.spotify.music", names[1])
check("packages -f -U drops the uid", names[2] == "com.android.shell", names[2])
check("packages empty", #parse.packages("") == 0)

-- timestamps
check("timestamp epoch", parse.timestamp("1970-01-01 00:00:00") == 0)
check("timestamp 2024-02-29", parse.timestamp("2024-02-29 12:00:00") == 1709208000, parse.timestamp("2024-02-29 12:00:00"))
check("timestamp bad", parse.timestamp("yesterday") == nil)

-- dumpsys package
local dp = [[
Dexopt state:
Packages:
  Package [com.android.vending] (1a2b3c4):
    userId=10150
    versionCode=83951830 minSdk=28 targetSdk=34
    versionName=39.5.18-31 [0] [PR] 612345678
    flags=[ SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]
    firstInstallTime=2024-01-05 10:15:00
    lastUpdateTime=2024-03-01 08:00:00
    User 0: ceDataInode=1234 installed=true hidden=false suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=3 instant=false virtual=false
      lastDisabledCaller: com.android.shell
Hidden system packages:
  Package [com.android.vending] (5d6e7f8):
    versionName=8.0.71.M-all [0] [PR] 275000000
]]
local info = parse.package_info(dp, "com.android.vending")
check("package versionName", info and info.version_name == "39.5.18-31 [0] [PR] 612345678", info and info.version_name)
check("package versionCode", info and info.version_code == 83951830)
check("package system flag", info and info.system == true)
check("package enabled state", info and info.enabled == 3)
check("package disabled by", info and info.disabled_by == "com.android.shell")
check("package first install", info and info.first_install == parse.timestamp("2024-01-05 10:15:00"))
check("package ignores the hidden system copy", info and not info.version_name:find("^8"))
check("package unknown", parse.package_info("Dexopt state:\n  Unable to find package: x.y\n", "x.y") == nil)
check("version major", parse.version_major("39.5.18-31 [0]") == 39 and parse.version_major("8.0.71.M-all") == 8)
check("version major none", parse.version_major("") == nil)

-- df
local df = parse.df([[
Filesystem        1K-blocks      Used Available Use% Mounted on
/dev/block/dm-48  236978176 236670976    307200 100% /data
]], "/data")
check("df avail", df and df.avail == 307200 * 1024, df and df.avail)
check("df total", df and df.total == 236978176 * 1024)
check("df use%", df and df.use_pct == 100)
check("df other mount", parse.df("Filesystem 1K-blocks Used Available Use% Mounted on\n", "/data") == nil)

-- settings
check("setting value", parse.setting("0\n") == "0")
check("setting null", parse.setting("null\n") == nil)

-- diskstats, as DiskStatsService prints it: Data-Free in KiB, the cached
-- per-package lists in bytes (App Data Sizes include the cache).
local ds = parse.diskstats([[
Latency: 0ms [512B Data Write]
Data-Free: 307200K / 236978176K total = 0% free
File-based Encryption: true
App Size: 125829120
App Data Size: 12347245174
App Cache Size: 9930014720
Photos Size: 0
Videos Size: 0
Audio Size: 0
Downloads Size: 0
System Size: 44023414784
Other Size: 0
Package Names: ["com.android.vending","com.spotify.music","com.whatsapp"]
App Sizes: [0,41943040,41943040]
App Data Sizes: [352321805,9747562496,1415708830]
Cache Sizes: [251658343,9663676416,157286400]
]])
check("diskstats free (KiB -> bytes)", ds and ds.free == 307200 * 1024, ds and ds.free)
check("diskstats total (KiB -> bytes)", ds and ds.total == 236978176 * 1024)
check("diskstats free as people read it", ds and parse.human(ds.free) == "300 MB" and parse.human(ds.total) == "226 GB",
  ds and (parse.human(ds.free) .. " / " .. parse.human(ds.total)))
check("diskstats cache (bytes)", ds and ds.packages["com.spotify.music"].cache == 9 * 1024 * 1024 * 1024)
check("diskstats cache as people read it", ds and parse.human(ds.packages["com.spotify.music"].cache) == "9.0 GB")
check("diskstats data (bytes, cache included)", ds and ds.packages["com.whatsapp"].data == 1415708830
  and ds.packages["com.whatsapp"].data >= ds.packages["com.whatsapp"].cache)
check("diskstats app size", ds and ds.packages["com.spotify.music"].app == 41943040)
local big = parse.largest(ds, "cache", 2)
check("largest caches", #big == 2 and big[1].name == "com.spotify.music" and big[2].name == "com.android.vending")
check("diskstats garbage", parse.diskstats("Can't find service: diskstats\n") == nil)
check("diskstats without the cached lists", (function()
  local d = parse.diskstats("Data-Free: 1024K / 2048K total = 50% free\n")
  return d and d.free == 1024 * 1024 and next(d.packages) == nil
end)())

-- accounts
local acc = parse.accounts("User UserInfo{0:Owner:c13}:\n  Accounts: 2\n    Account {name=a@gmail.com, type=com.google}\n    Account {name=612, type=com.xiaomi}\n")
check("accounts", #acc == 2 and acc[1].type == "com.google" and acc[2].name == "612")

-- logcat threadtime
local log = parse.logcat([[
--------- beginning of main
10-20 15:23:25.003  3001  3001 W Finsky  : [2] DownloadQueue: 2 downloads pending, none running
10-20 15:23:25.703  3002  3002 W DownloadManager: [12] Download 2 waiting: queued for network
]])
check("logcat entries", #log == 2)
check("logcat tag and msg", log[1].tag == "Finsky" and log[1].msg:find("downloads pending") ~= nil and log[1].prio == "W")
check("logcat tag without padding", log[2].tag == "DownloadManager" and log[2].msg:find("^%[12%]") ~= nil, log[2].tag)
check("logcat buffer", log[1].buffer == "main")
check("grep_log", #parse.grep_log(log, "Finsky", "pending") == 1 and #parse.grep_log(log, nil, "waiting") == 1)

-- logcat crash buffer
local crashes = parse.logcat_crashes([[
--------- beginning of crash
10-20 15:23:26.500  4100  4100 E AndroidRuntime: FATAL EXCEPTION: main
10-20 15:23:26.500  4100  4100 E AndroidRuntime: Process: android.process.media, PID: 4100
10-20 15:23:26.500  4100  4100 E AndroidRuntime: java.lang.RuntimeException: Unable to get provider com.android.providers.downloads.DownloadProvider: android.database.sqlite.SQLiteDatabaseCorruptException: database disk image is malformed (code 11 SQLITE_CORRUPT)
10-20 15:23:26.500  4100  4100 E AndroidRuntime: 	at android.app.ActivityThread.installProvider(ActivityThread.java:7690)
10-20 15:23:26.500  4100  4100 E AndroidRuntime: Caused by: android.database.sqlite.SQLiteDatabaseCorruptException: database disk image is malformed (code 11 SQLITE_CORRUPT)
10-20 15:23:27.600  4101  4101 E AndroidRuntime: FATAL EXCEPTION: main
10-20 15:23:27.600  4101  4101 E AndroidRuntime: Process: com.google.android.providers.media.module, PID: 4101
10-20 15:23:27.600  4101  4101 E AndroidRuntime: java.lang.RuntimeException: Unable to get provider com.android.providers.media.MediaProvider
]])
check("crashes count", #crashes == 2, #crashes)
check("crash process", crashes[1].process == "android.process.media" and crashes[2].process == "com.google.android.providers.media.module")
check("crash exception", crashes[1].exception:find("^java.lang.RuntimeException") ~= nil)
check("crash cause", crashes[1].cause and crashes[1].cause:find("SQLiteDatabaseCorruptException") ~= nil, crashes[1].cause)
check("crash cause falls back to the exception", crashes[2].cause and crashes[2].cause:find("^java.lang.RuntimeException") ~= nil)
check("no crashes", #parse.logcat_crashes("") == 0)

-- dropbox --print
local db = parse.dropbox([[
Drop box contents: 2 entries
Max entries: 1000
Searching for: system_app_crash

========================================
2025-10-20 15:23:26 system_app_crash (text, 812 bytes)
Process: android.process.media
PID: 4100
UID: 10053
Flags: 0x38c83e45
Package: com.android.providers.downloads v34 (14)
Foreground: No
Process-Runtime: 1840
Build: Xiaomi/vermeer/vermeer:14/UKQ1.230804.001/V816.0.8.0.UNKCNXM:user/release-keys
Loading-Progress: 1.0
Dropped-Count: 0

java.lang.RuntimeException: Unable to get provider com.android.providers.downloads.DownloadProvider
	at android.app.ActivityThread.installProvider(ActivityThread.java:7690)
Caused by: android.database.sqlite.SQLiteDatabaseCorruptException: database disk image is malformed

========================================
2025-10-20 15:23:27 system_app_crash (text, 700 bytes)
Process: com.google.android.providers.media.module
Package: com.google.android.providers.media.module v340818000 (340818000)

java.lang.RuntimeException: Unable to get provider com.android.providers.media.MediaProvider
]])
check("dropbox entries", #db == 2, #db)
check("dropbox process and package", db[1].process == "android.process.media" and db[1].package == "com.android.providers.downloads")
check("dropbox version", db[1].version_code == 34 and db[1].version_name == "14")
check("dropbox tag and time", db[1].tag == "system_app_crash" and db[1].time == parse.timestamp("2025-10-20 15:23:26"))
check("dropbox exception and cause", db[1].exception:find("DownloadProvider") ~= nil and db[1].cause:find("Corrupt") ~= nil)
check("dropbox second", db[2].package == "com.google.android.providers.media.module" and db[2].exception:find("MediaProvider") ~= nil)
check("dropbox empty", #parse.dropbox("Drop box contents: 0 entries\nMax entries: 1000\n\n") == 0)

-- focused activity
local act = [[
ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)
Display #0 (activities from top to bottom):
  * Task{4b1d2c3 #12 type=standard A=com.miui.cit U=0 visible=true mode=fullscreen}
    topResumedActivity=ActivityRecord{7c6e2b1 u0 com.miui.cit/.home.CitLauncherActivity t12}
  mFocusedApp=ActivityRecord{7c6e2b1 u0 com.miui.cit/.home.CitLauncherActivity t12}
]]
check("focused activity", parse.focused_activity(act) == "com.miui.cit/.home.CitLauncherActivity", parse.focused_activity(act))
check("focused activity (Android 10 mResumedActivity)",
  parse.focused_activity("    mResumedActivity: ActivityRecord{1f2e u0 com.sem.factoryapp/.FactoryTestMainActivity t3}\n")
    == "com.sem.factoryapp/.FactoryTestMainActivity")
check("focused activity none", parse.focused_activity("nothing\n") == nil)

-- help, sizes, durations
check("help has --cache-only", parse.help_has("  clear [--user USER_ID] [--cache-only] PACKAGE", "--cache-only"))
check("help lacks --cache-only", not parse.help_has("  clear [--user USER_ID] PACKAGE", "--cache-only"))
check("human", parse.human(300 * 1024 * 1024) == "300 MB" and parse.human(1536 * 1024 * 1024) == "1.5 GB" and parse.human(10) == "10 B")
check("duration", parse.duration(-400 * 86400) == "400 days" and parse.duration(90) == "90 s")

-- recipes/lib/diskstats.lua: the DiskStats job's last run in `dumpsys
-- jobscheduler` text as AOSP JobSchedulerService.dumpInternal and
-- JobStatus.dump print it (the job's "JOB #1000/1145656139: ..." block;
-- other jobs' runs are not taken), and how ages are worded.
local ds = require("diskstats")

local dump = [[
Started users: [0]
Registered 3 jobs:
  JOB #1000/808: 1a2b3c4 android/com.android.server.pm.BackgroundDexOptService
    1000 tag=*job*/android/com.android.server.pm.BackgroundDexOptService
    Source: uid=1000 user=0 pkg=android
    Last successful run: 2026-11-20 03:00:00
  JOB #1000/1145656139: 5e1c0a2 android/com.android.server.storage.DiskStatsLoggingService
    1000 tag=*job*/android/com.android.server.storage.DiskStatsLoggingService
    Source: uid=1000 user=0 pkg=android
    JobInfo:
      Service: android/com.android.server.storage.DiskStatsLoggingService
      PERIODIC: interval=+1d0h0m0s0ms flex=+1d0h0m0s0ms
    Required constraints: CHARGING IDLE [0x5]
    Last successful run: 2026-11-24 02:14:09
    Last failed run: 2026-11-24 01:00:00
  JOB #u0a150/7: 9f8e7d6 com.android.vending/com.google.android.finsky.scheduler.JobSchedulerEngine$PhoneskyJobSchedulerJobService
    Last successful run: 2026-11-24 23:00:00

Active jobs:
  Slot #0: inactive
]]
check("last run of the DiskStats job", ds.last_run(dump) == "2026-11-24 02:14:09", ds.last_run(dump))
local never = dump:gsub("    Last successful run: 2026%-11%-24 02:14:09\n", "")
check("no run of it since boot: nil, not another job's run", ds.last_run(never) == nil, ds.last_run(never))
check("no such job (an OEM without it)", ds.last_run("Started users: [0]\nRegistered 0 jobs:\n  None.\n") == nil)
check("empty", ds.last_run("") == nil)
local running = [[
Registered 1 jobs:
  JOB #1000/1145656139: 5e1c0a2 android/com.android.server.storage.DiskStatsLoggingService
    Source: uid=1000 user=0 pkg=android

Active jobs:
  Slot #0: 5e1c0a2 #1000/1145656139 android/com.android.server.storage.DiskStatsLoggingService
    Running for: +1s200ms
    Last successful run: 2026-11-24 23:59:01
]]
check("the run in the active slot counts too", ds.last_run(running) == "2026-11-24 23:59:01", ds.last_run(running))
check("job id as part of a longer number is not it",
  ds.last_run("  JOB #1000/11456561390: x android/com.android.server.storage.DiskStatsLoggingService\n"
    .. "    Last successful run: 2026-11-24 00:00:00\n") == nil)

check("age words: seconds", ds.age_words(12) == "less than a minute")
check("age words: minutes", ds.age_words(125) == "2 min", ds.age_words(125))
check("age words: hours", ds.age_words(3 * 3600 + 100) == "3 h", ds.age_words(3 * 3600 + 100))
check("age words: days", ds.age_words(2 * 86400 + 5) == "2 days", ds.age_words(2 * 86400 + 5))
check("age words: a float from the host clock", ds.age_words(61.7) == "1 min", ds.age_words(61.7))
check("note with an age", ds.note(7200) == "Android's storage count from 2 h ago", ds.note(7200))
check("note without", ds.note(nil):find("of unknown age", 1, true) ~= nil)
check("the command forces the job", ds.RUN == "cmd jobscheduler run -f android 1145656139")

print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
EOF
