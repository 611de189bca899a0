---@meta
-- The df module recipes see: the single source of the API reference
-- (docs/api is generated from these annotations). This file holds the
-- talking-with-the-user part; the phone (df.Device: dev:shell, dev:push,
-- flash, reboot, wait_for ...), df.model, df.instruct and the file
-- functions are in device.lua, backups in backup.lua, the recipe's shape
-- in recipe.lua.
--
-- Conventions (the luv way):
--   * A call that waits (df.sleep, df.confirm, df.choose, and every device
--     call) pauses the step and resumes it when the operation completes;
--     recipe code reads top to bottom. Such calls work only from a step's
--     check/fix/verify (also inside pcall), not while the recipe file loads,
--     not inside a coroutine the recipe created, and not from inside a C
--     function (a table.sort comparator, a string.gsub callback).
--   * I/O failures return `nil, message, code` (code: a name such as
--     "ENODEV", "ETIMEDOUT", "EUNSUPPORTED"); misuse raises an error naming
--     the argument.

---@class df
---@field version string droidfix's version, e.g. "0.1.0"
---@field hash df.hash hashes of local files (device.lua)
---@field archive df.archive reading archives (device.lua)
---@field firmware df.firmware looking inside firmware packages (device.lua)
---@field backup df.backup backups of the phone (backup.lua)
---@field plugins table<string, table<string, function>> functions added by external plugins: df.plugins.NAME.FUNCTION (docs/plugins.md); empty without plugins
df = {}

---Tells the user something (one sentence). With more than one argument the
---first is a string.format pattern.
---
---```lua
---df.say("clearing the cache of %s", ctx.params.package)
---```
---@param fmt any
---@param ... any
function df.say(fmt, ...) end

---Announces what happens now, as a headline under the step's title.
---@param fmt any
---@param ... any
function df.step(fmt, ...) end

---@alias df.LogLevel "error"|"warn"|"info"|"debug"

---Writes a line to droidfix's log (shown with -v, always in --json events).
---@param level df.LogLevel
---@param fmt any
---@param ... any
function df.log(level, fmt, ...) end

---Reports progress of long work: done out of total (total 0 or nil: unknown).
---@param label string
---@param done number
---@param total? number
function df.progress(label, done, total) end

---Waits ms milliseconds without holding the loop (other phones go on).
---@param ms integer 0 .. 86400000
---@return true
function df.sleep(ms) end

---Asks the user a yes/no question and waits for the answer. With --yes the
---answer is yes at once. Without a terminal and without --yes: nil, message,
---"EUNSUPPORTED" at once (never hangs).
---@param question string
---@return boolean|nil yes
---@return string? message
---@return string? code
function df.confirm(question) end

---Asks the user to pick one of options and waits. Returns the 1-based index
---and the option; without a terminal: nil, message, "EUNSUPPORTED".
---@param question string
---@param options string[] 1 to 64 labels
---@return integer|nil index
---@return string message_or_option
---@return string? code
function df.choose(question, options) end

---Asks for a confirmation the user has to type: the question is shown with
---the code, and only the code typed exactly is a yes (anything else is a
---no). For what cannot be undone (flashing firmware, wiping the phone).
---With --yes the answer is yes at once; without a terminal and without
-----yes: nil, message, "EUNSUPPORTED" at once (never hangs).
---
---```lua
---local yes = df.confirm_typed("This erases everything on the phone.", "ERASE")
---```
---@param question string
---@param code string 1 to 32 printable characters, no spaces
---@return boolean|nil yes
---@return string? message
---@return string? code
function df.confirm_typed(question, code) end

-- ---------------------------------------------------------------------
-- The sandbox: what else a recipe can use.
--
-- Base: assert error ipairs next pairs pcall xpcall rawequal rawget rawlen
-- rawset select tonumber tostring type _VERSION _G, and:
--   setmetatable(t, mt)  tables only; a metatable with __gc is refused
--   getmetatable(t)      tables only (the string metatable is protected)
--   collectgarbage(opt)  "collect", "count", "step", "isrunning" only
--   load(chunk, name, mode, env)  text chunks (a string, mode "t") of at
--                        most 1 MiB; env defaults to the caller's env
--   require(name)        a helper module under recipes/lib by name
--                        ("pm" -> recipes/lib/pm.lua, "android.pm" ->
--                        recipes/lib/android/pm.lua), sandboxed likewise
-- Libraries (each recipe gets its own copies): string (no dump), table,
-- math, utf8, coroutine, os.clock/date/difftime/time.
-- Not there: print (use df.say), io, os.execute/remove/rename/exit/getenv,
-- debug, package, dofile, loadfile, string.dump. Reading an unknown global
-- raises "unknown global 'x'".
-- Limits per run: 64 MiB of memory, 200 million VM instructions, and 3 s of
-- running without waiting; past one, the run stops with a message naming
-- the limit, and pcall cannot catch that.
