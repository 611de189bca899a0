-- Exit factory (test) mode: the phone boots to its factory test screen.
-- Samsung keeps the mode in /efs/FactoryApp/factorymode (OFF means factory
-- mode; ON or missing means user mode) and keystr (ON: key strings
-- blocked): on a rooted phone both are rewritten to ON, owner 1000.1000,
-- mode 0744. Without root, the factory test app's data is cleared (the
-- device file names the app: df.model(dev).packages.factory_test; Xiaomi's
-- is the CIT app). A phone that keeps returning to the mode after that may
-- have a stuck volume key. Sources: DOMAIN.md ("Exit factory mode",
-- android.os.FactoryTest); docs/recipes.md.
local parse = require("parse")
local phone = require("phone")

local EFS_MODE = "/efs/FactoryApp/factorymode"
local EFS_KEYSTR = "/efs/FactoryApp/keystr"

-- Factory and hardware-test apps named in DOMAIN.md, for a phone whose
-- device file names none.
local KNOWN_TEST_APPS = {
  "com.sem.factoryapp", "com.sec.android.app.factorykeystring", "com.sec.android.app.hwmoduletest",
  "com.miui.cit", "com.mediatek.factorymode", "com.android.factorytest",
}

local function model(ctx)
  if ctx.scratch.model == nil then
    local m, msg = df.model(ctx.device)
    if not m then error("df.model: " .. tostring(msg), 0) end
    ctx.scratch.model = m
  end
  return ctx.scratch.model
end

-- The test apps this phone has: the device file's first, then the known ones.
local function test_apps(ctx)
  if ctx.scratch.test_apps then return ctx.scratch.test_apps end
  local m = model(ctx)
  local _, installed = phone.packages(ctx.device)
  local out, seen = {}, {}
  local function add(p)
    if p and installed[p] and not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
  local pk = m.packages or {}
  add(pk.factory_test)
  add(pk.factory_keystring)
  add(pk.hwmodule_test)
  for _, p in ipairs(KNOWN_TEST_APPS) do add(p) end
  ctx.scratch.test_apps = out
  return out
end

-- Is a test app in front? A fix that asked for a reboot has had it
-- (phone.settle runs before each verify; a check only reads the phone).
-- Returns the component in front when it belongs to a test app, else nil.
local function in_factory_mode(ctx)
  local dev = ctx.device
  local comp = parse.focused_activity(phone.sh(dev, "dumpsys activity activities"))
  if comp == nil then return nil end
  local pkg = comp:match("^([^/]+)")
  for _, p in ipairs(test_apps(ctx)) do
    if p == pkg then return comp end
  end
  return nil
end

local function su_read(dev, path)
  local out, exit = phone.sh(dev, "su -c 'cat " .. path .. "' 2>/dev/null")
  if exit ~= 0 then return nil end
  return parse.trim(out)
end

return {
  id = "factory-mode-exit",
  title = "Exit factory (test) mode",
  summary = "Gets a phone that starts on its factory test screen back to normal: Samsung /efs flags with root, else the test app's data; names a stuck volume key when it keeps coming back.",
  description = "Samsung, rooted: /efs/FactoryApp/factorymode and keystr set to ON (owner 1000.1000, mode 0744), "
    .. "reboot, verify. Without root, and on Xiaomi (CIT) and others: the factory test app the device file "
    .. "names has its data cleared, reboot, verify. A phone that still starts in the test screen may have a "
    .. "volume key held down.",
  -- user-data for the rooted Samsung step only: it writes files in /efs, a
  -- persistent partition outside any app (the risk gate counts a file
  -- written as user data), so the runner backs the phone up before it.
  -- Every other step clears app data.
  risk = "user-data",
  applies_to = { modes = { "system", "factory-mode" } },
  author = "droidfix",
  steps = phone.settle_before_verify({
    {
      id = "efs-flags",
      title = "Samsung: factory mode flags in /efs (root)",
      risk = "user-data",
      check = function(ctx)
        local dev = ctx.device
        if model(ctx).vendor ~= "samsung" then return false end
        if not phone.rooted(dev, ctx) then
          ctx.scratch.efs_unknown = true -- the shell user cannot read /efs
          return false
        end
        local mode, keystr = su_read(dev, EFS_MODE), su_read(dev, EFS_KEYSTR)
        ctx.scratch.efs_before = { mode = mode, keystr = keystr }
        -- OFF means factory mode; ON or missing means user mode.
        if mode ~= "OFF" and (keystr == nil or keystr == "ON") then return false end
        return true, string.format("%s holds %s, %s holds %s (OFF: factory mode)", EFS_MODE, tostring(mode or "nothing"),
          EFS_KEYSTR, tostring(keystr or "nothing"))
      end,
      fix = function(ctx)
        local dev = ctx.device
        for _, path in ipairs({ EFS_MODE, EFS_KEYSTR }) do
          local cmd = string.format("su -c 'echo -n ON > %s && chown 1000.1000 %s && chmod 0744 %s'", path, path, path)
          local _, exit, err = phone.sh(dev, cmd)
          if exit ~= 0 then error("writing " .. path .. " failed: " .. err, 0) end
        end
        ctx.scratch.reboot_pending = true
        return string.format("wrote ON to %s and %s (was %s / %s), owner 1000.1000, mode 0744", EFS_MODE, EFS_KEYSTR,
          tostring(ctx.scratch.efs_before.mode), tostring(ctx.scratch.efs_before.keystr))
      end,
      verify = function(ctx)
        local dev = ctx.device
        for _, path in ipairs({ EFS_MODE, EFS_KEYSTR }) do
          local v = su_read(dev, path)
          if v ~= "ON" then return false, path .. " holds " .. tostring(v) .. ", not ON" end
          -- toybox ls -l names uid 1000 "system".
          local ls = phone.sh(dev, "su -c 'ls -l " .. path .. "'")
          local perm, uid, gid = ls:match("^(%S+)%s+%d+%s+(%S+)%s+(%S+)")
          local function is_system(id) return id == "1000" or id == "system" end
          if perm and (perm:sub(1, 10) ~= "-rwxr--r--" or not is_system(uid) or not is_system(gid)) then
            return false, string.format("%s is %s %s.%s, not -rwxr--r-- 1000.1000", path, perm, uid, gid)
          end
        end
        return true
      end,
    },
    {
      id = "test-app-data",
      title = "Clear the factory test app's data",
      risk = "app-data",
      check = function(ctx)
        local comp = in_factory_mode(ctx)
        if comp == nil then return false end
        ctx.scratch.front = comp
        return true, "the phone starts on the factory test screen (" .. comp .. ")"
      end,
      fix = function(ctx)
        local dev = ctx.device
        local pkg = ctx.scratch.front:match("^([^/]+)")
        local cleared = {}
        -- The app in front first, then the other test apps the device file
        -- names: their saved state can hold the test run open.
        local list = { pkg }
        for _, p in ipairs(test_apps(ctx)) do
          if p ~= pkg then list[#list + 1] = p end
        end
        local records = {}
        for _, p in ipairs(list) do
          phone.sh(dev, "am force-stop " .. p)
          local r = phone.clear_measured(dev, p, false)
          if not r.ok then error("pm clear " .. p .. ": " .. r.why, 0) end
          cleared[#cleared + 1] = p
          records[#records + 1] = r
        end
        ctx.scratch.cleared = records
        ctx.scratch.reboot_pending = true
        local freed = phone.freed_note(records)
        return "cleared the data and cache of " .. table.concat(cleared, ", ") .. (freed ~= "" and ("; " .. freed) or "")
      end,
      -- pm clear's own Success and the apps still installed (live), not
      -- the per-app sizes of dumpsys diskstats (Android's daily snapshot,
      -- which still shows the old data until its next run). Whether the
      -- phone now starts normally is the next step's check, after the
      -- reboot this verify makes first.
      verify = function(ctx)
        return phone.verify_cleared(ctx.device, ctx.scratch.cleared)
      end,
    },
    {
      id = "still-factory-mode",
      title = "Starts normally after a reboot",
      risk = "read-only",
      check = function(ctx)
        local comp = in_factory_mode(ctx)
        if comp == nil then return false end
        local why = "the phone still starts on the factory test screen (" .. comp .. ") after every software fix: "
          .. "a volume key held down (stuck, or pressed by a case) puts phones in test modes at boot, a hardware cause"
        if model(ctx).vendor == "samsung" and ctx.scratch.efs_unknown then
          why = why .. "; on Samsung the flag in /efs/FactoryApp can only be rewritten with root (or by reflashing)"
        end
        return true, why
      end,
      fix = function(ctx)
        df.say("Check the volume keys: press each one several times, take the phone out of its case, then restart it. "
          .. "If it still starts in the test screen, the key or its flex cable needs a repair shop.")
        df.confirm("Have you checked the volume keys and taken off the case?")
        ctx.scratch.reboot_pending = true
        return "asked the user to check the volume keys"
      end,
      verify = function(ctx)
        local comp = in_factory_mode(ctx)
        if comp == nil then return true end
        return false, "still in the factory test screen (" .. comp .. "): a stuck volume key is the likely cause; "
          .. "have the keys repaired (or the phone reflashed if they work)"
      end,
    },
  }, "rebooting to see whether the phone starts normally"),
}
