-- What a new simulated phone holds before anything breaks: the Android
-- properties every model shares (a devices/ file's properties override
-- them), packages (Google apps and providers for all, vendor apps by vendor,
-- a few apps the user installed, with data), files in /sdcard, a Google
-- account with sync on, settings, storage and files of /efs.
-- Data only: loaded in an empty environment. Versions and sizes are
-- plausible values for an Android 14 phone in 2024, not read from a phone.
local KiB, MiB, GiB = 1024, 1024 * 1024, 1024 * 1024 * 1024
local DAY = 86400000

return {
  -- /data of a 256 GB phone (f2fs shows about 226 GiB) and what the OS,
  -- media and apps we do not model take of it.
  storage = { total = 226 * GiB, other = 41 * GiB },

  -- Android 14 defaults; a device file's properties are put over these.
  props = {
    ["ro.build.version.release"] = "14",
    ["ro.build.version.sdk"] = "34",
    ["ro.build.version.security_patch"] = "2024-01-01",
    ["ro.build.type"] = "user",
    ["ro.build.tags"] = "release-keys",
    ["ro.build.id"] = "UKQ1.230804.001",
    ["ro.debuggable"] = "0",
    ["ro.secure"] = "1",
    ["ro.adb.secure"] = "1",
    ["ro.product.cpu.abi"] = "arm64-v8a",
    ["ro.product.cpu.abilist"] = "arm64-v8a,armeabi-v7a,armeabi",
    ["ro.product.locale"] = "en-US",
    ["ro.crypto.state"] = "encrypted",
    ["ro.crypto.type"] = "file",
    ["ro.boot.dynamic_partitions"] = "true",
    ["ro.treble.enabled"] = "true",
    ["persist.sys.timezone"] = "UTC",
    ["persist.sys.usb.config"] = "mtp,adb",
    ["sys.usb.config"] = "mtp,adb",
    ["service.adb.root"] = "0",
    ["init.svc.adbd"] = "running",
    ["ro.sf.lcd_density"] = "480",
    ["gsm.version.baseband"] = "MPSS.DE.3.1.1-00106-KAILUA_GEN_PACK-1",
  },

  vendor_props = {
    xiaomi = {
      ["ro.mi.os.version.name"] = "OS1.0",
      ["ro.mi.os.version.code"] = "1",
      ["ro.miui.ui.version.code"] = "816",
      ["ro.miui.ui.version.name"] = "V816",
      ["ro.build.version.incremental"] = "OS1.0.8.0.UNKCNXM",
      ["ro.bootloader"] = "unknown",
    },
    samsung = {
      ["ro.build.version.oneui"] = "50100",
      ["ro.bootloader"] = "S901BXXU2AVKC",
    },
  },

  settings = {
    global = {
      auto_time = "1",
      auto_time_zone = "1",
      airplane_mode_on = "0",
      adb_enabled = "1",
      development_settings_enabled = "1",
      device_provisioned = "1",
      wifi_on = "1",
      mobile_data = "1",
      package_verifier_user_consent = "1",
      stay_on_while_plugged_in = "0",
      boot_count = "0",
    },
    secure = {
      user_setup_complete = "1",
      location_mode = "3",
      default_input_method = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME",
      install_non_market_apps = "1",
    },
    system = {
      screen_brightness = "128",
      screen_brightness_mode = "1",
      screen_off_timeout = "30000",
      font_scale = "1.0",
      time_12_24 = "24",
    },
  },

  -- system = true: preinstalled; process: where it runs when not its own.
  packages = {
    { name = "android", version_name = "14", version_code = 34, uid = 1000, system = true,
      code_path = "/system/framework", apk = "framework-res.apk" },
    { name = "com.android.shell", version_name = "14", version_code = 34, uid = 2000, system = true,
      code_path = "/system/priv-app/Shell", apk = "Shell.apk" },
    { name = "com.android.settings", version_name = "14", version_code = 34, uid = 1000, system = true,
      code_path = "/system_ext/priv-app/Settings", apk = "Settings.apk" },
    { name = "com.android.systemui", version_name = "14", version_code = 34, uid = 10160, system = true,
      code_path = "/system_ext/priv-app/SystemUI", apk = "SystemUI.apk" },
    { name = "com.android.phone", version_name = "14", version_code = 34, uid = 1001, system = true,
      code_path = "/system/priv-app/TeleService", apk = "TeleService.apk" },
    { name = "com.android.providers.settings", version_name = "14", version_code = 34, uid = 1000,
      system = true, code_path = "/system/priv-app/SettingsProvider", apk = "SettingsProvider.apk" },
    { name = "com.android.externalstorage", version_name = "14", version_code = 34, uid = 10045,
      system = true, code_path = "/system/priv-app/ExternalStorageProvider", apk = "ExternalStorageProvider.apk" },
    -- android.process.media hosts DownloadProvider (and, up to Android 10,
    -- the legacy MediaProvider).
    { name = "com.android.providers.downloads", version_name = "14", version_code = 34, uid = 10053,
      system = true, code_path = "/system/priv-app/DownloadProvider", apk = "DownloadProvider.apk",
      data_files = {
        ["databases/downloads.db"] = "SQLite format 3\0 downloads: 41 rows, all complete\n",
      },
      data_bytes = 300 * KiB },
    { name = "com.android.providers.downloads.ui", version_name = "14", version_code = 34, uid = 10054,
      system = true, code_path = "/system/priv-app/DownloadProviderUi", apk = "DownloadProviderUi.apk" },
    { name = "com.android.providers.media", version_name = "14", version_code = 34, uid = 10055,
      system = true, code_path = "/system/priv-app/MediaProviderLegacy", apk = "MediaProviderLegacy.apk",
      data_files = { ["databases/external.db"] = "SQLite format 3\0 legacy ids for migration\n" } },
    { name = "com.google.android.providers.media.module", version_name = "340818000",
      version_code = 340818000, uid = 10120, system = true,
      code_path = "/apex/com.android.mediaprovider/priv-app/MediaProviderGoogle@340818000",
      apk = "MediaProviderGoogle.apk",
      data_files = {
        ["databases/external.db"] = "SQLite format 3\0 media index: 1932 rows\n",
      },
      data_bytes = 18 * MiB, cache_bytes = 6 * MiB },
    { name = "com.android.vending", version_name = "39.5.18-31 [0] [PR] 612345678",
      version_code = 83951830, uid = 10150, system = true,
      code_path = "/product/priv-app/Phonesky", apk = "Phonesky.apk",
      data_files = {
        ["databases/library.db"] = "SQLite format 3\0 library: 57 owned apps\n",
        ["shared_prefs/finsky.xml"] = "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n    <boolean name=\"auto_update_enabled\" value=\"true\" />\n</map>\n",
        ["cache/main/icons.bin"] = "cached icons\n",
      },
      data_bytes = 96 * MiB, cache_bytes = 240 * MiB },
    { name = "com.google.android.gms", version_name = "24.02.14 (190400-599337467)",
      version_code = 240214037, uid = 10140, system = true,
      code_path = "/product/priv-app/PrebuiltGmsCore", apk = "PrebuiltGmsCore.apk",
      data_bytes = 410 * MiB, cache_bytes = 58 * MiB },
    { name = "com.google.android.gsf", version_name = "14-10898612", version_code = 34, uid = 10141,
      system = true, code_path = "/product/priv-app/GoogleServicesFramework", apk = "GoogleServicesFramework.apk",
      data_files = { ["databases/gservices.db"] = "SQLite format 3\0 gservices\n" },
      data_bytes = 2 * MiB },
    { name = "com.google.android.gm", version_name = "2024.01.07.597264105.Release",
      version_code = 64784452, uid = 10170, system = true,
      code_path = "/product/app/PrebuiltGmail", apk = "PrebuiltGmail.apk",
      data_bytes = 120 * MiB, cache_bytes = 35 * MiB },
    { name = "com.google.android.inputmethod.latin", version_name = "13.6.08.590577563",
      version_code = 136080000, uid = 10171, system = true,
      code_path = "/product/app/LatinImeGoogle", apk = "LatinImeGoogle.apk", data_bytes = 24 * MiB },
  },

  vendor_packages = {
    xiaomi = {
      { name = "com.miui.home", version_name = "RELEASE-4.39.14.6893-12151520", version_code = 439146893,
        uid = 10110, system = true, code_path = "/system_ext/priv-app/MiuiHome", apk = "MiuiHome.apk",
        data_bytes = 30 * MiB, cache_bytes = 12 * MiB, launcher = "com.miui.home/.launcher.Launcher" },
      -- The hardware test app ("CIT"), started from the dialer code *#*#6484#*#*.
      { name = "com.miui.cit", version_name = "14", version_code = 34, uid = 1000, system = true,
        code_path = "/system_ext/priv-app/MiuiCit", apk = "MiuiCit.apk",
        activity = "com.miui.cit/.home.CitLauncherActivity" },
      { name = "com.miui.securitycenter", version_name = "8.7.1-231215.0.1", version_code = 40000871,
        uid = 1000, system = true, code_path = "/product/priv-app/SecurityCenter", apk = "SecurityCenter.apk" },
      { name = "com.miui.gallery", version_name = "3.5.8.1", version_code = 350801, uid = 10113,
        system = true, code_path = "/product/app/MiuiGallery", apk = "MiuiGallery.apk",
        data_bytes = 45 * MiB, cache_bytes = 80 * MiB },
      { name = "com.xiaomi.account", version_name = "r-14.0.4", version_code = 140004, uid = 10114,
        system = true, code_path = "/system_ext/priv-app/XiaomiAccount", apk = "XiaomiAccount.apk" },
    },
    samsung = {
      { name = "com.sec.android.app.launcher", version_name = "15.1.01.21", version_code = 1510121,
        uid = 10110, system = true, code_path = "/system/priv-app/TouchWizHome_2017", apk = "TouchWizHome_2017.apk",
        data_bytes = 28 * MiB, launcher = "com.sec.android.app.launcher/com.android.launcher3.uioverrides.QuickstepLauncher" },
      { name = "com.sec.android.app.factorykeystring", version_name = "14", version_code = 34, uid = 1000,
        system = true, code_path = "/system/priv-app/FactoryKeystring", apk = "FactoryKeystring.apk" },
      { name = "com.sec.android.app.hwmoduletest", version_name = "14", version_code = 34, uid = 1000,
        system = true, code_path = "/system/priv-app/HwModuleTest", apk = "HwModuleTest.apk" },
      -- Shows the factory test screen when the phone is in factory mode.
      { name = "com.sem.factoryapp", version_name = "2.0.21", version_code = 20021, uid = 1000,
        system = true, code_path = "/system/priv-app/FactoryTestProvider", apk = "FactoryTestProvider.apk",
        activity = "com.sem.factoryapp/.FactoryTestMainActivity" },
    },
  },

  -- Apps the user installed (pm list packages -3), with data worth keeping.
  -- installed_days_ago: how long ago, for "recently installed" suspects.
  user_packages = {
    { name = "org.telegram.messenger", version_name = "10.6.2 (4075)", version_code = 40751,
      uid = 10230, installed_days_ago = 210,
      data_files = {
        ["files/cache4.db"] = { size = 96 * KiB, seed = "telegram-db" },
        ["shared_prefs/userconfing.xml"] = "<map><string name=\"user\">alex</string></map>\n",
        ["cache/thumbs.bin"] = { size = 48 * KiB, seed = "telegram-cache" },
      },
      data_bytes = 310 * MiB, cache_bytes = 900 * MiB },
    { name = "com.whatsapp", version_name = "2.24.1.6", version_code = 240106000, uid = 10231,
      installed_days_ago = 300,
      data_files = {
        ["databases/msgstore.db"] = { size = 128 * KiB, seed = "whatsapp-msgstore" },
        ["files/key"] = { size = 158, seed = "whatsapp-key" },
      },
      data_bytes = 1200 * MiB, cache_bytes = 150 * MiB },
    { name = "com.spotify.music", version_name = "8.9.6.458", version_code = 122301234, uid = 10232,
      installed_days_ago = 120,
      data_files = { ["files/settings.bnk"] = { size = 4 * KiB, seed = "spotify" } },
      data_bytes = 80 * MiB, cache_bytes = 1800 * MiB },
    { name = "com.zhiliaoapp.musically", version_name = "33.1.4", version_code = 2023301040, uid = 10233,
      installed_days_ago = 6,
      data_files = { ["shared_prefs/aweme_user.xml"] = "<map />\n" },
      data_bytes = 150 * MiB, cache_bytes = 700 * MiB },
  },

  -- The user's files in shared storage.
  files = {
    { path = "/sdcard/DCIM/Camera/IMG_20240105_101500.jpg", size = 412 * KiB, seed = "img1" },
    { path = "/sdcard/DCIM/Camera/IMG_20240212_183012.jpg", size = 388 * KiB, seed = "img2" },
    { path = "/sdcard/DCIM/Camera/VID_20240301_120001.mp4", size = 1536 * KiB, seed = "vid1" },
    { path = "/sdcard/Download/boarding-pass.pdf", size = 96 * KiB, seed = "pdf1" },
    { path = "/sdcard/Documents/notes.txt", content = "Call the landlord on Monday.\nBuy a USB-C cable.\n" },
    { path = "/sdcard/Music/voice-memo-01.m4a", size = 256 * KiB, seed = "memo1" },
    { path = "/sdcard/Android/data/com.spotify.music/cache/track.cache", size = 64 * KiB, seed = "spcache" },
  },

  accounts = {
    { name = "alex.rivera.sim@gmail.com", type = "com.google" },
  },
  vendor_accounts = {
    xiaomi = { { name = "6120045871", type = "com.xiaomi" } },
    samsung = { { name = "alex.rivera.sim@gmail.com", type = "com.osp.app.signin" } },
  },

  -- Files outside /data that a vendor's phone has (owner, group, mode as
  -- the guides for exiting factory mode describe them).
  vendor_files = {
    samsung = {
      { path = "/efs/FactoryApp", dir = true, uid = 1000, gid = 1000, mode = "0775" },
      { path = "/efs/FactoryApp/factorymode", content = "ON", uid = 1000, gid = 1000, mode = "0744" },
      { path = "/efs/FactoryApp/keystr", content = "ON", uid = 1000, gid = 1000, mode = "0744" },
    },
  },

  day_ms = DAY,
}
