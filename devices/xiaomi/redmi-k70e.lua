-- xiaomi/redmi-k70e: Redmi K70E (duchamp), sold abroad as POCO X6 Pro 5G.
-- A MediaTek phone: no Qualcomm fastboot or EDL ids.
return {
  extends = "xiaomi/common",
  name = "Redmi K70E",
  marketing_names = { "Redmi K70E", "POCO X6 Pro 5G" },
  codenames = { "duchamp" },
  model_numbers = { "2311DRK48C", "2311DRK48G", "2311DRK48I" },
  soc = { name = "MediaTek MT6897", model = "MT6897", platform = "mt6897" },

  match = {
    ["ro.product.device"] = { "duchamp" },
    ["ro.product.model"] = { "2311DRK48C", "2311DRK48G", "2311DRK48I" },
    usb = {
      { vid = 0x2717, pid = 0xff48, mode = "adb" },
      { vid = 0x0e8d, pid = 0x0003, mode = "brom" },
      { vid = 0x0e8d, pid = 0x2000, mode = "preloader" },
    },
  },

  properties = {
    ["ro.product.device"] = "duchamp",
    ["ro.product.model"] = "2311DRK48C",
    ["ro.product.name"] = "duchamp",
    ["ro.product.brand"] = "Redmi",
    ["ro.product.board"] = "duchamp",
    ["ro.build.version.release"] = "14",
    ["ro.build.version.sdk"] = "34",
    ["ro.build.fingerprint"] = "Redmi/duchamp/duchamp:14/SIM.000000.001/OS1.0.0.0.UNKCNXM:user/release-keys",
  },

  flashing = {
    ab = true,
    dynamic_partitions = true,
    super_partition = "super",
    partitions = {
      { name = "boot", size = 64 * 1024 * 1024, slot = true },
      { name = "init_boot", size = 8 * 1024 * 1024, slot = true },
      { name = "vendor_boot", size = 64 * 1024 * 1024, slot = true },
      { name = "dtbo", size = 8 * 1024 * 1024, slot = true },
      { name = "vbmeta", size = 64 * 1024, slot = true },
      { name = "vbmeta_system", size = 64 * 1024, slot = true },
      { name = "vbmeta_vendor", size = 64 * 1024, slot = true },
      { name = "misc", size = 1024 * 1024 },
      { name = "metadata", size = 16 * 1024 * 1024 },
      { name = "userdata", size = 1024 * 1024 * 1024 },
      { name = "super", size = 4 * 1024 * 1024 * 1024 },
      { name = "system", size = 1024 * 1024 * 1024, slot = true, logical = true },
      { name = "system_ext", size = 128 * 1024 * 1024, slot = true, logical = true },
      { name = "system_dlkm", size = 16 * 1024 * 1024, slot = true, logical = true },
      { name = "product", size = 256 * 1024 * 1024, slot = true, logical = true },
      { name = "odm", size = 16 * 1024 * 1024, slot = true, logical = true },
      { name = "odm_dlkm", size = 16 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor", size = 512 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor_dlkm", size = 32 * 1024 * 1024, slot = true, logical = true },
    },
  },

  notes = {
    { text = "Codename duchamp; MediaTek MT6897; twin POCO X6 Pro 5G.", source = "DOMAIN.md Phones" },
    { text = "Model numbers: China 2311DRK48C (Redmi K70E), global 2311DRK48G and India 2311DRK48I (POCO X6 Pro 5G).", source = "mt6897-devs/device_xiaomi_duchamp configs/sku/CN.prop, GL.prop, IN.prop" },
    { text = "Platform mt6897; A/B partitions boot init_boot odm odm_dlkm product system system_dlkm system_ext vbmeta vbmeta_system vbmeta_vendor vendor vendor_boot vendor_dlkm; recovery lives in vendor_boot; dynamic partitions odm odm_dlkm product system system_dlkm system_ext vendor vendor_dlkm.", source = "mt6897-devs/device_xiaomi_duchamp BoardConfig.mk" },
    { text = "Real sizes: boot 67108864, dtbo 8388608, init_boot 8388608, vendor_boot 67108864, super 9663676416. Super (4 GiB here), logical partitions, vbmeta*, misc, metadata and userdata are simulator sizes; not the full layout.", source = "mt6897-devs/device_xiaomi_duchamp BoardConfig.mk; simulator sizes unverified" },
    { text = "MediaTek BootROM 0e8d:0003 and preloader 0e8d:2000. The fastboot USB id of MediaTek Xiaomi phones is not known, so none is listed.", source = "DOMAIN.md Phones (USB)" },
    { text = "Shipped Android version and the fingerprint are typical values (SIM build id), not read from a phone.", source = "unverified" },
    { text = "Whether com.mediatek.factorymode is installed on this phone is not known.", source = "unverified" },
  },
}
