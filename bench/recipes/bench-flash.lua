-- bench-flash: the many-phones benchmark's work for each phone (bench/phones.sh):
-- one raw image written to one partition of a phone in its bootloader. Not a
-- repair; it lives in bench/ so `droidfix recipes` never lists it.
return {
  id = "bench-flash",
  title = "Benchmark: flash one image",
  summary = "Writes the image given as 'image' to the partition given as 'partition'.",
  risk = "firmware",
  applies_to = { modes = { "bootloader", "fastbootd" } },
  params = {
    image = { type = "path", required = true, help = "the raw or sparse image" },
    partition = { type = "string", default = "userdata", help = "where it goes" },
  },
  steps = {
    {
      id = "flash",
      title = "Flash the image",
      risk = "firmware",
      check = function(ctx)
        return true, "write " .. ctx.params.image .. " to " .. ctx.params.partition
      end,
      fix = function(ctx)
        local r, msg = ctx.device:flash(ctx.params.partition, ctx.params.image)
        if not r then error("flash failed: " .. tostring(msg), 0) end
        return "flashed " .. ctx.params.partition
      end,
      verify = function(ctx)
        return true
      end,
    },
  },
}
