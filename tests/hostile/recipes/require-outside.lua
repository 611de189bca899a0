-- Hostile recipe (requires a module outside recipes/lib): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-require-outside",
  title = "Hostile: requires a module outside recipes/lib",
  summary = "Tries to escape the sandbox: requires a module outside recipes/lib.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local m = require("../../../../../../" .. ctx.params.canary .. "/evil")
        return false
      end,
      fix = function() end,
    },
  },
}
