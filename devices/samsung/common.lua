-- samsung/common: what Samsung Galaxy phones share. A vendor base
-- (abstract): models extend it. Samsung phones have no fastboot: their
-- bootloader speaks Odin in download mode, so no fastboot mode here.
return {
  abstract = true,
  vendor = "samsung",
  name = "Samsung (vendor base)",

  properties = {
    ["ro.product.manufacturer"] = "samsung",
    ["ro.product.brand"] = "samsung",
  },

  match = {
    usb = {
      { vid = 0x04e8, pid = 0x6860, mode = "adb" },
      { vid = 0x04e8, pid = 0x685d, mode = "download" },
    },
  },

  modes = {
    ["safe-mode"] = {
      from = "off",
      steps = {
        { action = "hold", keys = { "power" }, ["until"] = "the boot logo appears" },
        { action = "release", keys = { "power" } },
        { action = "hold", keys = { "volume_down" }, ["until"] = "the lock screen shows 'Safe mode'" },
        { action = "release", keys = { "volume_down" } },
      },
      notes = "The general Android method (hold Volume Down while booting); not checked on One UI.",
      verified = false,
    },
  },

  packages = {
    factory_test = "com.sem.factoryapp",
    factory_keystring = "com.sec.android.app.factorykeystring",
    hwmodule_test = "com.sec.android.app.hwmoduletest",
  },

  flashing = {
    rom_format = "samsung-odin",
  },

  notes = {
    { text = "Download (Odin) mode shows as 04e8:685d.", source = "DOMAIN.md Phones (USB); PROTOCOLS.md USB ids" },
    { text = "04e8:6860 is the id Galaxy phones show with MTP and adb; match adb by interface (FF/42/01) first.", source = "public udev rules (51-android.rules examples, 'Galaxy series, misc. (MTP mode)'); unverified per model" },
    { text = "Factory apps com.sec.android.app.factorykeystring, com.sec.android.app.hwmoduletest, com.sem.factoryapp. Factory mode lives in /efs/FactoryApp/factorymode (OFF means factory mode); shell uid 2000 cannot read /efs.", source = "DOMAIN.md Packages and commands" },
    { text = "Which of the factory apps is 'the Factory Test app' a guide means (factory_test here) is not known.", source = "unverified" },
    { text = "Samsung bootloaders have no fastboot; firmware goes through download mode (Odin protocol).", source = "DOMAIN.md Phones; LineageOS Samsung trees set TW_NO_REBOOT_BOOTLOADER and TW_HAS_DOWNLOAD_MODE" },
  },
}
