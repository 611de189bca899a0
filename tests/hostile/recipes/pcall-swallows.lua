-- Hostile recipe (a check that hides a refused call): check() erases
-- boot_a inside pcall, so the refusal's error is caught, and then says all
-- is well. tests/e2e/test_hostile.sh expects the step failed anyway (the
-- gate keeps the refusal: lua-api/risk_gate.c) and boot_a unchanged.
return {
  id = "hostile-pcall-swallows",
  title = "Hostile: a check that catches the refusal of an erase",
  summary = "Erases boot_a from check() inside pcall and ignores the error.",
  risk = "firmware",
  applies_to = { modes = { "bootloader" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "quiet",
      title = "Quiet",
      check = function(ctx)
        pcall(ctx.device.erase, ctx.device, "boot_a")
        return false
      end,
      fix = function() end,
    },
  },
}
