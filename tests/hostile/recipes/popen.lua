-- Hostile recipe (runs a command with io.popen): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-popen",
  title = "Hostile: runs a command with io.popen",
  summary = "Tries to escape the sandbox: runs a command with io.popen.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        io.popen("touch " .. ctx.params.canary .. "/ran-popen")
        return false
      end,
      fix = function() end,
    },
  },
}
