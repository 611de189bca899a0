-- "android.process.media has stopped": the consumer guides' fixes, least
-- harmful first, each followed by a reboot that shows whether the crash is
-- gone (the verify of a fix that asked for it reboots first, so the check of
-- the next step reads the new boot and finds nothing once the crash has
-- stopped; a check only reads the phone). Verifies use live facts (pm
-- clear's answer, the package's state, master sync as dumpsys content
-- reports it), never the per-app sizes of dumpsys diskstats, which are
-- Android's daily snapshot. docs/recipes.md lists the steps and where each
-- fix comes from (DOMAIN.md; AOSP sources).
local phone = require("phone")

local PROCESS = "android.process.media"
local DOWNLOADS = "com.android.providers.downloads"
local GSF = "com.google.android.gsf"
local VENDING = "com.android.vending"

-- The media storage package of this Android release: the legacy provider
-- runs in android.process.media up to Android 10; from 11 the MediaProvider
-- module runs in its own process (and the legacy one only migrates ids: it
-- is not cleared).
local function media_provider(ctx)
  local dev = ctx.device
  if ctx.scratch.media == nil then
    local sdk = phone.sdk(dev) or 0
    if sdk < 30 then
      ctx.scratch.media = { pkg = "com.android.providers.media", process = PROCESS }
    else
      local _, set = phone.packages(dev)
      local pkg = set["com.google.android.providers.media.module"] and "com.google.android.providers.media.module"
        or "com.android.providers.media.module"
      ctx.scratch.media = { pkg = pkg, process = pkg }
    end
  end
  return ctx.scratch.media
end

-- Crashes of this boot that are the fault: android.process.media, and the
-- MediaProvider module's own process on Android 11+. A fix that asked for a
-- reboot has had it by now (phone.settle before each verify), so "the crash
-- is gone after boot" is what it sees.

local function crashes(ctx)
  local dev = ctx.device
  local media = media_provider(ctx)
  local out = {}
  local all = phone.crashes(dev)
  for _, c in ipairs(all) do
    if c.process == PROCESS or c.process == media.process then out[#out + 1] = c end
  end
  return out
end

-- "P crashed N times since boot (package: cause); Q crashed ..." by process.
local function crash_summary(list)
  local order, by = {}, {}
  for _, c in ipairs(list) do
    if not by[c.process] then
      by[c.process] = { first = c, n = 0 }
      order[#order + 1] = c.process
    end
    by[c.process].n = by[c.process].n + 1
  end
  local parts = {}
  for _, p in ipairs(order) do
    local c, n = by[p].first, by[p].n
    parts[#parts + 1] = string.format("%s crashed %d time%s since boot (%s: %s)", p, n, n == 1 and "" or "s",
      c.package or "?", c.cause or c.exception or "no exception text")
  end
  return table.concat(parts, "; ")
end

-- The crashes naming pkg, and whether every crash names a package (when
-- some do not, the dropbox lost the entry and any provider may be at fault).
local function crashes_of(list, pkg)
  local out, all_named = {}, true
  for _, c in ipairs(list) do
    if c.package == pkg then out[#out + 1] = c end
    if c.package == nil then all_named = false end
  end
  return out, all_named
end

-- Force-stops pkg and empties its cache (the record of the clear goes to
-- ctx.scratch.cleared_caches); returns a sentence.
local function stop_and_clear_cache(ctx, pkg)
  local dev = ctx.device
  phone.sh(dev, "am force-stop " .. pkg)
  if not phone.has_cache_only(dev, ctx) then
    return pkg .. ": stopped; this Android's pm has no --cache-only, so its cache was left (Settings > Apps > "
      .. pkg .. " > Storage > Clear cache does it by hand)"
  end
  local hint = phone.size_hint(dev, pkg, "cache")
  local r = phone.clear_measured(dev, pkg, true)
  if not r.ok then error("pm clear --cache-only " .. pkg .. ": " .. r.why, 0) end
  local list = ctx.scratch.cleared_caches or {}
  list[#list + 1] = r
  ctx.scratch.cleared_caches = list
  return pkg .. ": stopped, cache cleared" .. phone.size_note(hint)
end

-- Force-stops pkg and clears its data; the record goes to
-- ctx.scratch[key]. Returns a sentence.
local function stop_and_clear_data(ctx, pkg, key)
  local dev = ctx.device
  local hint = phone.size_hint(dev, pkg, "data")
  phone.sh(dev, "am force-stop " .. pkg)
  local r = phone.clear_measured(dev, pkg, false)
  if not r.ok then error("pm clear " .. pkg .. ": " .. r.why, 0) end
  ctx.scratch[key] = { r }
  local freed = phone.freed_note({ r })
  return "cleared the data of " .. pkg .. phone.size_note(hint) .. (freed ~= "" and ("; " .. freed) or "")
end

-- The step's verify for a clear: pm clear answered Success and the
-- provider is still installed and enabled (dumpsys package, live).
local function verify_clear(ctx, key)
  local ok, why = phone.verify_cleared(ctx.device, ctx.scratch[key])
  if not ok then return false, why end
  for _, r in ipairs(ctx.scratch[key]) do
    local info = phone.package(ctx.device, r.pkg)
    if info.enabled == 2 or info.enabled == 3 then return false, r.pkg .. " is disabled" end
  end
  return true
end

local function ago(days)
  if days == 0 then return "today" end
  return string.format("%d day%s ago", days, days == 1 and "" or "s")
end

-- Into safe mode: on a rooted phone persist.sys.safemode=1 and a reboot
-- (the framework reads and clears it: WindowManagerService.detectSafeMode);
-- else the person uses the model's button combination (df.instruct), and
-- droidfix waits until Android reports ro.sys.safemode=1.
local function enter_safe_mode(ctx)
  local dev = ctx.device
  if phone.rooted(dev, ctx) then
    phone.sh(dev, "su -c 'setprop persist.sys.safemode 1'")
    df.step("rebooting into safe mode")
    phone.reboot(dev)
  else
    local ok, msg = df.instruct(dev, "safe-mode", { timeout = 600 })
    if not ok then error("safe mode: " .. tostring(msg), 0) end
    -- The phone may still be on its way down: wait for the boot that
    -- reports safe mode.
    local deadline = df.host_time() + 600
    while true do
      local up, v = pcall(function()
        phone.wait_booted(dev, 120)
        return phone.prop(dev, "ro.sys.safemode")
      end)
      if up and v == "1" then break end
      if df.host_time() > deadline then
        error("the phone did not start in safe mode within 600 s (ro.sys.safemode is not 1): "
          .. "hold Volume Down while it boots until 'Safe mode' shows", 0)
      end
      df.sleep(1000)
    end
  end
  if phone.prop(dev, "ro.sys.safemode") ~= "1" then
    error("the phone did not start in safe mode (ro.sys.safemode is not 1)", 0)
  end
end

return {
  id = "media-process-crash",
  title = "\"android.process.media has stopped\"",
  summary = "Finds the crash of the media process and applies the guides' fixes, least harmful first, rebooting after each until it is gone.",
  description = "Checks the crash records (logcat's crash buffer, dropbox) for android.process.media, "
    .. "reports app and system versions (droidfix cannot download updates), then: Google Services Framework "
    .. "and Play Store stopped and their caches cleared; the Download Manager's data; the media storage data; "
    .. "sync off and on; app preferences reset as far as shell commands reach; safe mode to tell a third-party "
    .. "app from a system fault, then the recently installed apps disabled one at a time until the crash stops; "
    .. "a factory reset only as the last step, confirmed, after a verified backup (else: the manufacturer's support).",
  risk = "user-data",
  applies_to = { modes = { "system", "safe-mode" } },
  params = {
    recent_days = { type = "number", default = 30, help = "third-party apps installed within this many days are suspects" },
    sync_wait_s = { type = "number", default = 300,
      help = "how long droidfix waits for the person to turn sync off, then on, in Settings" },
  },
  author = "droidfix",
  steps = phone.settle_before_verify({
    {
      id = "google-caches",
      title = "Stop Google Services Framework and Google Play, clear their caches",
      risk = "app-data",
      check = function(ctx)
        local list = crashes(ctx)
        if #list == 0 then return false end
        local dev = ctx.device
        local media = media_provider(ctx)
        local sdk = phone.sdk(dev) or 0
        local hosted = sdk < 30 and "DownloadProvider and the legacy MediaProvider"
          or ("DownloadProvider (media storage, " .. media.pkg .. ", runs in its own process on Android 11+)")
        local versions = phone.versions(dev, {
          { "Play Store", VENDING }, { "Google Play services", "com.google.android.gms" },
          { "Download Manager", DOWNLOADS }, { "Media storage", media.pkg },
        })
        ctx.scratch.diagnosis = string.format("%s; %s runs %s. Android %s (security patch %s); %s. "
          .. "droidfix cannot download updates: install app and system updates by hand once the phone is stable",
          crash_summary(list), PROCESS, hosted, phone.prop(dev, "ro.build.version.release"),
          phone.prop(dev, "ro.build.version.security_patch"), versions)
        return true, ctx.scratch.diagnosis
      end,
      fix = function(ctx)
        local done = {}
        ctx.scratch.cleared_caches = {}
        for _, pkg in ipairs({ GSF, VENDING }) do
          done[#done + 1] = stop_and_clear_cache(ctx, pkg)
        end
        ctx.scratch.reboot_pending = true
        -- Google Services Framework's data stays: clearing it resets the
        -- phone's GSF id (DOMAIN.md), an expert step, never a default.
        local freed = phone.freed_note(ctx.scratch.cleared_caches)
        return table.concat(done, "; ") .. (freed ~= "" and ("; " .. freed) or "")
      end,
      verify = function(ctx)
        if not phone.has_cache_only(ctx.device, ctx) then return true end
        return verify_clear(ctx, "cleared_caches")
      end,
    },
    {
      id = "download-manager",
      title = "Clear the Download Manager's data",
      risk = "app-data",
      check = function(ctx)
        local list = crashes(ctx)
        if #list == 0 then return false end
        local mine, all_named = crashes_of(list, DOWNLOADS)
        if #mine == 0 and all_named then return false end
        return true, crash_summary(#mine > 0 and mine or list)
          .. "; clearing the Download Manager's data drops its download history and stuck downloads, not the downloaded files"
      end,
      fix = function(ctx)
        local msg = stop_and_clear_data(ctx, DOWNLOADS, "dm_cleared")
        ctx.scratch.reboot_pending = true
        return msg
      end,
      verify = function(ctx)
        return verify_clear(ctx, "dm_cleared")
      end,
    },
    {
      id = "media-storage",
      title = "Clear the media storage data",
      risk = "app-data",
      check = function(ctx)
        local list = crashes(ctx)
        if #list == 0 then return false end
        local media = media_provider(ctx)
        local mine, all_named = crashes_of(list, media.pkg)
        if #mine == 0 and all_named then return false end
        return true, crash_summary(#mine > 0 and mine or list)
          .. "; clearing " .. media.pkg .. "'s data rebuilds the media index (photos and files stay; the gallery rescans them)"
      end,
      fix = function(ctx)
        local msg = stop_and_clear_data(ctx, media_provider(ctx).pkg, "media_cleared")
        ctx.scratch.reboot_pending = true
        return msg
      end,
      verify = function(ctx)
        return verify_clear(ctx, "media_cleared")
      end,
    },
    {
      id = "sync",
      title = "Turn sync off and on again",
      risk = "app-data",
      check = function(ctx)
        local list = crashes(ctx)
        if #list == 0 then return false end
        return true, crash_summary(list) .. " after clearing the providers' data"
      end,
      fix = function(ctx)
        local dev = ctx.device
        -- AOSP has no shell command that turns master sync off or on
        -- (ContentShellCommand has only reset-today-stats; `content` and
        -- `requestsync` do not reach it): the person flips "Automatically
        -- sync data" in Settings, and droidfix watches SyncManager's own
        -- report (dumpsys content, "Auto sync: u0=...") to see each half
        -- happen, so nothing is taken on trust.
        local wait = ctx.params.sync_wait_s
        local where = "Settings > Accounts (or Passwords & accounts, or Users & accounts)"
        ctx.scratch.sync_seen_off = false
        if phone.master_sync(dev) then
          df.say("On the phone: %s > turn 'Automatically sync data' OFF (confirm with OK). "
            .. "droidfix waits until the phone reports sync off.", where)
          if not phone.wait_master_sync(dev, false, wait) then
            ctx.scratch.sync_result = string.format("sync was not turned off within %d s", wait)
            return "not done: " .. ctx.scratch.sync_result
          end
          ctx.scratch.sync_seen_off = true
        end
        df.say("Sync is off. Now turn 'Automatically sync data' ON again in %s; droidfix waits until the phone "
          .. "reports sync on.", where)
        if not phone.wait_master_sync(dev, true, wait) then
          ctx.scratch.sync_result = string.format("sync is off and was not turned on again within %d s", wait)
          return "not done: " .. ctx.scratch.sync_result
        end
        ctx.scratch.reboot_pending = true
        return ctx.scratch.sync_seen_off and "sync turned off and on again on the phone (the phone reported both)"
          or "sync was off; turned on on the phone (the phone reported it)"
      end,
      verify = function(ctx)
        if ctx.scratch.sync_result then
          return false, ctx.scratch.sync_result .. ": turn 'Automatically sync data' on in Settings > Accounts"
        end
        if not phone.master_sync(ctx.device) then
          return false, "sync is off: turn 'Automatically sync data' on in Settings > Accounts"
        end
        return true
      end,
    },
    {
      id = "app-preferences",
      title = "Reset app preferences (apps disabled by the user, app-ops)",
      risk = "app-data",
      check = function(ctx)
        local list = crashes(ctx)
        if #list == 0 then return false end
        return true, crash_summary(list) .. " after clearing data and turning sync off and on"
      end,
      fix = function(ctx)
        local dev = ctx.device
        -- Settings' "Reset app preferences" (ResetAppsHelper) as far as the
        -- shell reaches: apps the user disabled back to their default state,
        -- and app-ops reset. Not `pm reset-permissions`: that resets every
        -- runtime permission, which is broader than the guides' step.
        local reset = {}
        for _, name in ipairs((phone.packages(dev, "-d"))) do
          local info = phone.package(dev, name)
          if info and (info.enabled == 3 or info.disabled_by == "com.android.shell") then
            phone.sh(dev, "pm default-state " .. name)
            reset[#reset + 1] = name
          end
        end
        phone.sh(dev, "cmd appops reset")
        ctx.scratch.reboot_pending = true
        ctx.scratch.prefs_reset = reset
        return (#reset > 0 and ("re-enabled " .. table.concat(reset, ", ") .. "; ") or "no app was disabled by the user; ")
          .. "app-ops reset (notification settings, default apps and data restrictions are reset only in Settings > Apps > Reset app preferences)"
      end,
      verify = function(ctx)
        for _, name in ipairs((phone.packages(ctx.device, "-d"))) do
          local info = phone.package(ctx.device, name)
          if info and info.enabled == 3 then return false, name .. " is still disabled" end
        end
        return true
      end,
    },
    {
      id = "safe-mode",
      title = "Safe mode: a third-party app or the system?",
      risk = "app-data",
      check = function(ctx)
        local list = crashes(ctx)
        if #list == 0 then return false end
        return true, crash_summary(list) .. " after every app-level fix"
      end,
      fix = function(ctx)
        local dev = ctx.device
        local recent = phone.recent_apps(dev, ctx.params.recent_days)
        local suspects = {}
        for _, a in ipairs(recent) do suspects[#suspects + 1] = string.format("%s (%s)", a.name, ago(a.days)) end
        ctx.scratch.suspects = suspects
        if #suspects > 0 then
          df.say("Installed in the last %d days (suspects): %s", ctx.params.recent_days, table.concat(suspects, ", "))
        end
        enter_safe_mode(ctx)
        local list = crashes(ctx)
        ctx.scratch.safe_crash = #list > 0
        df.step("rebooting out of safe mode")
        phone.reboot(dev)
        if #list > 0 then
          return "it crashes in safe mode too (" .. crash_summary(list) .. "): the system itself is at fault; "
            .. "no app is to blame (see the next step)"
        end
        -- A third-party app: disable the suspects one at a time, newest
        -- first (pm disable-user keeps the app and its data; it is undone
        -- with pm default-state), rebooting after each, until the crash
        -- stops; the innocent ones go back as they were.
        local tried = {}
        for _, a in ipairs(recent) do
          if not df.confirm(string.format("Disable %s (installed %s) to see whether it causes the crash? "
              .. "Its data stays; droidfix turns it back on if it is not the cause.", a.name, ago(a.days))) then
            break
          end
          local before = phone.package(dev, a.name)
          phone.sh(dev, "pm disable-user --user 0 " .. a.name)
          df.step("rebooting with " .. a.name .. " disabled")
          phone.reboot(dev)
          if #crashes(ctx) == 0 then
            ctx.scratch.culprit = a
            return string.format("no crash in safe mode; with %s (installed %s) disabled the crash is gone: "
              .. "it is the cause. It stays disabled with its data; uninstall it, or update it and turn it on "
              .. "again in Settings > Apps%s", a.name, ago(a.days),
              #tried > 0 and ("; not the cause, turned back on: " .. table.concat(tried, ", ")) or "")
          end
          phone.sh(dev, (before and before.enabled == 1 and "pm enable " or "pm default-state ") .. a.name)
          tried[#tried + 1] = a.name
        end
        ctx.scratch.reboot_pending = true
        return "no crash in safe mode: a third-party app causes it"
          .. (#suspects > 0 and ("; disabling the recent ones (" .. table.concat(suspects, ", ") .. ") did not stop it") or "")
      end,
      verify = function(ctx)
        if ctx.scratch.culprit then
          local list = crashes(ctx)
          if #list > 0 then return false, crash_summary(list) .. " with " .. ctx.scratch.culprit.name .. " disabled" end
          return true
        end
        if ctx.scratch.safe_crash == false then
          return false, "a third-party app causes the crash: uninstall apps one at a time, newest first, "
            .. "rebooting after each"
        end
        -- The step did what it says: it told the system from an app. The
        -- next step (factory reset) is the fix for a system fault.
        return true
      end,
    },
    {
      id = "factory-reset",
      title = "Factory reset (last resort, after a verified backup)",
      risk = "user-data",
      check = function(ctx)
        if ctx.scratch.safe_crash == false then return false end -- an app to remove, not a reset
        local list = crashes(ctx)
        if #list == 0 then return false end
        return true, crash_summary(list) .. " even in safe mode; what is left is a reflash (recipe system-reflash) "
          .. "or a factory reset, which erases the apps, accounts and files on the phone; "
          .. "if you would rather not, contact the manufacturer's support"
      end,
      fix = function(ctx)
        local dev = ctx.device
        -- The runner backs up the phone before a user-data step and gives
        -- the archive as ctx.backup (nil with --no-backup): no reset
        -- without one that reads back against its manifest.
        if ctx.backup == nil then
          ctx.scratch.reset_declined = "no backup was taken (--no-backup), so droidfix does not erase the phone; "
            .. "back it up, or contact the manufacturer's support"
          return "not reset: " .. ctx.scratch.reset_declined
        end
        local ok, msg = df.backup.verify(ctx.backup)
        if not ok then
          ctx.scratch.reset_declined = "the backup " .. ctx.backup .. " does not read back (" .. tostring(msg)
            .. "), so droidfix does not erase the phone; contact the manufacturer's support"
          return "not reset: " .. ctx.scratch.reset_declined
        end
        -- What the backup holds and lacks (apps' data and accounts without
        -- root) the runner has said in its confirmation before this step.
        if not df.confirm("Erase ALL data on the phone with a factory reset? The backup is " .. ctx.backup
            .. " (what it holds and lacks is said above).") then
          ctx.scratch.reset_declined = "you chose not to reset: contact the manufacturer's support"
          return "not reset: " .. ctx.scratch.reset_declined
        end
        ctx.scratch.reset_backup = ctx.backup
        -- Production phones give the shell no way to wipe: the person
        -- makes the reset in recovery.
        ok, msg = dev:reboot("recovery")
        if not ok then error("reboot to recovery: " .. tostring(msg), 0) end
        ok, msg = dev:wait_for("recovery", { timeout = 180 })
        if not ok then error("recovery: " .. tostring(msg), 0) end
        df.say("On the phone, in recovery: choose 'Wipe data' (or 'Factory reset'), confirm, then "
          .. "'Reboot system now'. After the reset, set the phone up, turn on USB debugging again "
          .. "(Settings > Developer options) and allow this computer.")
        phone.wait_booted(dev, 1800)
        return "factory reset made in recovery; restore the backup with: droidfix run recipes/restore.lua --param archive="
          .. ctx.backup
      end,
      verify = function(ctx)
        if ctx.scratch.reset_declined then return false, "not reset: " .. ctx.scratch.reset_declined end
        local list = crashes(ctx)
        if #list > 0 then return false, crash_summary(list) .. " after the reset: contact the manufacturer's support" end
        return true
      end,
    },
  }, "rebooting to see whether the crash is gone"),
}
