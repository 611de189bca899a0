---@meta
-- The shape of a recipe: the table a recipe file returns. The loader checks
-- it before anything runs and names the field and line of any problem.

---What a recipe or step may do to a phone, least to most. A step above
---"app-data" asks for confirmation (--yes answers it; without a terminal and
---without --yes it is refused). Before a "user-data" or "firmware" step a
---backup is taken (unless --no-backup, which the report then says).
---@alias df.Risk "read-only"|"app-data"|"user-data"|"firmware"

---The modes a phone can be in.
---@alias df.Mode "system"|"safe-mode"|"recovery"|"sideload"|"bootloader"|"fastbootd"|"factory-mode"|"bootloop"|"download"

---@class df.AndroidRange
---@field min? integer lowest Android release (e.g. 10)
---@field max? integer highest Android release (e.g. 14)

---Which phones a recipe is for. Give vendors or models (or neither: any).
---@class df.AppliesTo
---@field modes df.Mode[] the modes the phone may be in when the recipe starts
---@field vendors? string[] vendor ids as under devices/ ("xiaomi", "samsung")
---@field models? string[] model ids ("xiaomi/redmi-k70")
---@field android? df.AndroidRange

---@alias df.ParamType "string"|"number"|"boolean"|"path"

---A parameter: `droidfix run RECIPE --param name=value`.
---@class df.Param
---@field type df.ParamType
---@field default? string|number|boolean of the parameter's type
---@field required? boolean a required parameter has no default
---@field help? string one line for `droidfix recipes`

---What a step function gets.
---@class df.Context
---@field params table<string, string|number|boolean> the parameters, typed, with defaults
---@field scratch table a table for the whole run, shared by all steps
---@field dry_run boolean true with --dry-run (only checks run then)
---@field device df.Device the phone (see df.Device)
---@field workdir string a folder of this run on the computer: local files a recipe
---pushes, pulls or flashes live here (or come from a parameter of type "path")
---@field recipe { id: string, title: string, risk: df.Risk }
---@field step { id: string, title: string, risk: df.Risk } the step running

---One step. check finds the problem, fix repairs it, verify confirms it.
---@class df.Step
---@field id string lowercase letters, digits and '-', unique in the recipe
---@field title string
---@field risk? df.Risk at most the recipe's risk; defaults to it
---Is the problem there? Return a truthy value (and a description) when it is;
---false or nil skips the step. It may only read the phone: --dry-run runs it
---and promises no change; a call of a higher risk class, or a reboot, raises.
---@field check fun(ctx: df.Context): any, string?
---Repairs it. A string returned is reported as what was changed. It may make
---calls up to the step's risk, and reboot; a call above raises.
---@field fix fun(ctx: df.Context): string?
---Did the fix hold? Return true, or false and why. Without verify, check runs
---again and must find nothing. It may read the phone, reboot it and wait for
---it; a call that changes more raises.
---@field verify? fun(ctx: df.Context): boolean, string?
---@field notes? string

---@class df.Recipe
---@field id string lowercase letters, digits and '-' ("play-store-stuck")
---@field title string at most 200 characters
---@field summary string what it fixes, for `droidfix recipes`
---@field description? string
---@field risk df.Risk the most any step does
---@field applies_to df.AppliesTo
---@field params? table<string, df.Param> names: lowercase words with '_'
---@field steps df.Step[] 1 to 64 steps, run in order
---@field author? string
---@field notes? string
