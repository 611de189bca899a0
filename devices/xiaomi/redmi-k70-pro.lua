-- xiaomi/redmi-k70-pro: Redmi K70 Pro (manet).
return {
  extends = "xiaomi/common",
  name = "Redmi K70 Pro",
  marketing_names = { "Redmi K70 Pro" },
  codenames = { "manet" },
  model_numbers = { "23117RK66C" },
  soc = { name = "Snapdragon 8 Gen 3", model = "SM8650", platform = "pineapple" },

  match = {
    ["ro.product.device"] = { "manet" },
    ["ro.product.model"] = { "23117RK66C" },
    usb = {
      { vid = 0x2717, pid = 0xff48, mode = "adb" },
      { vid = 0x18d1, pid = 0xd00d, mode = "fastboot" },
      { vid = 0x05c6, pid = 0x9008, mode = "edl" },
    },
  },

  properties = {
    ["ro.product.device"] = "manet",
    ["ro.product.model"] = "23117RK66C",
    ["ro.product.name"] = "manet",
    ["ro.product.brand"] = "Redmi",
    ["ro.product.board"] = "pineapple",
    ["ro.build.version.release"] = "14",
    ["ro.build.version.sdk"] = "34",
    ["ro.build.fingerprint"] = "Redmi/manet/manet:14/UKQ1.240624.001/OS3.0.305.0.WNMCNXM:user/release-keys",
  },

  flashing = {
    ab = true,
    dynamic_partitions = true,
    super_partition = "super",
    partitions = {
      { name = "boot", size = 96 * 1024 * 1024, slot = true },
      { name = "init_boot", size = 8 * 1024 * 1024, slot = true },
      { name = "vendor_boot", size = 96 * 1024 * 1024, slot = true },
      { name = "dtbo", size = 24 * 1024 * 1024, slot = true },
      { name = "recovery", size = 100 * 1024 * 1024, slot = true },
      { name = "vbmeta", size = 64 * 1024, slot = true },
      { name = "vbmeta_system", size = 64 * 1024, slot = true },
      { name = "misc", size = 1024 * 1024 },
      { name = "metadata", size = 16 * 1024 * 1024 },
      { name = "userdata", size = 1024 * 1024 * 1024 },
      { name = "super", size = 4 * 1024 * 1024 * 1024 },
      { name = "system", size = 1024 * 1024 * 1024, slot = true, logical = true },
      { name = "system_ext", size = 128 * 1024 * 1024, slot = true, logical = true },
      { name = "system_dlkm", size = 16 * 1024 * 1024, slot = true, logical = true },
      { name = "product", size = 256 * 1024 * 1024, slot = true, logical = true },
      { name = "odm", size = 16 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor", size = 512 * 1024 * 1024, slot = true, logical = true },
      { name = "vendor_dlkm", size = 32 * 1024 * 1024, slot = true, logical = true },
    },
  },

  notes = {
    { text = "Codename manet; Snapdragon 8 Gen 3 (SM8650); model number 23117RK66C; shipped with Android 14 and HyperOS.", source = "DOMAIN.md Phones" },
    { text = "PRODUCT_MODEL 23117RK66C, brand Redmi, fingerprint Redmi/manet/manet:14/UKQ1.240624.001/OS3.0.305.0.WNMCNXM (used here as the simulated fingerprint).", source = "zhitiaoguiwu/device_xiaomi_manet lineage_manet.mk" },
    { text = "Platform pineapple; A/B partitions boot init_boot vendor_boot dtbo vbmeta vbmeta_system odm product recovery system system_dlkm system_ext vendor vendor_dlkm; dynamic partitions odm product system system_dlkm system_ext vendor vendor_dlkm (group qti_dynamic_partitions).", source = "lolipuru/device_xiaomi_sm8650-common BoardConfigCommon.mk" },
    { text = "Real sizes: boot 100663296, dtbo 25165824, init_boot 8388608, recovery 104857600, vendor_boot 100663296, super 8321499136. Super (4 GiB here), logical partitions, vbmeta, misc, metadata and userdata are simulator sizes; not the full layout.", source = "lolipuru/device_xiaomi_sm8650-common BoardConfigCommon.mk; simulator sizes unverified" },
    { text = "Qualcomm EDL shows as 05c6:9008 (reached only with an authorised account).", source = "DOMAIN.md Phones (USB)" },
    { text = "Anti-rollback index of manet: not known.", source = "unverified" },
  },
}
