#!/usr/bin/env bash
# Unit tests of recipes/lib/diskstats.lua's pure helpers under plain Lua
# 5.4: the DiskStats job's last run in `dumpsys jobscheduler` text as AOSP
# JobSchedulerService.dumpInternal and JobStatus.dump print it (the job's
# "JOB #1000/1145656139: ..." block; other jobs' runs are not taken), and
# how ages are worded. Each check is one assertion; the Lua side prints
# "ok - NAME" / "FAIL - NAME" and the totals.
set -u
DF_SOURCE_DIR=${DF_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LUA=${LUA:-$(command -v lua5.4 || command -v lua)}
if [ -z "$LUA" ]; then
  echo "lua5.4 is not installed (apt-get install lua5.4)"
  echo "0 passed, 1 failed"
  exit 1
fi
cd "$DF_SOURCE_DIR"
exec "$LUA" - <<'LUA'
package.path = "recipes/lib/?.lua;" .. package.path
local ds = require("diskstats")
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
LUA
