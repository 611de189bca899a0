---@meta
-- Backups: C does the streaming (files pulled from the phone go straight
-- into a .tar archive), the recipe decides what goes in.

---@class df.BackupSpec
---@field folders? string[] folders on the phone to copy, e.g. { "/sdcard" }
---@field packages? boolean write meta/packages.txt (the installed packages)
---@field settings? boolean write meta/settings-{system,secure,global}.txt

---@class df.BackupResult
---@field path string the archive written
---@field files integer files in it
---@field bytes integer bytes of file data
---@field manifest_sha256 string the sha256 of MANIFEST.sha256

---@class df.RestoreOptions
---@field folders? string[] restore only under these phone folders

---@class df.backup
df.backup = {}

---Streams the files of spec from the phone into a .tar archive at
---out_path..".partial", with MANIFEST.sha256 (a sha256 and path per file),
---verifies it by reading it again, and only then renames it to out_path.
---@param dev df.Device
---@param out_path string
---@param spec df.BackupSpec
---@return df.BackupResult|nil result
---@return string? message
---@return string? code
function df.backup.create(dev, out_path, spec) end

---Checks an archive against its manifest.
---@param path string
---@return true|nil ok
---@return string? message
---@return string? code "ECORRUPT"
function df.backup.verify(path) end

---Pushes the files of a backup back to the phone; a damaged archive is
---refused before anything is written (the manifest is checked first).
---@param dev df.Device
---@param path string
---@param opts? df.RestoreOptions
---@return { files: integer, bytes: integer }|nil result
---@return string? message
---@return string? code
function df.backup.restore(dev, path, opts) end
