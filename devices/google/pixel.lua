-- google/pixel: Google Pixel, modelled on the Pixel 7 (panther, Tensor G2,
-- gs201). The fastboot keys are the same on every Pixel in AOSP's table;
-- the flashing layout is the Pixel 7's.
return {
  vendor = "google",
  name = "Google Pixel 7",
  marketing_names = { "Pixel 7" },
  codenames = { "panther" },
  model_numbers = {},
  soc = { name = "Google Tensor G2", model = "gs201", platform = "gs201" },

  match = {
    ["ro.product.device"] = { "panther" },
    ["ro.product.model"] = { "Pixel 7" },
    usb = {
      { vid = 0x18d1, pid = 0x4ee7, mode = "adb" },
      { vid = 0x18d1, pid = 0x4ee0, mode = "fastboot" },
    },
  },

  properties = {
    ["ro.product.device"] = "panther",
    ["ro.product.model"] = "Pixel 7",
    ["ro.product.name"] = "panther",
    ["ro.product.manufacturer"] = "Google",
    ["ro.product.brand"] = "google",
    ["ro.product.board"] = "panther",
    ["ro.build.version.release"] = "14",
    ["ro.build.version.sdk"] = "34",
    ["ro.build.fingerprint"] = "google/panther/panther:14/UQ1A.240105.004/11206848:user/release-keys",
  },

  modes = {
    fastboot = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_down" } },
        { action = "hold", keys = { "power" }, ["until"] = "the Fastboot Mode screen appears" },
        { action = "release", keys = { "volume_down", "power" } },
      },
      notes = "Press and hold Volume Down, then press and hold Power.",
      verified = true,
    },
    recovery = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_down" } },
        { action = "hold", keys = { "power" }, ["until"] = "the Fastboot Mode screen appears" },
        { action = "release", keys = { "volume_down", "power" } },
        { action = "press", keys = { "volume_down" }, ["until"] = "the menu shows 'Recovery mode'" },
        { action = "press", keys = { "power" } },
      },
      notes = "From the bootloader menu: choose 'Recovery mode' with the volume keys, confirm with Power.",
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
      notes = "The general Android method (hold Volume Down while booting).",
      verified = false,
    },
  },

  packages = {},

  flashing = {
    ab = true,
    dynamic_partitions = true,
    super_partition = "super",
    max_download_size = 256 * 1024 * 1024,
    fastbootd_max_download_size = 0x10000000,
    rom_format = "google-factory-zip",
    partitions = {
      { name = "boot", size = 0x04000000, slot = true },
      { name = "init_boot", size = 0x800000, slot = true },
      { name = "vendor_boot", size = 0x04000000, slot = true },
      { name = "vendor_kernel_boot", size = 0x04000000, slot = true },
      { name = "dtbo", size = 0x01000000, slot = true },
      { name = "pvmfw", size = 0x00100000, slot = true },
      { name = "vbmeta", size = 64 * 1024, slot = true },
      { name = "vbmeta_system", size = 64 * 1024, slot = true },
      { name = "misc", size = 1024 * 1024 },
      { name = "metadata", size = 16 * 1024 * 1024 },
      { name = "userdata", size = 1024 * 1024 * 1024 },
      { name = "super", size = 4 * 1024 * 1024 * 1024 },
      { name = "system", size = 1024 * 1024 * 1024, slot = true, logical = true },
      { name = "system_dlkm", size = 16 * 1024 * 1024, slot = true, logical = true },
      { name = "system_ext", size = 128 * 1024 * 1024, slot = true, logical = true },
      { name = "product", size = 256 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor", size = 512 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor_dlkm", size = 32 * 1024 * 1024, slot = true, logical = true },
    },
  },

  notes = {
    { text = "Fastboot on every Pixel (sailfish to raven): press and hold Volume Down, then press and hold Power.", source = "AOSP source.android.com docs/setup/build/running (Fastboot key combinations)" },
    { text = "PRODUCT_MODEL 'Pixel 7', brand google, fingerprint google/panther/panther:14/UQ1A.240105.004/11206848 (used here).", source = "LineageOS/android_device_google_pantah lineage_panther.mk" },
    { text = "A/B (AB_OTA_UPDATER), boot 0x04000000, init_boot 0x800000, vendor_boot 0x04000000, vendor_kernel_boot 0x04000000, dtbo 0x01000000, pvmfw 0x00100000; super 8531214336 with system system_dlkm system_ext product vendor vendor_dlkm (group google_dynamic_partitions).", source = "LineageOS/android_device_google_gs201 BoardConfig-common.mk" },
    { text = "Super (4 GiB here), logical partitions, vbmeta*, misc, metadata and userdata are simulator sizes; bootloader max-download-size is a simulator value.", source = "unverified" },
    { text = "USB 18d1:4ee7 (adb) and 18d1:4ee0 (fastboot) as listed in public udev rules; match by interface first.", source = "public udev rules (51-android.rules); unverified for the Pixel 7" },
    { text = "Recovery through the bootloader menu and safe mode by keys: not from a Google source.", source = "unverified" },
    { text = "Pixel model numbers (GVU6C and others) were not found in a source; ro.product.model is the marketing name.", source = "unverified" },
  },
}
