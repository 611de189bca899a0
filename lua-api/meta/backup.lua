---@meta
-- Backups: C does the streaming (files pulled from the phone go straight
-- into a .tar archive), the recipe decides what goes in.

---@class df.BackupSpec
---@field folders? string[] folders on the phone to copy, e.g. { "/sdcard" }
---@field packages? boolean write meta/packages.txt (the installed packages)
---@field settings? boolean write meta/settings-{system,secure,global}.txt
---@field apps? boolean with packages: user apps' APKs into apps/PKG/, and with root (su) their data (apps/PKG/data.tar) and the account databases (accounts/accounts.tar); default true

---@class df.BackupResult
---@field path string the archive written
---@field files integer files in it
---@field bytes integer bytes of file data
---@field manifest_sha256 string the sha256 of MANIFEST.sha256
---@field rooted boolean su answered as root: apps' data and accounts could be copied
---@field apps integer user apps whose APKs are all in the archive
---@field apps_with_data integer user apps whose private data is in the archive
---@field accounts boolean the account databases are in the archive
---@field not_backed_up string[] meta/not-backed-up.txt: "app-data PKG", "account TYPE NAME"
---@field lost_app_data string[] apps whose data a factory reset would lose despite this backup
---@field lost_accounts string[] accounts ("TYPE NAME") a factory reset would lose despite this backup

---@class df.RestoreOptions
---@field folders? string[] restore only under these phone folders
---@field settings? boolean put settings back (default true)
---@field apps? boolean reinstall missing apps from their APKs and, with root, put their data and the accounts back (default true)

---@class df.backup
df.backup = {}

---Streams the files of spec from the phone into a .tar archive at
---out_path..".partial", with MANIFEST.sha256 (a sha256 and path per file),
---verifies it by reading it again, and only then renames it to out_path.
---
---Risk class: read-only (it reads the phone and writes only the computer).
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
---Reinstalls the backup's apps that are missing; with root, puts their
---data back (owned by their new uid) and the account databases, which take
---effect after a reboot (reboot_needed).
---
---Risk class: user-data (it writes the phone's storage and settings).
---@param dev df.Device
---@param path string
---@param opts? df.RestoreOptions
---@return { files: integer, bytes: integer, apps_installed: string[], apps_data_restored: string[], apps_failed: string[], missing_apps: string[], accounts_restored: boolean, reboot_needed: boolean }|nil result
---@return string? message
---@return string? code
function df.backup.restore(dev, path, opts) end
