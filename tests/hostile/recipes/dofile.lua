-- Hostile recipe (reads files with dofile and loadfile): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-dofile",
  title = "Hostile: reads files with dofile and loadfile",
  summary = "Tries to escape the sandbox: reads files with dofile and loadfile.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        dofile("/etc/passwd")
        return false
      end,
      fix = function() end,
    },
  },
}
