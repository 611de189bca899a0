-- Hostile recipe (requires a module by absolute path): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-require-absolute",
  title = "Hostile: requires a module by absolute path",
  summary = "Tries to escape the sandbox: requires a module by absolute path.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local m = require("/etc/passwd")
        return false
      end,
      fix = function() end,
    },
  },
}
