-- samsung/galaxy-s22: Galaxy S22 (r0s, Exynos 2200), without a Bixby key.
return {
  extends = "samsung/common",
  name = "Galaxy S22",
  marketing_names = { "Samsung Galaxy S22" },
  codenames = { "r0s" },
  model_numbers = { "SM-S901B" },
  soc = { name = "Exynos 2200", model = "s5e9925", platform = "s5e9925" },

  match = {
    ["ro.product.device"] = { "r0s" },
    ["ro.product.model"] = { "SM-S901B" },
  },

  properties = {
    ["ro.product.device"] = "r0s",
    ["ro.product.model"] = "SM-S901B",
    ["ro.product.name"] = "r0sxxx",
    ["ro.product.board"] = "s5e9925",
    ["ro.build.version.release"] = "13",
    ["ro.build.version.sdk"] = "33",
    ["ro.build.fingerprint"] = "samsung/r0sxxx/r0s:13/TP1A.220624.014/S901BXXU2AVKC:user/release-keys",
  },

  modes = {
    download = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_up", "volume_down" } },
        { action = "plug_usb", ["until"] = "a warning screen appears" },
        { action = "release", keys = { "volume_up", "volume_down" } },
      },
      notes = "Power the phone off, hold Volume Up + Volume Down, and plug in the USB cable while holding them.",
      verified = false,
    },
    recovery = {
      from = "off",
      steps = {
        { action = "plug_usb" },
        { action = "hold", keys = { "volume_up", "power" }, ["until"] = "the recovery menu appears" },
        { action = "release", keys = { "volume_up", "power" } },
      },
      notes = "Power the phone off, attach a USB cable, then hold Volume Up + Power.",
      verified = false,
    },
  },

  flashing = {
    ab = false,
    dynamic_partitions = true,
    super_partition = "super",
    partitions = {
      { name = "boot", size = 64 * 1024 * 1024 },
      { name = "vendor_boot", size = 32 * 1024 * 1024 },
      { name = "dtbo", size = 8 * 1024 * 1024 },
      { name = "recovery", size = 96 * 1024 * 1024 },
      { name = "vbmeta", size = 64 * 1024 },
      { name = "metadata", size = 16 * 1024 * 1024 },
      { name = "cache", size = 600 * 1024 * 1024 },
      { name = "userdata", size = 1024 * 1024 * 1024 },
      { name = "super", size = 4 * 1024 * 1024 * 1024 },
      { name = "system", size = 1024 * 1024 * 1024, logical = true },
      { name = "system_ext", size = 128 * 1024 * 1024, logical = true },
      { name = "product", size = 256 * 1024 * 1024, logical = true },
      { name = "vendor", size = 512 * 1024 * 1024, logical = true },
      { name = "vendor_dlkm", size = 32 * 1024 * 1024, logical = true },
    },
  },

  notes = {
    { text = "No Bixby key. Download mode: power off, hold Volume Up + Volume Down and plug in the USB cable. Recovery: Volume Up + Power with a cable attached. Whether Volume Up must then be pressed to continue is not known.", source = "DOMAIN.md Phones (third-party guides, not Samsung documentation)" },
    { text = "Codename r0s on platform s5e9925 (Exynos 2200); dynamic partitions system system_ext vendor vendor_dlkm product (group samsung_dynamic_partitions); no AB_OTA_PARTITIONS, separate recovery and cache partitions, so not A/B.", source = "LineageOS/android_device_samsung_s5e9925-common BoardConfigCommon.mk; ExtremeXT/android_device_samsung_r0s BoardConfig.mk" },
    { text = "Real sizes: boot 67108864, vendor_boot 33554432, dtbo 8388608, recovery 100663296, cache 629145600, super 11744051200. Super (4 GiB here), logical partitions, vbmeta, metadata and userdata are simulator sizes.", source = "LineageOS/android_device_samsung_s5e9925-common BoardConfigCommon.mk; simulator sizes unverified" },
    { text = "Model SM-S901B with product name r0sxxx; the fingerprint used here (Android 13) comes from a third-party script; Google's media performance class list names samsung/r0sxxx/r0s:12, so it shipped with Android 12.", source = "public code search (third-party); unverified" },
  },
}
