-- xiaomi/common: what Xiaomi, Redmi and POCO phones share. A vendor base
-- (abstract): models extend it; droidfix never matches it to a phone.
return {
  abstract = true,
  vendor = "xiaomi",
  name = "Xiaomi (vendor base)",

  properties = {
    ["ro.product.manufacturer"] = "Xiaomi",
  },

  match = {
    -- Xiaomi's adb id, and the fastboot id of Qualcomm Xiaomi phones. Both
    -- are shared by many models: USB alone names the vendor, not the model.
    usb = {
      { vid = 0x2717, pid = 0xff48, mode = "adb" },
      { vid = 0x18d1, pid = 0xd00d, mode = "fastboot" },
    },
  },

  modes = {
    fastboot = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_down", "power" }, ["until"] = "the FASTBOOT screen appears" },
        { action = "release", keys = { "volume_down", "power" } },
      },
      notes = "Power the phone off first, then hold Volume Down and Power together until the FASTBOOT screen shows.",
      verified = true,
    },
    recovery = {
      from = "off",
      steps = {
        { action = "hold", keys = { "volume_up", "power" }, ["until"] = "the recovery menu appears", seconds = 10 },
        { action = "release", keys = { "volume_up", "power" } },
      },
      notes = "Power the phone off first, then hold Volume Up and Power for 5 to 10 seconds.",
      verified = true,
    },
    ["safe-mode"] = {
      from = "off",
      steps = {
        { action = "hold", keys = { "power" }, ["until"] = "the boot logo appears" },
        { action = "release", keys = { "power" } },
        { action = "hold", keys = { "volume_down" }, ["until"] = "the lock screen shows 'Safe mode'" },
        { action = "release", keys = { "volume_down" } },
      },
      notes = "The general Android method (hold Volume Down while booting); not checked on MIUI or HyperOS.",
      verified = false,
    },
  },

  packages = {
    factory_test = "com.miui.cit",
  },

  flashing = {
    rom_format = "xiaomi-fastboot-tgz",
    -- The bootloader's max-download-size is not known from a source; the
    -- fastbootd value is the one AOSP's fastbootd reports.
    max_download_size = 256 * 1024 * 1024,
    fastbootd_max_download_size = 0x10000000,
  },

  notes = {
    { text = "Fastboot: hold Volume Down + Power until the fastboot screen. Recovery: Volume Up + Power, 5-10 s.", source = "DOMAIN.md Phones (Xiaomi buttons)" },
    { text = "EDL needs an authorised account on production phones: no button path to rely on, so no edl mode here.", source = "DOMAIN.md Phones (Xiaomi buttons)" },
    { text = "Safe mode on HyperOS: the general Android method, not checked on these phones.", source = "unverified" },
    { text = "USB: adb seen as 2717:ff48; fastboot on Qualcomm Xiaomi phones 18d1:d00d. Match adb and fastboot by interface (FF/42/01, FF/42/03) first.", source = "DOMAIN.md Phones (USB); PROTOCOLS.md USB ids" },
    { text = "Hardware test app com.miui.cit.", source = "DOMAIN.md Packages and commands" },
    { text = "Fastboot ROMs: a .tgz with images/, flash_all.sh; product and anti-rollback checks.", source = "PROTOCOLS.md Xiaomi fastboot ROMs" },
    { text = "Bootloader max-download-size (256 MiB here) is a simulator value.", source = "unverified" },
    { text = "fastbootd max-download-size 0x10000000.", source = "PROTOCOLS.md Fastboot" },
  },
}
