-- Hostile recipe (claims read-only, then erases and flashes): tests/e2e/test_hostile.sh runs it against
-- droidfix-sim and expects it stopped, with nothing changed on the phone or
-- the host. It would create a file in the canary folder (--param canary=DIR)
-- if the sandbox let it through.
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
