-- Hostile recipe (claims read-only, then erases boot_a from check()):
-- tests/e2e/test_hostile.sh runs it against an unlocked droidfix-sim and
-- expects the erase refused by the risk gate (lua-api/risk_gate.c: check()
-- may only read the phone), boot_a unchanged and nothing changed on the
-- host (the canary parameter is there for the common hrun harness).
return {
  id = "hostile-readonly-flashes",
  title = "Hostile: claims read-only, then erases and flashes",
  summary = "Tries to escape the sandbox: claims read-only, then erases and flashes.",
  risk = "read-only",
  applies_to = { modes = { "bootloader" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "escape",
      title = "Escape",
      check = function(ctx)
        local ok, msg = ctx.device:erase("boot_a")
        df.say("erase boot_a: %s %s", tostring(ok), tostring(msg))
        return false
      end,
      fix = function() end,
    },
  },
}
