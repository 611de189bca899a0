-- Device helpers shared by the repair recipes: running shell commands (an
-- I/O failure raises, so the step fails with the message), reading packages,
-- settings, storage, master sync and crash records through
-- recipes/lib/parse.lua, root, clears with the live facts that prove them,
-- and rebooting with a wait until Android has finished booting. Everything
-- here talks to ctx.device; the parsing lives in parse.lua.
local parse = require("parse")

local M = {}

---Runs cmd; returns stdout, exit code, stderr. Raises on an I/O failure
---(the phone went away): the runner reports the step as failed with it.
function M.sh(dev, cmd)
  local r, msg, code = dev:shell(cmd)
  if not r then
    error(string.format("the phone did not answer `%s`: %s (%s)", cmd, tostring(msg), tostring(code)), 0)
  end
  return r.stdout or "", r.exit, r.stderr or ""
end

---True when cmd exits 0 (or the exit code is unknown and stderr is empty).
function M.ok(dev, cmd)
  local _, exit, err = M.sh(dev, cmd)
  if exit == nil then return err == "" end
  return exit == 0
end

---A property ("" when unset).
function M.prop(dev, name)
  local v, msg = dev:getprop(name)
  if v == nil then error("getprop " .. name .. ": " .. tostring(msg), 0) end
  return v
end

---The Android release as a number (14), or nil.
function M.android(dev)
  return tonumber((M.prop(dev, "ro.build.version.release"):match("^(%d+)")))
end

function M.sdk(dev)
  return tonumber(M.prop(dev, "ro.build.version.sdk"))
end

---True when `su` gives root (Magisk-style su -c). Production phones have no
---su: the shell says "inaccessible or not found".
function M.rooted(dev, ctx)
  if ctx and ctx.scratch.rooted ~= nil then return ctx.scratch.rooted end
  local out, exit = M.sh(dev, "su -c 'id -u' 2>/dev/null")
  local rooted = exit == 0 and parse.trim(out) == "0"
  if ctx then ctx.scratch.rooted = rooted end
  return rooted
end

---Installed packages: names (sorted as pm prints them) and a set. flags:
---"-3" third-party, "-d" disabled, "-s" system.
function M.packages(dev, flags)
  local out = M.sh(dev, "pm list packages " .. (flags or ""))
  return parse.packages(out)
end

---dumpsys package facts of one package, or nil when it is not installed.
function M.package(dev, name)
  return parse.package_info(M.sh(dev, "dumpsys package " .. name), name)
end

function M.setting(dev, ns, key)
  return parse.setting(M.sh(dev, string.format("settings get %s %s", ns, key)))
end

function M.put_setting(dev, ns, key, value)
  local _, exit, err = M.sh(dev, string.format("settings put %s %s %s", ns, key, value))
  if exit ~= 0 and exit ~= nil then
    error(string.format("settings put %s %s %s failed: %s", ns, key, value, err), 0)
  end
end

---`dumpsys diskstats`: free and total (live) and per-package sizes from
---Android's daily storage snapshot (parse.diskstats: hints that may be a day
---old, never proof that a clear worked).
function M.diskstats(dev)
  local ds = parse.diskstats(M.sh(dev, "dumpsys diskstats"))
  if ds == nil then error("dumpsys diskstats printed no Data-Free line", 0) end
  return ds
end

---Said next to any size taken from the per-package lists of diskstats.
M.SNAPSHOT_NOTE = "by Android's daily storage count, which may be out of date"

---A package's size from the daily snapshot ("data" or "cache"), or nil when
---the snapshot has no entry for it (never run yet, or the app is newer).
function M.size_hint(dev, pkg, field)
  local s = M.diskstats(dev).packages[pkg]
  return s and s[field] or nil
end

---" (N by Android's daily storage count, ...)" for a size hint, or "".
function M.size_note(bytes)
  if bytes == nil then return "" end
  return " (" .. parse.human(bytes) .. " " .. M.SNAPSHOT_NOTE .. ")"
end

---"a 1.2 GB, b 300 MB (by Android's daily storage count, ...)": the n
---largest of field in the snapshot, or "unknown (...)" when it has none.
function M.largest_hint(dev, field, n)
  local ds = M.diskstats(dev)
  local big = {}
  for _, p in ipairs(parse.largest(ds, field, n)) do big[#big + 1] = p.name .. " " .. parse.human(p.bytes) end
  if #big == 0 then return "not counted yet (Android counts app sizes about once a day while charging)" end
  return table.concat(big, ", ") .. " (" .. M.SNAPSHOT_NOTE .. ")"
end

---Master sync of user 0 from `dumpsys content` ("Auto sync: u0=true"):
---true or false; raises when the dump has no such line.
function M.master_sync(dev)
  local v = parse.master_sync(M.sh(dev, "dumpsys content"), 0)
  if v == nil then error("dumpsys content printed no 'Auto sync:' line for user 0", 0) end
  return v
end

---Waits up to timeout seconds until master sync is `want`, reading
---`dumpsys content` every second; true when seen, false on timeout.
function M.wait_master_sync(dev, want, timeout)
  local deadline = df.host_time() + timeout
  while true do
    if M.master_sync(dev) == want then return true end
    if df.host_time() >= deadline then return false end
    df.sleep(1000)
  end
end

---Free and total bytes on /data (df /data).
function M.data_space(dev)
  local d = parse.df(M.sh(dev, "df /data"), "/data")
  if d == nil then error("df /data printed no /data row", 0) end
  return d
end

---The phone's clock (date +%s), seconds since the epoch.
function M.phone_time(dev)
  return tonumber(parse.trim(M.sh(dev, "date +%s")))
end

---Main and system log entries of this boot (logcat -d).
function M.log(dev)
  return parse.logcat(M.sh(dev, "logcat -d -b main,system"))
end

---Crashes of this boot from logcat's crash buffer, each with `process`,
---`package` (when a dropbox entry names it), `exception` and `cause`. Dropbox
---keeps older boots too; its entries (both system_app_crash and
---data_app_crash) give the package and the history count.
function M.crashes(dev, process)
  local now = parse.logcat_crashes(M.sh(dev, "logcat -d -b crash"))
  local history = {}
  for _, tag in ipairs({ "system_app_crash", "data_app_crash" }) do
    for _, e in ipairs(parse.dropbox(M.sh(dev, "dumpsys dropbox --print " .. tag))) do
      if process == nil or e.process == process then history[#history + 1] = e end
    end
  end
  local out = {}
  for _, c in ipairs(now) do
    if process == nil or c.process == process then
      -- The dropbox entry of the same crash names the package.
      for _, e in ipairs(history) do
        if e.process == c.process and e.exception == c.exception then
          c.package = e.package
          c.version_name = e.version_name
        end
      end
      out[#out + 1] = c
    end
  end
  return out, history
end

---Waits until the phone answers in Android again and has finished booting
---(sys.boot_completed=1). Returns true or raises.
function M.wait_booted(dev, timeout)
  timeout = timeout or 180
  local ok, msg = dev:wait_for("system", { timeout = timeout })
  if not ok then error("the phone did not come back after the reboot: " .. tostring(msg), 0) end
  for _ = 1, timeout * 2 do
    if M.prop(dev, "sys.boot_completed") == "1" then return true end
    df.sleep(500)
  end
  error("the phone came back but never finished booting (sys.boot_completed stays unset)", 0)
end

---Reboots into Android and waits until it has booted.
function M.reboot(dev, timeout)
  local ok, msg = dev:reboot("system")
  if not ok then error("reboot: " .. tostring(msg), 0) end
  return M.wait_booted(dev, timeout)
end

---Runs `pm clear [--cache-only] PKG`; returns true, or false and why.
function M.clear(dev, pkg, cache_only)
  local out, exit, err = M.sh(dev, "pm clear " .. (cache_only and "--cache-only " or "") .. pkg)
  if exit == 0 and out:find("Success", 1, true) then return true end
  return false, parse.trim(err ~= "" and err or out)
end

---`pm clear [--cache-only] PKG` with the live facts around it: pm's own
---answer ("Success" is printed only once installd reports the data or cache
---removed) and /data's free space before and after (statfs, live; other
---apps write too, so it is a hint). Returns { pkg=, ok=, why=, freed= }.
function M.clear_measured(dev, pkg, cache_only)
  local before = M.data_space(dev).avail
  local ok, why = M.clear(dev, pkg, cache_only)
  local after = M.data_space(dev).avail
  return { pkg = pkg, ok = ok, why = why, freed = after - before, cache_only = cache_only }
end

---"freed 1.2 GB on /data" (or "" when /data did not gain space).
function M.freed_note(records)
  local n = 0
  for _, r in ipairs(records) do n = n + math.max(0, r.freed or 0) end
  if n <= 0 then return "" end
  return "freed " .. parse.human(n) .. " on /data"
end

---Verify from live facts that clears held: each record's pm clear answered
---Success and its package is still installed (dumpsys package now). The
---per-package sizes of diskstats are not used: they are the daily snapshot.
function M.verify_cleared(dev, records)
  if records == nil or #records == 0 then return false, "nothing was cleared" end
  for _, r in ipairs(records) do
    if not r.ok then return false, "pm clear " .. r.pkg .. " failed: " .. tostring(r.why) end
    if M.package(dev, r.pkg) == nil then return false, r.pkg .. " is no longer installed" end
  end
  return true
end

---Reboots when a fix asked for one (ctx.scratch.reboot_pending), so the
---next check reads the new boot. Verify calls it (verify may reboot; check
---may only read the phone).
function M.settle(ctx, why)
  if not ctx.scratch.reboot_pending then return end
  df.step(why or "rebooting to see whether the fix held")
  M.reboot(ctx.device)
  ctx.scratch.reboot_pending = false
  ctx.scratch.reboots = (ctx.scratch.reboots or 0) + 1
end

---Makes every step's verify reboot first when its fix asked for it
---(M.settle), then verify as written. Returns steps.
function M.settle_before_verify(steps, why)
  for _, step in ipairs(steps) do
    local verify = step.verify
    if verify then
      step.verify = function(ctx)
        M.settle(ctx, why)
        return verify(ctx)
      end
    end
  end
  return steps
end

---True when this phone's pm knows `pm clear --cache-only` (Android 13-era
---PackageManagerShellCommand; absent in Android 10): `pm help` says.
function M.has_cache_only(dev, ctx)
  if ctx and ctx.scratch.cache_only ~= nil then return ctx.scratch.cache_only end
  local v = parse.help_has(M.sh(dev, "pm help"), "--cache-only")
  if ctx then ctx.scratch.cache_only = v end
  return v
end

---Third-party packages installed within `days` (by firstInstallTime against
---the computer's clock): list of { name=, days= }, newest first.
function M.recent_apps(dev, days)
  local names = M.packages(dev, "-3")
  local now = df.host_time()
  local out = {}
  for _, n in ipairs(names) do
    local info = M.package(dev, n)
    if info and info.first_install then
      local age = (now - info.first_install) / 86400
      if age <= days then out[#out + 1] = { name = n, days = math.max(0, math.floor(age)) } end
    end
  end
  table.sort(out, function(a, b) return a.days < b.days end)
  return out
end

---"Play Store 39.5.18-31, ..." for the packages that are installed.
function M.versions(dev, list)
  local parts = {}
  for _, item in ipairs(list) do
    local info = M.package(dev, item[2])
    if info then parts[#parts + 1] = string.format("%s %s", item[1], info.version_name or "?") end
  end
  return table.concat(parts, ", ")
end

return M
