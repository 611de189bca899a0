-- Hostile recipe (a check that reboots the phone): check() must only look,
-- since --dry-run runs it and promises the phone does not change; this one
-- reboots into the bootloader. tests/e2e/test_hostile.sh expects the call
-- refused by the risk gate (lua-api/risk_gate.c) and the phone still in
-- Android.
return {
  id = "hostile-check-reboots",
  title = "Hostile: a check that reboots the phone",
  summary = "Reboots the phone from check(), which must only look.",
  risk = "firmware",
  applies_to = { modes = { "system" } },
  params = { canary = { type = "string", default = "/nonexistent" } },
  steps = {
    {
      id = "look",
      title = "Look",
      check = function(ctx)
        ctx.device:reboot("bootloader")
        return false
      end,
      fix = function() end,
    },
  },
}
