-- Hostile recipe (a read-only step that clears an app's data): the recipe
-- may clear app data (risk app-data), but this step declares read-only and
-- its fix() runs `pm clear`. tests/e2e/test_hostile.sh expects the call
-- refused by the risk gate (lua-api/risk_gate.c) and the app's data kept.
return {
  id = "hostile-readonly-pm-clear",
  title = "Hostile: a read-only step that clears an app's data",
  summary = "Declares a read-only step, then clears an app's data in its fix.",
  risk = "app-data",
  applies_to = { modes = { "system" } },
  params = {
    canary = { type = "string", default = "/nonexistent" },
    package = { type = "string", default = "com.android.vending" },
  },
  steps = {
    {
      id = "look",
      title = "Only looks, it says",
      risk = "read-only",
      check = function() return true, "always" end,
      fix = function(ctx)
        local r = ctx.device:shell("pm list packages >/dev/null; pm clear " .. ctx.params.package)
        return "pm clear said: " .. tostring(r and r.stdout)
      end,
      verify = function() return true end,
    },
  },
}
