-- "Play Store stuck on downloading / download pending": the consumer guides'
-- checks and fixes (DOMAIN.md), what blocks downloads first (space, clock,
-- connection, a disabled Download Manager), then the Play Store's cache,
-- then, only if downloads still wait after a reboot, its data and the
-- Download Manager's queue; the Play Store's version and another account
-- last. A fix that needs a reboot to show sets reboot_pending; its verify
-- reboots first (phone.settle; a check only reads the phone), so the next
-- check reads the Play Store's log of the new boot. Verifies use live
-- facts (free space, pm clear's answer, the packages' state); the per-app
-- sizes of dumpsys diskstats are Android's daily count, named as such with
-- its age, and counted again (recipes/lib/diskstats.lua) where a fix reports
-- what takes space and the count is older than a day or of unknown age.
-- docs/recipes.md lists the steps and the source of each fix.
local parse = require("parse")
local phone = require("phone")
local diskstats = require("diskstats")

local VENDING = "com.android.vending"
local DOWNLOADS = "com.android.providers.downloads"
local MiB = 1024 * 1024

-- What the Play Store (tag Finsky) and the Download Manager logged this
-- boot (a fix that asked for a reboot has had it: phone.settle runs before
-- each verify).
local function symptoms(ctx)
  local dev = ctx.device
  local log = phone.log(dev)
  local s = { lines = {} }
  for _, e in ipairs(log) do
    local hit = true
    if e.tag == "Finsky" and e.msg:find("downloads? pending") then
      s.pending = true
    elseif e.tag == "Finsky" and e.msg:find("[Ii]nsufficient storage") then
      s.storage = true
      s.waiting_apps = s.waiting_apps or {}
      local app = e.msg:match("download ([%w%._]+)")
      s.waiting_apps[#s.waiting_apps + 1] = app
      local need = tonumber(e.msg:match("(%d+) bytes needed"))
      if app and need and (s.large == nil or need > s.large.bytes) then s.large = { app = app, bytes = need } end
    elseif e.tag == "Finsky" and (e.msg:find("BadAuthentication") or e.msg:find("token refresh failed")) then
      s.auth = true
    elseif e.tag == "Finsky" and (e.msg:find("SSL") or e.msg:find("not yet valid")) then
      s.clock = true
    elseif e.tag == "Finsky" and e.msg:find("DownloadManager") and e.msg:find("disabled") then
      s.dm_disabled = true
    elseif e.tag == "Finsky" and e.msg:find("SelfUpdate") then
      s.self_update = true
    elseif e.tag == "DownloadManager" and (e.msg:find("waiting") or e.msg:find("PENDING")) then
      s.dm_waiting = true
    else
      hit = false
    end
    if hit then s.lines[#s.lines + 1] = e.tag .. ": " .. e.msg end
  end
  s.any = #s.lines > 0
  return s
end

local function first_lines(s, n)
  local out = {}
  for i = 1, math.min(n, #s.lines) do out[i] = s.lines[i] end
  return table.concat(out, " | ")
end

local function clock_skew(ctx)
  local t = phone.phone_time(ctx.device)
  if t == nil then error("date +%s printed no number", 0) end
  return t - df.host_time()
end

-- A cause that blocks every download and is still there (the clock, space,
-- a disabled Download Manager): clearing data would lose it for nothing.
local function still_blocked(ctx)
  local dev = ctx.device
  if math.abs(clock_skew(ctx)) > ctx.params.max_skew_s then return "the clock is still wrong" end
  if phone.data_space(dev).avail < ctx.params.min_free_mb * MiB then return "/data is still nearly full" end
  local _, disabled = phone.packages(dev, "-d")
  if disabled[DOWNLOADS] then return "the Download Manager is still disabled" end
  local large = ctx.scratch.large
  if large and phone.data_space(dev).avail < large.bytes then
    return large.app .. " needs " .. parse.human(large.bytes) .. " and there is less free"
  end
  return nil
end

-- The age in seconds of Android's storage count, or nil when unknown. The
-- recipe remembers when Android counted (by the computer's clock), since
-- JobScheduler forgets it at each reboot this recipe asks for.
local function count_age(ctx)
  if ctx.scratch.counted_at == nil then
    local age = diskstats.age(ctx.device)
    if age == nil then return nil end
    ctx.scratch.counted_at = df.host_time() - age
  end
  return math.max(0, math.floor(df.host_time() - ctx.scratch.counted_at))
end

-- "a 1.2 GB, b 300 MB (Android's storage count from 3 h ago)".
local function largest(ctx, field, n)
  return diskstats.largest(ctx.device, field, n, count_age(ctx))
end

-- What takes space after a fix that freed some, from a count that is at
-- most a day old: Android counts again first when its count is older or
-- of unknown age (a fix() may: `cmd jobscheduler run` is app-data).
local function what_takes_space(ctx)
  local age, said = diskstats.refresh(ctx.device, diskstats.DAY)
  if age ~= nil then ctx.scratch.counted_at = df.host_time() - age end
  return (said and ("; " .. said) or "") .. "; the largest app data: " .. largest(ctx, "data", 3)
end

-- pm trim-caches frees cached files only (app caches), app by app, until
-- want_mb MiB are free. Returns "pm trim-caches NM: now X free".
local function trim_caches(ctx, want_mb)
  local _, exit, err = phone.sh(ctx.device, string.format("pm trim-caches %dM", want_mb))
  if exit ~= 0 and exit ~= nil then error("pm trim-caches: " .. err, 0) end
  ctx.scratch.reboot_pending = true
  return string.format("pm trim-caches %dM: now %s free", want_mb, parse.human(phone.data_space(ctx.device).avail))
end

-- The shape every verify here shares: read a live fact, judge it, word
-- the verdict from it. Returns a verify(ctx): true when good(ctx, v), else
-- false and why(ctx, v).
local function verify_that(read, good, why)
  return function(ctx)
    local v = read(ctx)
    if good(ctx, v) then return true end
    return false, why(ctx, v)
  end
end

-- Live facts the verifies read.
local function data_free(ctx) return phone.data_space(ctx.device).avail end
local function dm_disabled(ctx)
  local _, disabled = phone.packages(ctx.device, "-d")
  return disabled[DOWNLOADS] == true
end
local function has_google_account(ctx)
  for _, a in ipairs(parse.accounts(phone.sh(ctx.device, "dumpsys account"))) do
    if a.type == "com.google" then return true end
  end
  return false
end
local function play_store(ctx) return phone.package(ctx.device, VENDING) end

-- Force-stops pkg and clears its data (or cache): the record (pm clear's
-- answer, /data's free space around it) goes to ctx.scratch[key]. Returns
-- "... (N by Android's storage count from ... ago); freed M on /data".
local function stop_and_clear(ctx, pkg, cache_only, key)
  local dev = ctx.device
  local hint = diskstats.size_note(dev, pkg, cache_only and "cache" or "data", count_age(ctx))
  phone.sh(dev, "am force-stop " .. pkg)
  local r = phone.clear_measured(dev, pkg, cache_only)
  if not r.ok then error("pm clear " .. (cache_only and "--cache-only " or "") .. pkg .. ": " .. r.why, 0) end
  ctx.scratch[key] = { r }
  local freed = phone.freed_note({ r })
  return hint .. (freed ~= "" and ("; " .. freed) or "")
end

return {
  id = "play-store-stuck",
  title = "Play Store stuck on \"Download pending\"",
  summary = "Frees space, fixes the clock, enables the Download Manager, clears the Play Store's cache (its data only if needed), reboots and checks that downloads proceed.",
  description = "Checks space on /data, date and time against the computer's clock, connectivity, the Download "
    .. "Manager, the Play Store's cache, a Google account; clears the Play Store's data and the Download "
    .. "Manager's queue only when downloads still wait after a reboot; reports the Play Store's version "
    .. "(droidfix cannot download updates) and suggests another account as the last resort. App sizes come "
    .. "from Android's storage count, named with its age; after trimming caches Android is asked to count "
    .. "again when its count is over a day old or of unknown age.",
  risk = "app-data",
  applies_to = { modes = { "system", "safe-mode" } },
  params = {
    min_free_mb = { type = "number", default = 2048, help = "free space on /data below which caches are trimmed" },
    max_skew_s = { type = "number", default = 600, help = "clock difference with the computer that counts as wrong" },
    play_store_min_major = { type = "number", default = 35,
      help = "Play Store versions below this major number count as outdated (a heuristic)" },
  },
  author = "droidfix",
  steps = phone.settle_before_verify({
    {
      id = "storage",
      title = "Space on /data",
      risk = "app-data",
      check = function(ctx)
        local d = phone.data_space(ctx.device)
        local min = ctx.params.min_free_mb * MiB
        if d.avail >= min then return false end
        local s = symptoms(ctx)
        local waiting = s.waiting_apps and ("; waiting for space: " .. table.concat(s.waiting_apps, ", ")) or ""
        return true, string.format("only %s free on /data (of %s); largest caches: %s%s",
          parse.human(d.avail), parse.human(d.total), largest(ctx, "cache", 3), waiting)
      end,
      fix = function(ctx)
        return trim_caches(ctx, ctx.params.min_free_mb * 2) .. what_takes_space(ctx)
      end,
      verify = verify_that(data_free,
        function(ctx, avail) return avail >= ctx.params.min_free_mb * MiB end,
        function(ctx, avail)
          return string.format("still only %s free after trimming caches; the largest app data: %s (free space by hand)",
            parse.human(avail), largest(ctx, "data", 3))
        end),
    },
    {
      id = "large-download",
      title = "A download larger than the free space",
      risk = "app-data",
      check = function(ctx)
        local s = symptoms(ctx)
        if not s.large then return false end
        local d = phone.data_space(ctx.device)
        if d.avail >= s.large.bytes then return false end
        ctx.scratch.large = s.large
        return true, string.format("the Play Store waits to download %s, which needs %s; only %s free on /data",
          s.large.app, parse.human(s.large.bytes), parse.human(d.avail))
      end,
      fix = function(ctx)
        -- Caches only, up to the size the download needs and 512 MB more.
        local want = (ctx.scratch.large.bytes + 512 * MiB + MiB - 1) // MiB
        return trim_caches(ctx, want) .. what_takes_space(ctx)
      end,
      verify = verify_that(data_free,
        function(ctx, avail) return avail >= ctx.scratch.large.bytes end,
        function(ctx, avail)
          local large = ctx.scratch.large
          return string.format("still only %s free after trimming caches, and %s needs %s: free space by hand "
            .. "(photos and videos, or apps: the largest app data are %s), or download smaller apps first: "
            .. "a very large download waits until there is room", parse.human(avail), large.app,
            parse.human(large.bytes), largest(ctx, "data", 3))
        end),
    },
    {
      id = "clock",
      title = "Date and time",
      risk = "app-data",
      check = function(ctx)
        local skew = clock_skew(ctx)
        if math.abs(skew) <= ctx.params.max_skew_s then return false end
        local auto = phone.setting(ctx.device, "global", "auto_time")
        ctx.scratch.auto_time_was = auto
        return true, string.format("the phone's clock is %s %s the computer's, automatic time is %s; "
          .. "a clock that far off makes the Play Store's secure connections fail",
          parse.duration(skew), skew < 0 and "behind" or "ahead of", auto == "1" and "on" or "off")
      end,
      fix = function(ctx)
        if ctx.scratch.auto_time_was ~= "1" then
          phone.put_setting(ctx.device, "global", "auto_time", "1")
        end
        -- The phone takes the network's time once automatic time is on.
        for _ = 1, 20 do
          if math.abs(clock_skew(ctx)) <= ctx.params.max_skew_s then break end
          df.sleep(500)
        end
        ctx.scratch.reboot_pending = true
        return "automatic date and time turned on (settings put global auto_time 1)"
      end,
      verify = verify_that(clock_skew,
        function(ctx, skew) return math.abs(skew) <= ctx.params.max_skew_s end,
        function(_, skew)
          return string.format("the clock is still %s off: the phone gets no network time; connect it to the "
            .. "internet, or set the date by hand in Settings > System > Date & time", parse.duration(skew))
        end),
    },
    {
      id = "connectivity",
      title = "Connection (airplane mode, Wi-Fi, mobile data)",
      risk = "app-data",
      check = function(ctx)
        local dev = ctx.device
        local airplane = phone.setting(dev, "global", "airplane_mode_on") == "1"
        local wifi = phone.setting(dev, "global", "wifi_on") ~= "0"
        local mobile = phone.setting(dev, "global", "mobile_data") ~= "0"
        ctx.scratch.airplane = airplane
        if airplane then return true, "airplane mode is on" end
        if not wifi and not mobile then return true, "Wi-Fi and mobile data are both off" end
        return false
      end,
      fix = function(ctx)
        local dev = ctx.device
        if ctx.scratch.airplane then
          -- `cmd connectivity airplane-mode` exists on newer Android: probe.
          local _, exit = phone.sh(dev, "cmd connectivity airplane-mode disable 2>&1")
          if exit == 0 then
            ctx.scratch.reboot_pending = true
            return "airplane mode turned off"
          end
        end
        df.say("On the phone: turn airplane mode off and Wi-Fi (or mobile data) on, in the quick settings.")
        df.confirm("Is the phone connected to Wi-Fi or mobile data now?")
        ctx.scratch.reboot_pending = true
        return "asked the user to connect the phone"
      end,
      verify = function(ctx)
        local dev = ctx.device
        if phone.setting(dev, "global", "airplane_mode_on") == "1" then return false, "airplane mode is still on" end
        if phone.setting(dev, "global", "wifi_on") == "0" and phone.setting(dev, "global", "mobile_data") == "0" then
          return false, "Wi-Fi and mobile data are still off"
        end
        return true
      end,
    },
    {
      id = "download-manager",
      title = "Download Manager enabled",
      risk = "app-data",
      check = function(ctx)
        local _, disabled = phone.packages(ctx.device, "-d")
        if not disabled[DOWNLOADS] then return false end
        return true, "the Download Manager (" .. DOWNLOADS .. ") is disabled: the Play Store cannot download without it"
      end,
      fix = function(ctx)
        local dev = ctx.device
        -- Back to the default state (enabled) as Settings does; a package
        -- the system disabled needs `pm enable`.
        phone.sh(dev, "pm default-state " .. DOWNLOADS)
        local _, disabled = phone.packages(dev, "-d")
        if disabled[DOWNLOADS] then phone.sh(dev, "pm enable " .. DOWNLOADS) end
        ctx.scratch.reboot_pending = true
        return "enabled " .. DOWNLOADS
      end,
      verify = verify_that(dm_disabled,
        function(_, disabled) return not disabled end,
        function() return DOWNLOADS .. " is still disabled" end),
    },
    {
      id = "play-store-cache",
      title = "Stop the Play Store and clear its cache",
      risk = "app-data",
      check = function(ctx)
        -- This boot's log, without a reboot: the guides clear the cache
        -- in any case, and a cache is cheap to lose.
        local s = symptoms(ctx)
        if not s.any then return false end
        local info = phone.package(ctx.device, VENDING)
        return true, string.format("the Play Store (%s) logs: %s", info and info.version_name or "?", first_lines(s, 3))
      end,
      fix = function(ctx)
        local dev = ctx.device
        ctx.scratch.reboot_pending = true
        if not phone.has_cache_only(dev, ctx) then
          phone.sh(dev, "am force-stop " .. VENDING)
          -- Android 10's pm has no --cache-only: the data step below goes on
          -- if downloads still wait.
          ctx.scratch.cache_by_hand = true
          return "stopped the Play Store; this Android's pm has no --cache-only (Settings > Apps > Google Play Store > Storage > Clear cache does it by hand)"
        end
        return "stopped the Play Store and cleared its cache" .. stop_and_clear(ctx, VENDING, true, "vending_cache")
      end,
      verify = function(ctx)
        if ctx.scratch.cache_by_hand then return true end
        return phone.verify_cleared(ctx.device, ctx.scratch.vending_cache)
      end,
    },
    {
      id = "account",
      title = "A Google account on the phone",
      risk = "read-only",
      check = function(ctx)
        if has_google_account(ctx) then return false end
        return true, "no Google account is signed in: the Play Store downloads nothing without one"
      end,
      fix = function(ctx)
        df.say("On the phone: Settings > Accounts > Add account > Google, and sign in.")
        df.confirm("Have you added a Google account on the phone?")
        return "asked the user to add a Google account"
      end,
      verify = verify_that(has_google_account,
        function(_, yes) return yes end,
        function() return "still no Google account on the phone" end),
    },
    {
      id = "play-store-data",
      title = "Clear the Play Store's data (downloads still pending after a reboot)",
      risk = "app-data",
      check = function(ctx)
        local s = symptoms(ctx)
        if not s.pending or still_blocked(ctx) then return false end
        return true, "after clearing the cache and a reboot the Play Store still logs: " .. first_lines(s, 2)
          .. "; clearing its data drops its settings and queue (apps and the Google account stay)"
      end,
      fix = function(ctx)
        local msg = stop_and_clear(ctx, VENDING, false, "vending_data")
        ctx.scratch.reboot_pending = true
        return "cleared the Play Store's data" .. msg
      end,
      verify = function(ctx)
        return phone.verify_cleared(ctx.device, ctx.scratch.vending_data)
      end,
    },
    {
      id = "download-queue",
      title = "Clear the Download Manager's queue (downloads waiting in it)",
      risk = "app-data",
      check = function(ctx)
        local s = symptoms(ctx)
        if not s.dm_waiting or still_blocked(ctx) then return false end
        return true, "the Download Manager holds downloads that never start: " .. first_lines(s, 2)
          .. "; clearing its data drops its download history and the stuck downloads, not downloaded files"
      end,
      fix = function(ctx)
        local msg = stop_and_clear(ctx, DOWNLOADS, false, "dm_data")
        ctx.scratch.reboot_pending = true
        return "cleared the Download Manager's data" .. msg
      end,
      verify = function(ctx)
        return phone.verify_cleared(ctx.device, ctx.scratch.dm_data)
      end,
    },
    {
      id = "play-store-version",
      title = "The Play Store's version",
      risk = "read-only",
      check = function(ctx)
        symptoms(ctx) -- reboots first when a fix asked for it: the Play Store may update itself then
        local info = phone.package(ctx.device, VENDING)
        if info == nil then return true, "the Play Store (" .. VENDING .. ") is not installed" end
        local major = parse.version_major(info.version_name)
        if major == nil or major >= ctx.params.play_store_min_major then return false end
        return true, string.format("the Play Store is version %s, far out of date; droidfix cannot download updates",
          info.version_name)
      end,
      fix = function(ctx)
        df.say("On the phone: open the Play Store, tap your profile picture > Settings > About > Play Store version; it offers the update.")
        df.confirm("Has the Play Store updated?")
        return "asked the user to update the Play Store"
      end,
      verify = verify_that(play_store,
        function(ctx, info)
          local major = info and parse.version_major(info.version_name)
          return major ~= nil and major >= ctx.params.play_store_min_major
        end,
        function(_, info) return "the Play Store is still " .. (info and info.version_name or "missing") .. ": update it by hand" end),
    },
    {
      id = "downloads-proceed",
      title = "Downloads proceed after a reboot",
      risk = "read-only",
      check = function(ctx)
        -- Reboots when a fix asked for it, then reads the new boot's log.
        local s = symptoms(ctx)
        if not s.any then return false end
        local blocked = still_blocked(ctx)
        return true, "after every fix and a reboot the Play Store still logs: " .. first_lines(s, 3)
          .. (blocked and ("; " .. blocked .. " (see the steps above)") or "")
      end,
      fix = function(ctx)
        -- What is left is for the person: another Google account (or the
        -- same one signed in again when its sign-in fails), a smaller
        -- download first, or a reflash. droidfix reboots and looks again.
        local s = symptoms(ctx)
        local blocked = still_blocked(ctx)
        if blocked then
          -- Another account would not help: what blocks every download is
          -- still there (the step above that found it says what to do).
          ctx.scratch.blocked = blocked
          return "no account change asked for: " .. blocked
        end
        if s.auth then
          df.say("The Play Store cannot sign in with the Google account on the phone (BadAuthentication). "
            .. "On the phone: Settings > Accounts > Google > Remove account, then Add account and sign in "
            .. "again; or add another Google account and switch to it in the Play Store.")
        else
          df.say("Try another Google account (Settings > Accounts > Add account, then pick it in the Play "
            .. "Store), and start with a small app.")
        end
        local yes = df.confirm("Have you signed in again or added another Google account on the phone?")
        ctx.scratch.reboot_pending = true
        ctx.scratch.auth = s.auth
        return (s.auth and "the account's sign-in fails: " or "")
          .. "asked for another Google account or a new sign-in (answer: " .. (yes and "done" or "not done") .. ")"
      end,
      verify = function(ctx)
        local s = symptoms(ctx)
        if s.any and ctx.scratch.blocked then
          return false, "downloads still wait: " .. ctx.scratch.blocked .. " (see the steps above)"
        end
        if s.any then
          return false, "downloads still wait: " .. first_lines(s, 2) .. (ctx.scratch.auth
            and "; the Google account's sign-in still fails: sign in with another Google account" or "")
            .. ". If no account downloads, the system may need a repair (recipe system-reflash)"
        end
        return true
      end,
    },
  }, "rebooting to see whether downloads proceed"),
}
