-- Hostile recipe (prints 64 MiB): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-huge-output",
  title = "Hostile: prints 64 MiB",
  summary = "Tries to escape the sandbox: prints 64 MiB.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local line = string.rep("A", 1024 * 1024)
        for i = 1, 64 do df.say("%s", line) end
        return false
      end,
      fix = function() end,
    },
  },
}
