-- Hostile recipe (loads bytecode from a literal): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-bytecode-literal",
  title = "Hostile: loads bytecode from a literal",
  summary = "Tries to escape the sandbox: loads bytecode from a literal.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local f = assert(load("\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64"))
        f()
        return false
      end,
      fix = function() end,
    },
  },
}
