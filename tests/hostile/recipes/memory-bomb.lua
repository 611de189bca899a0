-- Hostile recipe (allocates without end): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-memory-bomb",
  title = "Hostile: allocates without end",
  summary = "Tries to escape the sandbox: allocates without end.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local t = {}
        local s = string.rep("x", 1024 * 1024)
        while true do t[#t + 1] = s .. #t end
      end,
      fix = function() end,
    },
  },
}
