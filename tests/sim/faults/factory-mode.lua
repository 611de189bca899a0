-- The phone boots into its factory test screen. Samsung: /efs/FactoryApp/
-- factorymode holds OFF (ON or missing means user mode; DOMAIN.md); fixed on
-- a rooted phone by writing ON there (and to keystr), or, when the test app's
-- own data keeps it in test mode, by clearing that app's data. Xiaomi: the
-- CIT app starts at boot because its saved state says a test run is open;
-- clearing its data ends it. "stuck-key" is a volume key held down: no
-- software fix clears it (the recipe should name the hardware).
return {
  summary = "boots to the factory test screen",
  scenarios = {
    ["default.samsung"] = { "efs" },
    ["default.xiaomi"] = { "cit-autostart" },
    default = { "app-data" },
    efs = { "efs" },
    ["app-data"] = { "app-data" },
    ["cit-autostart"] = { "cit-autostart" },
    ["stuck-key"] = { "stuck-key" },
  },
  causes = {
    efs = {
      summary = "/efs/FactoryApp/factorymode holds OFF",
      setup = {
        { write = "/efs/FactoryApp/factorymode", content = "OFF", uid = 1000, gid = 1000, mode = "0744" },
        { write = "/efs/FactoryApp/keystr", content = "OFF", uid = 1000, gid = 1000, mode = "0744" },
      },
      present = { { file_contains = "/efs/FactoryApp/factorymode", text = "OFF" } },
      mode = "factory-mode",
      foreground = "${factory_activity}",
    },
    ["app-data"] = {
      summary = "the factory test app's saved state keeps a test run open",
      setup = {
        { write = "/data/data/${factory_test}/shared_prefs/factory_state.xml",
          content = "<map>\n    <boolean name=\"factory_mode\" value=\"true\" />\n</map>\n",
          owner = "package:${factory_test}", mode = "0660" },
      },
      present = { { file_contains = "/data/data/${factory_test}/shared_prefs/factory_state.xml", text = "factory_mode\" value=\"true" } },
      mode = "factory-mode",
      foreground = "${factory_activity}",
    },
    ["cit-autostart"] = {
      summary = "CIT starts at boot (a test run left open)",
      setup = {
        { write = "/data/data/com.miui.cit/shared_prefs/cit_state.xml",
          content = "<map>\n    <boolean name=\"boot_start\" value=\"true\" />\n</map>\n",
          owner = "package:com.miui.cit", mode = "0660" },
      },
      present = { { file_contains = "/data/data/com.miui.cit/shared_prefs/cit_state.xml", text = "boot_start\" value=\"true" } },
      mode = "factory-mode",
      foreground = "com.miui.cit/.home.CitLauncherActivity",
    },
    ["stuck-key"] = {
      summary = "a volume key is held down at every boot",
      present = { { hardware = true } },
      mode = "factory-mode",
      foreground = "${factory_activity}",
    },
  },
}
