-- Backup over ADB of /sdcard (or chosen folders), the installed apps with
-- their versions, and the settings, into one .tar archive with a SHA-256
-- manifest (df.backup.create: C streams each file straight from the phone
-- into the archive). The archive is written as OUTPUT.partial and renamed
-- only once it has been read back against its manifest, so an interrupted
-- backup never looks complete. Read-only for the phone: it only reads.
-- docs/backup.md describes the archive.

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
        return true, "no backup at " .. out .. " yet"
      end,
      fix = function(ctx)
        local out = output_path(ctx)
        local folders = folder_list(ctx.params.folders)
        df.step("copying " .. table.concat(folders, ", ") .. " into " .. out)
        local r, msg, code = df.backup.create(ctx.device, out, {
          folders = folders,
          packages = ctx.params.packages,
          settings = ctx.params.settings,
        })
        if not r then error("the backup failed (" .. tostring(code) .. "): " .. tostring(msg), 0) end
        ctx.scratch.backup = r
        local note = ""
        if r.skipped > 0 then note = string.format("; %d entries not copied (listed in meta/skipped.txt)", r.skipped) end
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
