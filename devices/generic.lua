-- generic: the fallback droidfix uses when no other device file matches a
-- phone. It describes no real model: every button path here is the common
-- Android habit, none is verified, and droidfix says when it falls back.
return {
  vendor = "generic",
  name = "Unknown Android phone",
  marketing_names = {},
  codenames = {},
  model_numbers = {},
  soc = { name = "unknown", model = "unknown", platform = "unknown" },

  -- No rules: generic is never matched, only fallen back to.
  match = {},

  -- Values used when the simulated phone runs as "generic": made up, in the
  -- AOSP fingerprint format, not read from any phone.
  properties = {
    ["ro.product.device"] = "generic",
    ["ro.product.model"] = "Android phone",
    ["ro.product.name"] = "generic",
    ["ro.product.manufacturer"] = "unknown",
    ["ro.product.brand"] = "generic",
    ["ro.build.version.release"] = "14",
    ["ro.build.version.sdk"] = "34",
    ["ro.build.fingerprint"] = "generic/generic/generic:14/SIM.000000.001/1:user/release-keys",
  },

  modes = {
    fastboot = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_down", "power" }, ["until"] = "a bootloader or fastboot screen appears" },
        { action = "release", keys = { "volume_down", "power" } },
      },
      notes = "The most common combination; many makers use another one. Prefer 'adb reboot bootloader' when the phone still boots.",
      verified = false,
    },
    recovery = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_up", "power" }, ["until"] = "a recovery menu appears" },
        { action = "release", keys = { "volume_up", "power" } },
      },
      notes = "Varies by maker; some phones reach recovery only from the bootloader menu. Prefer 'adb reboot recovery' when the phone still boots.",
      verified = false,
    },
    ["safe-mode"] = {
      from = "off",
      steps = {
        { action = "hold", keys = { "power" }, ["until"] = "the boot logo appears" },
        { action = "release", keys = { "power" } },
        { action = "hold", keys = { "volume_down" }, ["until"] = "the lock screen shows 'Safe mode'" },
        { action = "release", keys = { "volume_down" } },
      },
      notes = "Hold Volume Down while the phone boots. Another way: long-press 'Power off' on the power menu.",
      verified = false,
    },
  },

  packages = {},

  -- A generic A/B phone with dynamic partitions, as a simulator layout only.
  flashing = {
    ab = true,
    dynamic_partitions = true,
    super_partition = "super",
    max_download_size = 256 * 1024 * 1024,
    fastbootd_max_download_size = 256 * 1024 * 1024,
    partitions = {
      { name = "boot", size = 64 * 1024 * 1024, slot = true },
      { name = "init_boot", size = 8 * 1024 * 1024, slot = true },
      { name = "vendor_boot", size = 64 * 1024 * 1024, slot = true },
      { name = "dtbo", size = 8 * 1024 * 1024, slot = true },
      { name = "vbmeta", size = 64 * 1024, slot = true },
      { name = "vbmeta_system", size = 64 * 1024, slot = true },
      { name = "misc", size = 1024 * 1024 },
      { name = "metadata", size = 16 * 1024 * 1024 },
      { name = "userdata", size = 1024 * 1024 * 1024 },
      { name = "super", size = 4 * 1024 * 1024 * 1024 },
      { name = "system", size = 1024 * 1024 * 1024, slot = true, logical = true },
      { name = "system_ext", size = 128 * 1024 * 1024, slot = true, logical = true },
      { name = "product", size = 256 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor", size = 256 * 1024 * 1024, slot = true, logical = true },
    },
  },

  notes = {
    { text = "The fallback for phones no other device file matches; droidfix names it when it falls back.", source = "docs/device-files.md" },
    { text = "No button path here is verified: they are the common Android habit only.", source = "unverified" },
    { text = "Safe mode by holding Volume Down while booting, or by long-pressing 'Power off'.", source = "DOMAIN.md Packages and commands" },
    { text = "Partition names and sizes are a simulator layout, not a real phone's.", source = "unverified" },
    { text = "Properties are made up in the AOSP fingerprint format, not read from a phone.", source = "unverified" },
  },
}
