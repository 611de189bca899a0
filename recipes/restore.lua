-- Restore a backup made by recipes/backup.lua (or the backup droidfix takes
-- before a risky step): the whole archive is checked against its manifest
-- first and a damaged or truncated one is refused before the phone is
-- touched; then its files go back to their places, the settings that differ
-- are put back where `settings put` can, and apps that were installed then
-- but are not now are listed (a backup holds no APKs: droidfix cannot
-- reinstall them). Verified by hashing the files on the phone (sha256sum)
-- against the manifest.
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
        if #bad == 0 then return false end
        return true, string.format("%d of %d files differ from the backup or are missing (first: %s)",
          #bad, total, bad[1])
      end,
      fix = function(ctx)
        local r, msg, code = df.backup.restore(ctx.device, ctx.params.archive, {
          folders = folder_list(ctx.params.folders),
          settings = ctx.params.settings,
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
        if #r.missing_apps > 0 then
          df.say("Apps installed at backup time but not now (droidfix cannot reinstall apps; install them from the Play Store): "
            .. table.concat(r.missing_apps, ", "))
          parts[#parts + 1] = string.format("%d apps to reinstall by hand", #r.missing_apps)
        end
        return table.concat(parts, "; ")
      end,
      verify = function(ctx)
        local bad = differing(ctx)
        if #bad > 0 then
          return false, string.format("%d files still differ from the backup (first: %s)", #bad, bad[1])
        end
        return true
      end,
    },
  },
}
