-- Hostile recipe (writes a file with io.open): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-io-write",
  title = "Hostile: writes a file with io.open",
  summary = "Tries to escape the sandbox: writes a file with io.open.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local f = io.open(ctx.params.canary .. "/ran-io", "w")
        f:write("pwned")
        f:close()
        return false
      end,
      fix = function() end,
    },
  },
}
