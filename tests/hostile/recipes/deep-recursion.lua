-- Hostile recipe (recurses without end): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-deep-recursion",
  title = "Hostile: recurses without end",
  summary = "Tries to escape the sandbox: recurses without end.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local function f(n) return f(n + 1) + 1 end
        return f(1)
      end,
      fix = function() end,
    },
  },
}
