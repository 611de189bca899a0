-- Android's storage count: the per-app sizes `dumpsys diskstats` prints come
-- from /data/system/diskstats_cache.json, which DiskStatsLoggingService
-- writes about once a day while the phone is idle and charging; the dump
-- never says how old they are. This module finds their age from the job's
-- "Last successful run" in `dumpsys jobscheduler` (read-only), asks Android
-- to count again with `cmd jobscheduler run -f` (app-data: a fix() only, the
-- risk gate refuses it elsewhere), and words the sizes with their age.
-- Facts from AOSP frameworks/base: storage/DiskStatsLoggingService.java
-- (job id 0x4449534b, component android/.storage.DiskStatsLoggingService,
-- not persisted, so JobScheduler forgets its runs at a reboot; it writes
-- nothing unless the phone is charging), job/JobSchedulerShellCommand.java
-- ("Running job [FORCED]"; errors on stderr), job/controllers/
-- JobStatus.dump ("Last successful run: yyyy-MM-dd HH:mm:ss", local time).
-- The pure parts (last_run, age_words) take text and numbers only.
local parse = require("parse")
local phone = require("phone")

local M = {}

M.JOB_ID = 1145656139 -- 0x4449534b, "DISK"
M.RUN = "cmd jobscheduler run -f android " .. M.JOB_ID
M.DAY = 86400

---The DiskStats job's "Last successful run" ("2026-11-24 23:40:25") in
---`dumpsys jobscheduler [android]` text, or nil (no run since the phone
---started, or no such job on this Android).
function M.last_run(text)
  local in_job = false
  for _, l in ipairs(parse.lines(text)) do
    if l:match("^%S") then
      in_job = false
    elseif l:match("^%s+JOB #") or l:match("^%s+Slot #%d+: ") or l:match("^%s+Pending #%d+: ") then
      in_job = l:find("/" .. M.JOB_ID .. "[:%s]") ~= nil and l:find("DiskStatsLoggingService", 1, true) ~= nil
    elseif in_job then
      local t = l:match("^%s+Last successful run: (%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d)")
      if t then return t end
    end
  end
  return nil
end

---"less than a minute", "5 min", "3 h", "2 days" for an age in seconds.
function M.age_words(s)
  s = math.floor(s)
  if s < 60 then return "less than a minute" end
  if s < 90 * 60 then return string.format("%d min", (s + 30) // 60) end
  if s < 36 * 3600 then return string.format("%d h", (s + 1800) // 3600) end
  return string.format("%d days", (s + 43200) // 86400)
end

---Seconds since Android last counted (its local clock against the job's
---last run, both local time), or nil when that is unknown.
function M.age(dev)
  local last = M.last_run(phone.sh(dev, "dumpsys jobscheduler android"))
  if last == nil then return nil end
  local now = parse.timestamp(parse.trim(phone.sh(dev, "date '+%Y-%m-%d %H:%M:%S'")))
  local t = parse.timestamp(last)
  if now == nil or t == nil then return nil end
  return math.max(0, now - t)
end

---How the sizes are to be read, for age (seconds or nil):
---"Android's storage count from 3 h ago" or "..., of unknown age: ...".
function M.note(age)
  if age == nil then
    return "Android's storage count, of unknown age: it counts about once a day while charging, "
      .. "not since the phone started"
  end
  return "Android's storage count from " .. M.age_words(age) .. " ago"
end

---Asks Android to count again (fix() only) and waits until JobScheduler
---shows a newer successful run, up to timeout_s (60). Returns true, or
---false and why.
function M.recount(dev, timeout_s)
  local before = M.last_run(phone.sh(dev, "dumpsys jobscheduler android"))
  local out, exit, err = phone.sh(dev, M.RUN)
  if exit ~= 0 or not out:find("Running job", 1, true) then
    return false, "`" .. M.RUN .. "` answered: " .. parse.trim(err ~= "" and err or out)
  end
  -- A wait of up to a minute: say what it is for.
  df.step("Waiting for Android to count app sizes again (up to %d s)", timeout_s or 60)
  local deadline = df.host_time() + (timeout_s or 60)
  repeat
    df.sleep(500)
    local last = M.last_run(phone.sh(dev, "dumpsys jobscheduler android"))
    if last ~= nil and last ~= before then return true end
  until df.host_time() >= deadline
  return false, string.format("Android did not finish counting within %d s (it counts only while the "
    .. "phone charges)", timeout_s or 60)
end

---Recounts when the count is older than max_age (M.DAY) or of unknown age.
---Returns the count's age afterwards (0 when recounted, else as found, nil
---unknown) and a sentence for the report.
function M.refresh(dev, max_age)
  local age = M.age(dev)
  if age ~= nil and age <= (max_age or M.DAY) then
    return age, nil
  end
  local ok, why = M.recount(dev)
  if ok then
    return 0, "Android counted app sizes again (its count was "
      .. (age and (M.age_words(age) .. " old") or "of unknown age") .. ")"
  end
  return age, "Android could not count app sizes again: " .. why
end

---"a 1.2 GB, b 300 MB (NOTE)": the n largest of field ("data" or "cache")
---in the count, or that there is no count yet.
function M.largest(dev, field, n, age)
  local ds = phone.diskstats(dev)
  local big = {}
  for _, p in ipairs(parse.largest(ds, field, n)) do big[#big + 1] = p.name .. " " .. parse.human(p.bytes) end
  if #big == 0 then return "not counted yet (Android counts app sizes about once a day while charging)" end
  return table.concat(big, ", ") .. " (" .. M.note(age) .. ")"
end

---" (N by NOTE)" for one package's field, or "" when the count lacks it.
function M.size_note(dev, pkg, field, age)
  local s = phone.diskstats(dev).packages[pkg]
  if s == nil or s[field] == nil then return "" end
  return " (" .. parse.human(s[field]) .. " by " .. M.note(age) .. ")"
end

return M
