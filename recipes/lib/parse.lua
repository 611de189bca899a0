-- Pure parsers for what an Android phone's shell prints: `pm list packages`,
-- `dumpsys package` (versionName, install times, enabled state), `df /data`,
-- `settings get`, `dumpsys diskstats`, `dumpsys content` (master sync),
-- `dumpsys account`, logcat's threadtime
-- lines, crash records (logcat's crash buffer and dropbox entries) and the
-- focused activity. No device calls here: every function takes text and
-- returns tables, so tests/e2e/test_recipe_lib.sh runs them under plain Lua.
-- Formats: AOSP frameworks/base PackageManagerShellCommand (runList),
-- ComputerEngine.dumpPackagesLPr, DiskStatsService, SyncManager.dumpSyncState,
-- DropBoxManagerService,
-- AccountManagerService.dumpUser, RuntimeInit (FATAL EXCEPTION), toybox df.
local M = {}

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end
M.trim = trim

local function lines(text)
  local out = {}
  for l in ((text or "") .. "\n"):gmatch("(.-)\r?\n") do
    out[#out + 1] = l
  end
  return out
end
M.lines = lines

---`pm list packages [-f] [-U] [-i]` -> list of names (in order) and a set.
---@return string[] names, table<string, boolean> set
function M.packages(text)
  local names, set = {}, {}
  for _, l in ipairs(lines(text)) do
    local rest = l:match("^package:(%S+)")
    if rest then
      -- With -f the path comes first: "package:/path/base.apk=name"; a
      -- path may hold '=' itself (/data/app/~~xyz==/...), the name never.
      local name = rest:match("=([^=]+)$") or rest
      if not set[name] then
        names[#names + 1] = name
        set[name] = true
      end
    end
  end
  return names, set
end

-- Days from 1970-01-01 to a civil date (Howard Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

---"2024-01-05 10:15:00" -> seconds since the epoch, read as UTC (dumpsys
---prints the phone's local time; the error is the phone's UTC offset).
function M.timestamp(s)
  local y, mo, d, h, mi, se = (s or ""):match("(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d):(%d%d)")
  if not y then return nil end
  return days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end

---`dumpsys package NAME` -> the first "Package [NAME]" block's facts, or nil
---when the package is not there. Fields: version_name, version_code,
---first_install, last_update (epoch seconds), enabled (integer state of
---user 0: 0 default, 1 enabled, 2 disabled, 3 disabled-user, 4 until used),
---system (FLAG_SYSTEM), disabled_by (lastDisabledCaller).
function M.package_info(text, name)
  local info, inside = nil, false
  for _, l in ipairs(lines(text)) do
    local pkg = l:match("^%s*Package %[([^%]]+)%]")
    if pkg then
      if info then break end -- the next package (or a hidden system copy)
      if name == nil or pkg == name then
        info = { name = pkg }
        inside = true
      end
    elseif inside then
      local vn = l:match("^%s*versionName=(.*)$")
      if vn and not info.version_name then info.version_name = trim(vn) end
      local vc = l:match("^%s*versionCode=(%d+)")
      if vc and not info.version_code then info.version_code = tonumber(vc) end
      local fi = l:match("^%s*firstInstallTime=(.*)$")
      if fi then info.first_install = M.timestamp(fi) end
      local lu = l:match("^%s*lastUpdateTime=(.*)$")
      if lu then info.last_update = M.timestamp(lu) end
      local flags = l:match("^%s*flags=%[(.*)%]")
      if flags then info.system = flags:find("%f[%w]SYSTEM%f[%W]") ~= nil end
      local en = l:match("^%s*User 0:.-%senabled=(%d+)")
      if en then info.enabled = tonumber(en) end
      local by = l:match("^%s*lastDisabledCaller:%s*(%S+)")
      if by then info.disabled_by = by end
    end
  end
  return info
end

---The major number of a versionName ("39.5.18-31 [0] [PR] 612345678" -> 39).
function M.version_major(version_name)
  local n = (version_name or ""):match("^%s*(%d+)")
  return n and tonumber(n) or nil
end

---`df PATH` (toybox, 1K-blocks) -> { total=, used=, avail= (bytes), use_pct=,
---mount= } for the row mounted on `mount` (default the last row), or nil.
function M.df(text, mount)
  local found
  for _, l in ipairs(lines(text)) do
    local fs, total, used, avail, pct, mnt = l:match("^(%S+)%s+(%d+)%s+(%d+)%s+(%d+)%s+(%d+)%%%s+(%S+)")
    if fs and (mount == nil or mnt == mount) then
      found = {
        filesystem = fs, total = tonumber(total) * 1024, used = tonumber(used) * 1024,
        avail = tonumber(avail) * 1024, use_pct = tonumber(pct), mount = mnt,
      }
    end
  end
  return found
end

---`settings get NS KEY` -> the value, or nil for "null" / nothing.
function M.setting(text)
  local v = trim(text or "")
  if v == "" or v == "null" then return nil end
  return v
end

-- "[a,b,c]" or "[\"x\",\"y\"]" -> list of strings.
local function list_of(s)
  local out = {}
  s = s or ""
  for item in s:gmatch("[^,]+") do
    out[#out + 1] = trim(item):gsub('^"', ""):gsub('"$', "")
  end
  return out
end

---`dumpsys diskstats` -> { free=, total= (bytes), free_pct=, cached=,
---packages = { [name] = { app=, data=, cache= } } } or nil when it has no
---Data-Free line. Units (DiskStatsService): "Data-Free: NK / NK total" is
---KiB, statfs of /data at the moment of the dump (live). The per-package
---lists are bytes read from /data/system/diskstats_cache.json, which
---DiskStatsLoggingService writes about once a day while the phone is idle
---and charging: they can be a day old or more, the dump does not say how
---old, and they are missing (cached = false, packages empty) until the job
---has run once (a new or just reset phone). So they are hints (which app is
---big), never proof that a clear worked. `data` is
---StorageStats.getDataBytes(), which includes the cache; `cache` is
---getCacheBytes().
function M.diskstats(text)
  local r = { packages = {} }
  local names, apps, datas, caches
  for _, l in ipairs(lines(text)) do
    local f, t, p = l:match("^Data%-Free:%s*(%d+)K%s*/%s*(%d+)K total = (%d+)%% free")
    if f then
      r.free, r.total, r.free_pct = tonumber(f) * 1024, tonumber(t) * 1024, tonumber(p)
    end
    names = names or l:match("^Package Names:%s*%[(.*)%]")
    apps = apps or l:match("^App Sizes:%s*%[(.*)%]")
    datas = datas or l:match("^App Data Sizes:%s*%[(.*)%]")
    caches = caches or l:match("^Cache Sizes:%s*%[(.*)%]")
  end
  if not r.free then return nil end
  r.cached = names ~= nil
  local n, a, d, c = list_of(names), list_of(apps), list_of(datas), list_of(caches)
  for i, name in ipairs(n) do
    r.packages[name] = { app = tonumber(a[i]) or 0, data = tonumber(d[i]) or 0, cache = tonumber(c[i]) or 0 }
  end
  return r
end

---The packages of a diskstats table sorted by field ("cache" or "data"),
---largest first: list of { name=, bytes= }, at most n.
function M.largest(ds, field, n)
  local v = {}
  for name, s in pairs(ds.packages) do
    if (s[field] or 0) > 0 then v[#v + 1] = { name = name, bytes = s[field] } end
  end
  table.sort(v, function(x, y)
    if x.bytes ~= y.bytes then return x.bytes > y.bytes end
    return x.name < y.name
  end)
  while #v > (n or #v) do v[#v] = nil end
  return v
end

---Master sync ("Automatically sync data") of a user from `dumpsys content`
---(SyncManager.dumpSyncState: "Auto sync: u0=true u10=false "; Android 7
---to 9 print "auto sync: u0=true"): true, false, or nil when the dump has
---no such line. AOSP has no shell command that reads or sets it.
function M.master_sync(text, user)
  user = user or 0
  for _, l in ipairs(lines(text)) do
    local rest = l:match("^[Aa]uto sync:%s*(.*)$")
    if rest then
      for u, v in rest:gmatch("u(%d+)=(%a+)") do
        if tonumber(u) == user then return v == "true" end
      end
      return nil
    end
  end
  return nil
end

---`dumpsys account` -> list of { name=, type= }.
function M.accounts(text)
  local out = {}
  for _, l in ipairs(lines(text)) do
    local name, typ = l:match("Account {name=(.-), type=(.-)}")
    if name then out[#out + 1] = { name = name, type = typ } end
  end
  return out
end

---logcat -v threadtime lines -> list of { date=, time=, pid=, tid=, prio=,
---tag=, msg= }. "--------- beginning of X" lines set `buffer` on the
---following entries.
function M.logcat(text)
  local out, buffer = {}, nil
  for _, l in ipairs(lines(text)) do
    local b = l:match("^%-%-%-%-%-%-%-%-%- beginning of (%S+)")
    if b then
      buffer = b
    else
      local date, time, pid, tid, prio, rest =
        l:match("^(%d%d%-%d%d)%s+(%d%d:%d%d:%d%d%.%d+)%s+(%d+)%s+(%d+)%s+([VDIWEFA])%s+(.*)$")
      if date then
        local tag, msg = rest:match("^(.-)%s*: (.*)$")
        if not tag then tag, msg = rest:match("^(.-)%s*:$"), "" end
        out[#out + 1] = {
          date = date, time = time, pid = tonumber(pid), tid = tonumber(tid), prio = prio,
          tag = tag or rest, msg = msg or "", buffer = buffer,
        }
      end
    end
  end
  return out
end

---The log entries whose tag is `tag` (or any when nil) and whose message
---matches the Lua pattern `pattern`.
function M.grep_log(entries, tag, pattern)
  local out = {}
  for _, e in ipairs(entries) do
    if (tag == nil or e.tag == tag) and (pattern == nil or e.msg:find(pattern)) then
      out[#out + 1] = e
    end
  end
  return out
end

-- The first "Caused by:" (else the first) exception line of a stack trace:
-- the most useful sentence about why it crashed.
local function cause_of(text_lines)
  local first, caused
  for _, l in ipairs(text_lines) do
    local ex = l:match("^%s*Caused by: (.*)$")
    if ex and not caused then caused = ex end
    if not first and (l:match("^[%w_.$]+Exception") or l:match("^[%w_.$]+Error")) then
      first = l
    end
  end
  return caused or first
end

---`logcat -d -b crash` -> list of crashes { process=, pid=, exception=,
---cause=, lines = {...} } from RuntimeInit's "FATAL EXCEPTION" blocks.
function M.logcat_crashes(text)
  local out, by_pid = {}, {}
  for _, e in ipairs(M.logcat(text)) do
    if e.tag == "AndroidRuntime" then
      if e.msg:match("^FATAL EXCEPTION") then
        local c = { pid = e.pid, lines = {} }
        out[#out + 1] = c
        by_pid[e.pid] = c
      else
        local c = by_pid[e.pid]
        if c then
          local proc, pid = e.msg:match("^Process: ([^,]+), PID: (%d+)")
          if proc then
            c.process = proc
          else
            c.lines[#c.lines + 1] = e.msg
          end
        end
      end
    end
  end
  for _, c in ipairs(out) do
    c.exception = c.lines[1]
    c.cause = cause_of(c.lines)
  end
  return out
end

---`dumpsys dropbox --print [TAG]` -> list of entries { when=, tag=, process=,
---package=, version_code=, version_name=, exception=, cause= }.
function M.dropbox(text)
  local out, cur = {}, nil
  local function close()
    if cur then
      cur.exception = cur.body[1]
      cur.cause = cause_of(cur.body)
      out[#out + 1] = cur
      cur = nil
    end
  end
  local in_body = false
  for _, l in ipairs(lines(text)) do
    local when, tag = l:match("^(%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d) (%S+) %(")
    if l:match("^=========") then
      close()
    elseif when then
      close()
      cur = { when = when, time = M.timestamp(when), tag = tag, body = {} }
      in_body = false
    elseif cur then
      local proc = l:match("^Process: (.*)$")
      local pkg, vc, vn = l:match("^Package: (%S+) v(%d+) %((.*)%)$")
      if not in_body and proc then
        cur.process = trim(proc)
      elseif not in_body and pkg then
        cur.package, cur.version_code, cur.version_name = pkg, tonumber(vc), vn
      elseif not in_body and l == "" and cur.process then
        in_body = true
      elseif in_body and l ~= "" then
        cur.body[#cur.body + 1] = l
      end
    end
  end
  close()
  return out
end

---The component in front from `dumpsys activity activities`
---("pkg/.Activity"), from mResumedActivity / topResumedActivity /
---ResumedActivity / mFocusedApp lines, or nil.
function M.focused_activity(text)
  for _, key in ipairs({ "topResumedActivity=", "mResumedActivity:", "ResumedActivity:", "mFocusedApp=" }) do
    for _, l in ipairs(lines(text)) do
      local i = l:find(key, 1, true)
      if i then
        local comp = l:sub(i):match("ActivityRecord{%x+ u%d+ (%S+)")
        if comp then return comp end
      end
    end
  end
  return nil
end

---True when a help text lists `option` (e.g. `pm help` and "--cache-only").
function M.help_has(text, option)
  return (text or ""):find(option, 1, true) ~= nil
end

---Bytes as people read them: "300 MB", "1.8 GB".
function M.human(bytes)
  bytes = bytes or 0
  local units = { "B", "KB", "MB", "GB", "TB" }
  local v, u = bytes, 1
  while v >= 1024 and u < #units do
    v = v / 1024
    u = u + 1
  end
  if u == 1 then return string.format("%d B", bytes) end
  if v < 10 then return string.format("%.1f %s", v, units[u]) end
  return string.format("%d %s", math.floor(v + 0.5), units[u])
end

---A duration in seconds as people read it: "400 days", "3 hours", "12 min".
function M.duration(s)
  s = math.abs(s)
  if s >= 2 * 86400 then return string.format("%d days", s // 86400) end
  if s >= 2 * 3600 then return string.format("%d hours", s // 3600) end
  if s >= 120 then return string.format("%d min", s // 60) end
  return string.format("%d s", s)
end

return M
