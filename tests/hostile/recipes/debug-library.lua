-- Hostile recipe (uses the debug library to reach the registry): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-debug-library",
  title = "Hostile: uses the debug library to reach the registry",
  summary = "Tries to escape the sandbox: uses the debug library to reach the registry.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local reg = debug.getregistry()
        return false
      end,
      fix = function() end,
    },
  },
}
