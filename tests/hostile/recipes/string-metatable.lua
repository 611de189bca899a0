-- Hostile recipe (replaces the string metatable for every recipe): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
return {
  id = "hostile-string-metatable",
  title = "Hostile: replaces the string metatable for every recipe",
  summary = "Tries to escape the sandbox: replaces the string metatable for every recipe.",
  risk = "read-only",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local mt = getmetatable("")
        mt.__index = function() os.execute("touch " .. ctx.params.canary .. "/ran-mt") end
        return ("x"):upper() == "X" and false
      end,
      fix = function() end,
    },
  },
}
