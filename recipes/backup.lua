-- Backup over ADB of /sdcard (or chosen folders), the installed apps with
-- their versions and APK files, and the settings, into one .tar archive
-- with a SHA-256 manifest (df.backup.create: C streams each file straight
-- from the phone into the archive). On a rooted phone (su) the apps'
-- private data and the account databases go in too; without root Android
-- gives neither over ADB, and the check says beforehand exactly which
-- apps' data and which accounts a factory reset would lose anyway. The
-- archive is written as OUTPUT.partial and renamed only once it has been
-- read back against its manifest, so an interrupted backup never looks
-- complete. Read-only for the phone: it only reads (root's temporary tars
-- in /data/local/tmp are removed). docs/backup.md describes the archive.

-- "/sdcard, /storage/emulated/0/DCIM" -> { "/sdcard", "/storage/emulated/0/DCIM" }
local function folder_list(text)
  local out = {}
  for f in string.gmatch(text, "[^,]+") do
    f = f:match("^%s*(.-)%s*$")
    if f ~= "" then
      if f:sub(1, 1) ~= "/" then
        error("folder '" .. f .. "' is not an absolute phone path (like /sdcard)", 0)
      end
      out[#out + 1] = f
    end
  end
  return out
end

local function output_path(ctx)
  if ctx.scratch.output then return ctx.scratch.output end
  local out = ctx.params.output
  if out == nil or out == "" then
    local serial = tostring(ctx.device.serial):gsub("[^%w%.%-]", "_")
    out = ctx.workdir .. "/backup-" .. serial .. ".tar"
  end
  ctx.scratch.output = out
  return out
end

-- What a backup of this phone cannot hold: without root (su), the private
-- data of every user-installed app and every account.
local function coverage(dev)
  local r = dev:shell("su -c id")
  local rooted = r ~= nil and r.exit == 0 and r.stdout:find("uid=0(", 1, true) ~= nil
  if rooted then return true, {}, {} end
  local apps, accounts = {}, {}
  local p = dev:shell("pm list packages -3")
  for name in ((p and p.stdout) or ""):gmatch("package:([%w%._]+)") do apps[#apps + 1] = name end
  table.sort(apps)
  local a = dev:shell("dumpsys account")
  for name, kind in ((a and a.stdout) or ""):gmatch("Account {name=([^,\n]+), type=([^}\n]+)}") do
    accounts[#accounts + 1] = name .. " (" .. kind .. ")"
  end
  return false, apps, accounts
end

local function lost_text(apps, accounts)
  local parts = {}
  if #apps > 0 then parts[#parts + 1] = "the private data of " .. #apps .. " apps (" .. table.concat(apps, ", ") .. ")" end
  if #accounts > 0 then parts[#parts + 1] = "the accounts " .. table.concat(accounts, ", ") .. " (sign in again)" end
  return table.concat(parts, " and ")
end

return {
  id = "backup",
  title = "Back up the phone's files, apps list and settings",
  summary = "Copies /sdcard (or chosen folders), the installed apps with their versions and the settings into one verified .tar archive with a SHA-256 manifest.",
  risk = "read-only",
  applies_to = { modes = { "system", "recovery" } },
  params = {
    folders = { type = "string", default = "/sdcard",
                help = "phone folders to copy, separated by commas" },
    output = { type = "path",
               help = "the archive to write (default: backup-SERIAL.tar in the run's folder); never overwritten" },
    packages = { type = "boolean", default = true, help = "record the installed apps and their versions" },
    apps = { type = "boolean", default = true,
             help = "copy user-installed apps' APKs (and, with root, their data and the accounts)" },
    settings = { type = "boolean", default = true, help = "record settings (system, secure, global) and sync state" },
  },
  steps = {
    {
      id = "take-backup",
      title = "Copy the phone into a verified archive",
      risk = "read-only",
      check = function(ctx)
        local out = output_path(ctx)
        folder_list(ctx.params.folders) -- a bad folder fails here, before anything is written
        local msg = "no backup at " .. out .. " yet"
        if ctx.params.packages and ctx.params.apps then
          local rooted, apps, accounts = coverage(ctx.device)
          if not rooted and (#apps > 0 or #accounts > 0) then
            -- Said before anything is copied: the person decides with the facts.
            msg = msg .. "; the phone gives no root (su), so this backup cannot hold "
              .. lost_text(apps, accounts) .. ": a factory reset would lose them even with this backup"
          elseif rooted then
            msg = msg .. "; root (su) is available: apps' data and accounts will be copied too"
          end
        end
        return true, msg
      end,
      fix = function(ctx)
        local out = output_path(ctx)
        local folders = folder_list(ctx.params.folders)
        df.step("copying " .. table.concat(folders, ", ") .. " into " .. out)
        local r, msg, code = df.backup.create(ctx.device, out, {
          folders = folders,
          packages = ctx.params.packages,
          settings = ctx.params.settings,
          apps = ctx.params.apps,
        })
        if not r then error("the backup failed (" .. tostring(code) .. "): " .. tostring(msg), 0) end
        ctx.scratch.backup = r
        local note = ""
        if r.skipped > 0 then note = string.format("; %d entries not copied (listed in meta/skipped.txt)", r.skipped) end
        if ctx.params.packages and ctx.params.apps then
          note = note .. string.format("; %d apps with their APKs, %d with their data%s", r.apps,
            r.apps_with_data, r.accounts and ", accounts saved" or "")
          if #r.not_backed_up > 0 then
            local apps, accounts = {}, {}
            for _, n in ipairs(r.lost_app_data) do apps[#apps + 1] = n end
            for _, a in ipairs(r.lost_accounts) do accounts[#accounts + 1] = a end
            df.say("Not in this backup" .. (r.rooted and "" or " (the phone gives no root)") .. ": "
              .. lost_text(apps, accounts) .. ". A factory reset would lose them; the list is in meta/not-backed-up.txt.")
            note = note .. string.format("; NOT in the backup: data of %d apps, %d accounts (meta/not-backed-up.txt)",
              #r.lost_app_data, #r.lost_accounts)
          end
        end
        return string.format("wrote %s: %d files, %d bytes, manifest sha256 %s%s",
          r.path, r.files, r.bytes, r.manifest_sha256, note)
      end,
      verify = function(ctx)
        -- Read the finished archive again, every entry against the manifest.
        local ok, msg = df.backup.verify(output_path(ctx))
        if not ok then return false, msg end
        return true
      end,
    },
  },
}
