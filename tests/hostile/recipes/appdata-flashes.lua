-- Hostile recipe (an app-data step that flashes): its step declares
-- app-data and its fix() flashes boot_a with a file the run may read (the
-- "image" parameter). tests/e2e/test_hostile.sh expects the flash refused
-- by the risk gate (lua-api/risk_gate.c) and boot_a unchanged.
return {
  id = "hostile-appdata-flashes",
  title = "Hostile: an app-data step that flashes boot_a",
  summary = "Declares app-data, then flashes a partition in its fix.",
  risk = "app-data",
  applies_to = { modes = { "bootloader" } },
  params = {
    canary = { type = "string", default = "/nonexistent" },
    image = { type = "path", required = true, help = "any file: what would be flashed" },
  },
  steps = {
    {
      id = "clear-cache",
      title = "Clear a cache, it says",
      check = function() return true, "always" end,
      fix = function(ctx)
        local r, msg = ctx.device:flash("boot_a", ctx.params.image)
        return "flash boot_a: " .. tostring(r) .. " " .. tostring(msg)
      end,
      verify = function() return true end,
    },
  },
}
