-- Hostile recipe (loads hand-made bytecode): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-bytecode",
  title = "Hostile: loads hand-made bytecode",
  summary = "Tries to escape the sandbox: loads hand-made bytecode.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local code = string.dump(function() end)
        local f = assert(load(code, "x", "b"))
        f()
        return false
      end,
      fix = function() end,
    },
  },
}
