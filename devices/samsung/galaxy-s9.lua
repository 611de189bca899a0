-- samsung/galaxy-s9: Galaxy S9 (starlte, Exynos 9810), with a Bixby key.
return {
  extends = "samsung/common",
  name = "Galaxy S9",
  marketing_names = { "Samsung Galaxy S9" },
  codenames = { "starlte" },
  model_numbers = { "SM-G960F" },
  soc = { name = "Exynos 9810", model = "exynos9810", platform = "exynos5" },

  match = {
    ["ro.product.device"] = { "starlte" },
    ["ro.product.model"] = { "SM-G960F" },
  },

  properties = {
    ["ro.product.device"] = "starlte",
    ["ro.product.model"] = "SM-G960F",
    ["ro.product.name"] = "starltexx",
    ["ro.product.board"] = "universal9810",
    ["ro.build.version.release"] = "10",
    ["ro.build.version.sdk"] = "29",
    ["ro.build.fingerprint"] = "samsung/starltexx/starlte:10/QP1A.190711.020/G960FXXUHFVK1:user/release-keys",
  },

  modes = {
    download = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_down", "bixby", "power" }, ["until"] = "a warning screen appears" },
        { action = "release", keys = { "volume_down", "bixby", "power" } },
        { action = "press", keys = { "volume_up" }, ["until"] = "the Downloading screen appears" },
      },
      notes = "Power the phone off, hold Volume Down + Bixby + Power, then press Volume Up to continue.",
      verified = false,
    },
    recovery = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_up", "bixby", "power" }, ["until"] = "the recovery menu appears" },
        { action = "release", keys = { "volume_up", "bixby", "power" } },
      },
      notes = "Power the phone off, then hold Volume Up + Bixby + Power.",
      verified = false,
    },
  },

  flashing = {
    ab = false,
    dynamic_partitions = false,
    partitions = {
      { name = "boot", size = 57671680 },
      { name = "recovery", size = 68149248 },
      { name = "system", size = 1024 * 1024 * 1024 },
      { name = "vendor", size = 681574400 },
      { name = "cache", size = 209715200 },
      { name = "userdata", size = 1024 * 1024 * 1024 },
    },
  },

  notes = {
    { text = "Download mode: power off, hold Volume Down + Bixby + Power, then Volume Up to continue. Recovery: Volume Up + Bixby + Power.", source = "DOMAIN.md Phones (third-party guides, not Samsung documentation)" },
    { text = "PRODUCT_DEVICE starlte, PRODUCT_MODEL SM-G960F, product name starltexx, fingerprint samsung/starltexx/starlte:10/QP1A.190711.020/G960FXXUHFVK1 (used here); launched with Android O; non-A/B.", source = "LineageOS/android_device_samsung_starlte lineage_starlte.mk" },
    { text = "OTA assert names starltexx, starlteks, starlte.", source = "LineageOS/android_device_samsung_starlte BoardConfig.mk" },
    { text = "Exynos 9810, board universal9810, platform exynos5. Partition sizes boot 57671680, recovery 68149248, system 3221225472, vendor 681574400, cache 209715200, userdata 21474836480; AVB disabled.", source = "baddar90/android_device_samsung_universal9810-common BoardConfigCommon.mk" },
    { text = "system and userdata are shrunk to 1 GiB for the simulator; real phones have more partitions (efs, param, modem, ...).", source = "unverified" },
  },
}
