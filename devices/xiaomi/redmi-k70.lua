-- xiaomi/redmi-k70: Redmi K70 (vermeer), sold abroad as POCO F6 Pro.
return {
  extends = "xiaomi/common",
  name = "Redmi K70",
  marketing_names = { "Redmi K70", "POCO F6 Pro" },
  codenames = { "vermeer" },
  model_numbers = { "23113RKC6C", "23113RKC6G" },
  soc = { name = "Snapdragon 8 Gen 2", model = "SM8550", platform = "kalama" },

  match = {
    ["ro.product.device"] = { "vermeer" },
    ["ro.product.model"] = { "23113RKC6C", "23113RKC6G" },
    usb = {
      { vid = 0x2717, pid = 0xff48, mode = "adb" },
      { vid = 0x18d1, pid = 0xd00d, mode = "fastboot" },
      { vid = 0x05c6, pid = 0x9008, mode = "edl" },
    },
  },

  -- The China model's identity (build_CN.prop); release and fingerprint are
  -- typical values for simulation, not read from a phone.
  properties = {
    ["ro.product.device"] = "vermeer",
    ["ro.product.model"] = "23113RKC6C",
    ["ro.product.name"] = "vermeer",
    ["ro.product.brand"] = "Redmi",
    ["ro.product.board"] = "kalama",
    ["ro.build.version.release"] = "14",
    ["ro.build.version.sdk"] = "34",
    ["ro.build.fingerprint"] = "Redmi/vermeer/vermeer:14/SIM.000000.001/OS1.0.0.0.UNKCNXM:user/release-keys",
  },

  flashing = {
    ab = true,
    dynamic_partitions = true,
    super_partition = "super",
    partitions = {
      { name = "boot", size = 192 * 1024 * 1024, slot = true },
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
    { text = "Codename vermeer; Snapdragon 8 Gen 2 (SM8550, kalama); shipped with Android 14 and HyperOS 1; twin POCO F6 Pro (23113RKC6G).", source = "DOMAIN.md Phones" },
    { text = "board-info.txt: require board=vermeer|kalama.", source = "xiaomi-sm8550-devs/android_device_xiaomi_vermeer board-info.txt" },
    { text = "China model 23113RKC6C, brand Redmi, name vermeer; global 23113RKC6G, brand POCO, name vermeer_global.", source = "xiaomi-sm8550-devs/android_device_xiaomi_vermeer properties/build_CN.prop, build_GL.prop" },
    { text = "A/B partitions boot dtbo init_boot odm product recovery system system_dlkm system_ext vbmeta vbmeta_system vendor vendor_boot vendor_dlkm; dynamic partitions in super (group xiaomi_dynamic_partitions): product system system_ext system_dlkm odm vendor vendor_dlkm; metadata partition.", source = "xiaomi-sm8550-devs/android_device_xiaomi_sm8550-common BoardConfigCommon.mk" },
    { text = "Real sizes: boot 201326592, dtbo 25165824, init_boot 8388608, vendor_boot 100663296, recovery 104857600, super 9663676416. Here super (4 GiB), the logical partitions, vbmeta, misc, metadata and userdata are simulator sizes, and real phones have many more partitions (abl, xbl, modem, ...).", source = "xiaomi-sm8550-devs/android_device_xiaomi_sm8550-common BoardConfigCommon.mk; simulator sizes unverified" },
    { text = "Qualcomm EDL shows as 05c6:9008 (reached only with an authorised account).", source = "DOMAIN.md Phones (USB)" },
    { text = "ro.build.fingerprint and ro.build.version.release are typical values (SIM build id), not read from a phone; Android 14 = SDK 34.", source = "unverified" },
    { text = "Anti-rollback index of vermeer: not known.", source = "unverified" },
  },
}
