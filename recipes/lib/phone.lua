-- Device helpers shared by the repair recipes: running shell commands (an
-- I/O failure raises, so the step fails with the message), reading packages,
-- settings, storage and crash records through recipes/lib/parse.lua, root,
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

function M.diskstats(dev)
  local ds = parse.diskstats(M.sh(dev, "dumpsys diskstats"))
  if ds == nil then error("dumpsys diskstats printed no Data-Free line", 0) end
  return ds
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
