-- Restore a backup made by recipes/backup.lua (or the backup droidfix takes
-- before a risky step): the whole archive is checked against its manifest
-- first and a damaged or truncated one is refused before the phone is
-- touched; then its files go back to their places, the settings that differ
-- are put back where `settings put` can, apps that were installed then but
-- are not now are reinstalled from the APKs in the backup, and, when the
-- backup was taken with root and the phone gives root now, their private
-- data and the accounts go back too (the phone is restarted so Android
-- reads the account databases again). What the backup does not hold (taken
-- without root: apps' data, accounts) is said before anything is written.
-- Verified by hashing the files on the phone (sha256sum) against the
-- manifest and by listing the apps.
--
-- Risk user-data: restoring writes over the phone's files, so a file changed
-- since the backup goes back to its old content. That is the risk that makes
-- the runner ask first and take a fresh backup of the phone as it is now,
-- so even that newer content is kept.

local BATCH = 40 -- files per sha256sum command

local function folder_list(text)
  local out = {}
  for f in string.gmatch(text or "", "[^,]+") do
    f = f:match("^%s*(.-)%s*$")
    if f ~= "" then out[#out + 1] = (f:gsub("/+$", "")) end
  end
  return out
end

local function wanted(path, folders)
  if #folders == 0 then return true end
  for _, f in ipairs(folders) do
    if path == f or path:sub(1, #f + 1) == f .. "/" then return true end
  end
  return false
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The manifest's files (the phone's paths and their sha256).
local function manifest(ctx)
  if ctx.scratch.manifest then return ctx.scratch.manifest end
  local text, msg = df.archive.read_text(ctx.params.archive, "MANIFEST.sha256", 1048576)
  if not text then error("cannot read the manifest of " .. ctx.params.archive .. ": " .. tostring(msg), 0) end
  local folders = folder_list(ctx.params.folders)
  local files = {}
  for hex, name in text:gmatch("(%x+)  ([^\n]+)\n") do
    local remote = name:match("^files(/.*)$")
    if remote and wanted(remote, folders) then files[#files + 1] = { path = remote, sha256 = hex } end
  end
  ctx.scratch.manifest = files
  return files
end

-- The backup's own account of what it could not hold
-- (meta/not-backed-up.txt; absent in backups from before it existed).
local function not_in_backup(ctx)
  local text = df.archive.read_text(ctx.params.archive, "meta/not-backed-up.txt", 1048576)
  if not text or text == "" then return nil end
  local apps, accounts = {}, {}
  for line in text:gmatch("[^\n]+") do
    local pkg = line:match("^app%-data (.+)$")
    local acc = line:match("^account (.+)$")
    if pkg then apps[#apps + 1] = pkg end
    if acc then accounts[#accounts + 1] = acc end
  end
  local parts = {}
  if #apps > 0 then parts[#parts + 1] = "the private data of " .. table.concat(apps, ", ") end
  if #accounts > 0 then parts[#parts + 1] = "the accounts " .. table.concat(accounts, ", ") .. " (sign in again)" end
  if #parts == 0 then return nil end
  return "this backup does not hold " .. table.concat(parts, " and ")
    .. " (it was taken without root): they cannot be restored"
end

-- What of the backup only goes back with root (apps' data, the accounts)
-- when the phone gives no root now, in words; nil when nothing is lost that
-- way. A reflash puts a stock boot image over Magisk's, so a phone rooted
-- at backup time often is not at restore time; and the restore leaves apps
-- that are installed alone, so a later restore with root would not put
-- their data back either: root first.
local function needs_root(ctx)
  local r = ctx.device:shell("su -c id")
  if r ~= nil and r.exit == 0 and r.stdout:find("uid=0(", 1, true) then return nil end
  local text = df.archive.read_text(ctx.params.archive, "meta/apps.txt", 1048576) or ""
  local with_data = {}
  for name in text:gmatch("([%w%._]+) apks=%d+ data=yes") do with_data[#with_data + 1] = name end
  local _, _, code = df.archive.read_text(ctx.params.archive, "accounts/accounts.tar", 1)
  local accounts = code == "ETOOBIG"
  if #with_data == 0 and not accounts then return nil end
  return string.format("this backup holds %s%s, which go back only with root, and the phone gives "
    .. "no root now (a reflash replaces a rooted boot image): root it again first, else the apps "
    .. "come back without their data and a later restore leaves installed apps as they are",
    #with_data > 0 and string.format("the data of %d apps (%s)", #with_data, table.concat(with_data, ", ")) or "",
    accounts and ((#with_data > 0 and " and " or "") .. "the accounts") or "")
end

-- Apps in the backup (apps/PKG/...) that the phone does not have now.
local function missing_apps(ctx)
  local text = df.archive.read_text(ctx.params.archive, "meta/apps.txt", 1048576)
  if not text or text == "" then return {} end
  local r = ctx.device:shell("pm list packages -3")
  local now = {}
  for name in ((r and r.stdout) or ""):gmatch("package:([%w%._]+)") do now[name] = true end
  local missing = {}
  for name, apks in text:gmatch("([%w%._]+) apks=(%d+)") do
    if tonumber(apks) > 0 and not now[name] then missing[#missing + 1] = name end
  end
  return missing
end

-- Files on the phone whose sha256 differs from the manifest (or are gone).
local function differing(ctx)
  local files = manifest(ctx)
  local bad = {}
  for i = 1, #files, BATCH do
    local args, want = {}, {}
    for j = i, math.min(i + BATCH - 1, #files) do
      args[#args + 1] = quote(files[j].path)
      want[files[j].path] = files[j].sha256
    end
    local r, msg = ctx.device:shell("sha256sum " .. table.concat(args, " "))
    if not r then error("the phone did not answer sha256sum: " .. tostring(msg), 0) end
    local got = {}
    for hex, path in r.stdout:gmatch("(%x+)  ([^\n]+)\n") do got[path] = hex end
    for j = i, math.min(i + BATCH - 1, #files) do
      local f = files[j]
      if got[f.path] ~= f.sha256 then bad[#bad + 1] = f.path end
    end
  end
  return bad, #files
end

return {
  id = "restore",
  title = "Restore a droidfix backup to the phone",
  summary = "Checks a backup archive against its SHA-256 manifest, then puts its files and settings back and lists apps to reinstall.",
  risk = "user-data",
  applies_to = { modes = { "system", "recovery" } },
  params = {
    archive = { type = "path", required = true, help = "the backup archive (.tar) to restore" },
    folders = { type = "string", default = "", help = "restore only under these phone folders (commas); default all" },
    settings = { type = "boolean", default = true, help = "put settings back where `settings put` can" },
    apps = { type = "boolean", default = true,
             help = "reinstall the backup's apps that are missing (and, with root, their data and the accounts)" },
  },
  steps = {
    {
      id = "check-archive",
      title = "The backup is whole (every entry against its manifest)",
      risk = "read-only",
      check = function(ctx)
        local ok, msg = df.backup.verify(ctx.params.archive)
        if not ok then
          -- Refused before anything touches the phone: the run stops here.
          error("refusing to restore: " .. tostring(msg), 0)
        end
        local gap = not_in_backup(ctx)
        if gap then df.say("Before restoring: " .. gap .. ".") end
        local root = ctx.params.apps and needs_root(ctx)
        if root then df.say("Before restoring: " .. root .. ".") end
        return false
      end,
      fix = function() return nil end,
    },
    {
      id = "restore-files",
      title = "Put the backup's files and settings back",
      risk = "user-data",
      check = function(ctx)
        local bad, total = differing(ctx)
        local gone = ctx.params.apps and missing_apps(ctx) or {}
        if #bad == 0 and #gone == 0 then return false end
        local parts = {}
        if #bad > 0 then
          parts[#parts + 1] = string.format("%d of %d files differ from the backup or are missing (first: %s)",
            #bad, total, bad[1])
        end
        if #gone > 0 then
          parts[#parts + 1] = string.format("%d apps of the backup are not installed (%s)", #gone,
            table.concat(gone, ", "))
        end
        local gap = not_in_backup(ctx)
        if gap then parts[#parts + 1] = gap end
        local root = ctx.params.apps and needs_root(ctx)
        if root then parts[#parts + 1] = root end
        return true, table.concat(parts, "; ")
      end,
      fix = function(ctx)
        local r, msg, code = df.backup.restore(ctx.device, ctx.params.archive, {
          folders = folder_list(ctx.params.folders),
          settings = ctx.params.settings,
          apps = ctx.params.apps,
        })
        if not r then error("the restore failed (" .. tostring(code) .. "): " .. tostring(msg), 0) end
        ctx.scratch.manifest = nil
        local parts = { string.format("restored %d files (%d bytes)", r.files, r.bytes) }
        if ctx.params.settings then
          parts[#parts + 1] = string.format("%d settings put back", r.settings_restored)
        end
        if #r.settings_failed > 0 then
          df.say("Settings not put back: " .. table.concat(r.settings_failed, "; "))
          parts[#parts + 1] = string.format("%d settings could not be put back", #r.settings_failed)
        end
        if #r.apps_installed > 0 then
          parts[#parts + 1] = string.format("%d apps reinstalled (%s)", #r.apps_installed,
            table.concat(r.apps_installed, ", "))
        end
        if #r.apps_data_restored > 0 then
          parts[#parts + 1] = string.format("data of %d apps put back", #r.apps_data_restored)
        end
        if #r.apps_failed > 0 then
          df.say("Not fully restored: " .. table.concat(r.apps_failed, "; "))
          parts[#parts + 1] = string.format("%d apps or accounts not fully restored", #r.apps_failed)
        end
        if #r.missing_apps > 0 then
          df.say("Apps installed at backup time but not now (install them from the Play Store): "
            .. table.concat(r.missing_apps, ", "))
          parts[#parts + 1] = string.format("%d apps to reinstall by hand", #r.missing_apps)
        end
        if r.accounts_restored then
          parts[#parts + 1] = "accounts put back"
        end
        if r.reboot_needed then
          -- Android reads the account databases when it starts.
          df.step("restarting the phone so Android reads the restored accounts")
          local ok, err = ctx.device:reboot("system")
          if not ok then error("the phone did not restart: " .. tostring(err), 0) end
          ok, err = ctx.device:wait_for("system", { timeout = 120 })
          if not ok then error("the phone did not come back after the restart: " .. tostring(err), 0) end
          parts[#parts + 1] = "phone restarted"
        end
        return table.concat(parts, "; ")
      end,
      verify = function(ctx)
        local bad = differing(ctx)
        if #bad > 0 then
          return false, string.format("%d files still differ from the backup (first: %s)", #bad, bad[1])
        end
        local gone = ctx.params.apps and missing_apps(ctx) or {}
        if #gone > 0 then
          -- Failed installs: said, not hidden; files are back.
          df.say("Apps of the backup still not installed: " .. table.concat(gone, ", "))
        end
        return true
      end,
    },
  },
}
