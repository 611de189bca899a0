---@meta
-- The phone a recipe works on (ctx.device, a df.Device) and the df
-- functions that need a phone or touch files: df.model, df.instruct,
-- df.host_time, df.hash, df.archive, df.firmware. The contract behind them
-- is written down in these annotations; docs/api is generated from them.
--
-- Every device call waits (the step pauses and resumes when the phone has
-- answered) and follows the df conventions: an I/O failure returns
-- `nil, message, code` (code such as "ENODEV", "ETIMEDOUT", "EDEVFAIL",
-- "EUNSUPPORTED"); misuse (a wrong argument type, a local path outside the
-- run's work folder) raises naming the argument.
--
-- Every call has a risk class (read-only, app-data, user-data, firmware, or
-- a reboot), written under each function. The risk gate
-- (lua-api/risk_gate.c) checks it against the step function running:
-- check() may only read (it also runs for --dry-run), fix() may go up to
-- its step's declared risk and reboot, verify() may read, reboot and wait.
-- A call above that raises naming the recipe, step, phase, call and class,
-- and fails the step even when the recipe catches the error.

---A mode the phone can be in, as droidfix sees it over ADB or fastboot.
---@alias df.DeviceMode "system"|"recovery"|"sideload"|"bootloader"|"fastbootd"

---Where dev:reboot sends the phone. "fastboot" is fastbootd (userspace
---fastboot, phones with dynamic partitions).
---@alias df.RebootTarget "system"|"bootloader"|"recovery"|"fastboot"|"sideload"

---@alias df.FileType "file"|"dir"|"link"|"other"

---@class df.ShellResult
---@field stdout string what the command wrote to standard output
---@field stderr string standard error ("" over shell v1, which merges both)
---@field exit integer|nil the exit code; nil only over shell v1 (old phones)

---@class df.Stat
---@field mode integer the Unix mode bits (type and permissions)
---@field size integer bytes
---@field mtime integer seconds since the epoch
---@field type df.FileType

---@class df.DirEntry: df.Stat
---@field name string the entry's name ("." and ".." are left out)

---@class df.FlashResult
---@field partition string the partition written, slot suffix included ("boot_a")
---@field pieces integer downloads it took (more than 1: sparse pieces)
---@field bytes integer bytes sent

---@class df.FlashOptions
---@field slot? "a"|"b" the slot to write; nil: the phone's current slot (A/B phones)

---@class df.WaitOptions
---@field timeout? number seconds to wait (default 120)

---The phone a recipe works on: `ctx.device`. It stays the same phone (by
---serial) across reboots: after dev:wait_for returns true, dev.mode is the
---new mode and calls go to the new session.
---@class df.Device
---@field serial string the phone's serial number
---@field mode df.DeviceMode the mode it was last seen in
---@field transport string how it is reached ("tcp:127.0.0.1:40123", "usb:1-2")
local Device = {}

---Runs a shell command on the phone (adb modes: system, recovery). The
---command's exit code is in `exit`; a non-zero exit is not an error.
---
---```lua
---local r = ctx.device:shell("pm clear com.android.vending")
---if r.exit ~= 0 then return nil, r.stderr end
---```
---
---Risk class: by the command line, conservatively: read-only only when every
---command in it (split on `|`, `&&`, `||`, `;`, `&`, newlines) is a known
---reader (`getprop`, `dumpsys`, `pm list`, `settings get`, `logcat -d`,
---`cat`, `ls` ...) with no output redirection but to /dev/null and no command
---substitution; app-data for `pm clear`, `am force-stop`, `settings put`,
---`cmd appops reset` and the like; firmware for writes to block devices;
---anything else user-data. A `reboot` command counts as a reboot.
---@param cmd string
---@return df.ShellResult|nil result
---@return string? message
---@return string? code "EUNSUPPORTED" in fastboot modes
function Device:shell(cmd) end

---A system property ("" when it is not set).
---
---Risk class: read-only.
---@param name string e.g. "ro.build.version.release"
---@return string|nil value
---@return string? message
---@return string? code
function Device:getprop(name) end

---Copies a local file to the phone. local_path must lie under ctx.workdir
---or be a parameter of type "path"; anything else raises.
---
---Risk class: user-data (it writes the phone's storage).
---@param local_path string
---@param remote_path string
---@return true|nil ok
---@return string? message
---@return string? code
function Device:push(local_path, remote_path) end

---Copies a file from the phone (through local_path..".partial", renamed when
---complete). local_path must lie under ctx.workdir or be a "path" parameter.
---
---Risk class: read-only.
---@param remote_path string
---@param local_path string
---@return true|nil ok
---@return string? message
---@return string? code
function Device:pull(remote_path, local_path) end

---Facts about a file on the phone, or false when there is none.
---
---Risk class: read-only.
---@param remote string
---@return df.Stat|false|nil st
---@return string? message
---@return string? code
function Device:stat(remote) end

---A folder's entries on the phone.
---
---Risk class: read-only.
---@param remote string
---@return df.DirEntry[]|nil entries
---@return string? message
---@return string? code
function Device:list(remote) end

---Reboots the phone into target, from ADB or fastboot as its mode allows.
---Does not wait: follow with dev:wait_for.
---
---Risk class: a reboot: allowed in fix() and verify(), refused in check() and
---in --dry-run.
---@param target df.RebootTarget
---@return true|nil ok
---@return string? message
---@return string? code "EUNSUPPORTED" when the mode cannot reach target
function Device:reboot(target) end

---Waits until the same phone (by serial) answers in one of modes, on the
---run's endpoints (--connect). Emits a "waiting" event (for = "reboot").
---After true, dev.mode is the new mode.
---
---```lua
---assert(dev:reboot("bootloader"))
---local ok, err = dev:wait_for("bootloader", { timeout = 60 })
---if not ok then return nil, err end
---```
---
---Risk class: read-only.
---@param modes df.DeviceMode|df.DeviceMode[]
---@param opts? df.WaitOptions
---@return true|nil ok
---@return string? message
---@return string? code "ETIMEDOUT"; "EUNSUPPORTED" when neither --connect endpoints nor USB are available
function Device:wait_for(modes, opts) end

---A fastboot variable (bootloader, fastbootd).
---
---Risk class: read-only.
---@param name string e.g. "current-slot", "unlocked", "max-download-size"
---@return string|nil value
---@return string? message the phone's FAIL text
---@return string? code "EDEVFAIL" when the phone refused
function Device:getvar(name) end

---Any fastboot command ("oem device-info", "flashing unlock",
---"set_active:a", ...). INFO lines are shown to the user as they arrive
---and returned as a list.
---
---Risk class: read-only for `getvar:...`; a reboot for `reboot`,
---`reboot-bootloader`, `reboot-recovery`, `reboot-fastboot` and `continue`;
---firmware for everything else (`oem ...`, `flashing ...`, `erase:`,
---`format:`, `set_active:`, `reboot-edl`).
---@param command string at most 64 bytes
---@return string|nil okay_text the text after OKAY
---@return string[]|string info_lines_or_message
---@return string? code "EDEVFAIL" with the phone's FAIL text as message
function Device:fastboot(command) end

---Writes an image file (raw or sparse) to a partition, in sparse pieces
---when it is bigger than the phone takes at once; progress is shown.
---
---Risk class: firmware.
---@param partition string
---@param image_path string a local file (under ctx.workdir or a "path" parameter)
---@param opts? df.FlashOptions
---@return df.FlashResult|nil result
---@return string? message
---@return string? code
function Device:flash(partition, image_path, opts) end

---Writes one entry of an archive (a firmware .tgz/.zip) to a partition,
---streaming it straight out of the archive (no temporary file).
---
---Risk class: firmware.
---@param partition string
---@param archive_path string
---@param entry_path string the entry's path inside the archive
---@param opts? df.FlashOptions
---@return df.FlashResult|nil result
---@return string? message
---@return string? code
function Device:flash_entry(partition, archive_path, entry_path, opts) end

---Erases a partition (fastboot erase:NAME).
---
---Risk class: firmware.
---@param partition string
---@return true|nil ok
---@return string? message
---@return string? code
function Device:erase(partition) end

---Makes slot the active one (fastboot set_active:SLOT).
---
---Risk class: firmware.
---@param slot "a"|"b"
---@return true|nil ok
---@return string? message
---@return string? code
function Device:set_active(slot) end

-- ---------------------------------------------------------------------
-- The phone's model data and talking with the user about it.

---One step of a button combination, as the device file has it.
---@class df.ButtonStep
---@field action "hold"|"release"|"press"|"plug_usb"|"unplug_usb"|"wait"
---@field keys? string[] "power", "volume_up", "volume_down", "bixby", "home"
---@field until? string what the person waits to see
---@field seconds? number

---@class df.ModeCombo
---@field from "off"|"on"|"any" the state the steps start from
---@field steps df.ButtonStep[]
---@field notes? string
---@field verified boolean

---The device file describing a phone (docs/device-files.md), merged with
---what it extends.
---@class df.Model
---@field id string "xiaomi/redmi-k70", or "generic"
---@field vendor string
---@field name string
---@field codenames string[]
---@field modes table<string, df.ModeCombo> keys: "fastboot", "recovery", "download", "safe-mode", "edl"
---@field packages table
---@field flashing table
---@field properties table<string, string>
---@field fallback boolean true when no model matched and generic was used
---@field reason string why this file was picked (or why droidfix fell back)

---The device file for dev (matched by ro.product.device, ro.product.model,
---then USB ids).
---@param dev df.Device
---@return df.Model|nil model
---@return string? message
---@return string? code
function df.model(dev) end

---@class df.InstructOptions
---@field timeout? number seconds to wait for the phone (default 120)

---Shows the person the button combination for mode from the device file
---(numbered steps), then waits for the phone to show up in the matching
---mode: "fastboot" -> bootloader, "recovery" -> recovery, "safe-mode" ->
---system. Emits the event
---`{"event":"waiting","for":"instruct","combo":...,"mode":...,"steps":[...],"buttons":[...],"timeout":N}`;
---each entry of buttons is one step as the device file writes it
---(action, keys, until), for a UI that draws the buttons.
---
---In a run started with no phone answering (`droidfix run --model ID`,
---mode "bootloop"), dev is nil and the model comes from --model: droidfix
---waits at the --connect endpoints for exactly one phone in the wanted
---mode, checks it against the model's device file, and from then on
---follows it by serial. Over USB that first wait is not built yet (the
---call then returns a message saying so).
---
---```lua
---local ok, err, code = df.instruct(ctx.device, "fastboot")
---if not ok then return nil, err end
---```
---
---Risk class: a reboot (the person restarts the phone); firmware for "edl"
---and "download".
---@param dev df.Device
---@param mode "fastboot"|"recovery"|"download"|"safe-mode"|"edl"
---@param opts? df.InstructOptions
---@return true|nil ok
---@return string? message
---@return string? code "EUNSUPPORTED" when the model has no such combination (or, offline, over USB); "ETIMEDOUT"; "EBUSY" when two phones show up in the mode at once; "EPERM" when the phone that shows up is not the --model
function df.instruct(dev, mode, opts) end

---The computer's clock, in seconds since the epoch (for clock-skew checks
---against the phone's `date +%s`).
---@return number
function df.host_time() end

-- ---------------------------------------------------------------------
-- Files on the computer: hashes, archives, firmware packages. Paths are
-- local files (ctx.workdir or a "path" parameter); nothing here writes.

---@class df.hash
df.hash = {}

---The hex digest of a local file, computed on the thread pool.
---@param path string
---@param algo "sha256"|"sha1"|"md5"
---@return string|nil hex
---@return string? message
---@return string? code
function df.hash.file(path, algo) end

---@class df.ArchiveEntry
---@field path string the entry's path inside the archive
---@field size integer bytes
---@field type "file"|"dir"|"link"|"other"

---@class df.archive
df.archive = {}

---The entries of an archive (.tar, .tgz, .zip ...). Any damage is an error.
---@param path string
---@return df.ArchiveEntry[]|nil entries
---@return string? message
---@return string? code "ECORRUPT"
function df.archive.list(path) end

---The text of a small entry (a flash script, a .txt).
---@param path string
---@param entry string
---@param max_bytes? integer at most this many bytes (default and limit 1 MiB)
---@return string|nil text
---@return string? message
---@return string? code "ENOENT" no such entry; "ETOOBIG" larger than max_bytes
function df.archive.read_text(path, entry, max_bytes) end

---@class df.FlashScriptStep
---@field command string "flash", "erase", "set_active", "getvar-check", ...
---@field partition? string
---@field image? string the archive entry it writes
---@field line integer

---@class df.FirmwareInfo
---@field codename string|nil the codename the package is for
---@field codenames string[] every codename it names
---@field anti_version integer|nil the anti-rollback version, when it has one
---@field scripts table<string, { steps: df.FlashScriptStep[] }> the flash scripts, parsed (never run)
---@field images string[] the image entries (*.img) in the package
---@field files table[] every entry, as df.archive.list gives them (path, size, type): the same walk, no second read of the package

---@class df.firmware
df.firmware = {}

---Looks inside a firmware package (a Xiaomi fastboot .tgz): codenames,
---anti-rollback version, its flash scripts parsed into steps. Nothing in
---the package is executed.
---@param path string
---@return df.FirmwareInfo|nil info
---@return string? message
---@return string? code
function df.firmware.inspect(path) end
