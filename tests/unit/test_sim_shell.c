/* The simulated phone's shell: output formats and exit codes of the
 * commands repairs use, quoting and operators, permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/sim_fixture.h"

static int
setup_xiaomi(void **state)
{
  return sim_fx_setup(state, "xiaomi/redmi-k70", false);
}

static int
setup_samsung_rooted(void **state)
{
  return sim_fx_setup(state, "samsung/galaxy-s22", true);
}

static void
test_unknown_command(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "frobnicate now", false), 127);
  assert_string_equal(sim_fx_err(fx), "/system/bin/sh: frobnicate: inaccessible or not found\n");
  assert_string_equal(sim_fx_out(fx), "");
}

static void
test_operators_and_quoting(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "true", false), 0);
  assert_int_equal(sim_fx_sh(fx, "false", false), 1);
  assert_int_equal(sim_fx_sh(fx, "exit 3", false), 3);
  assert_int_equal(sim_fx_sh(fx, "echo a; exit 4; echo b", false), 4);
  assert_string_equal(sim_fx_out(fx), "a\n");
  assert_int_equal(sim_fx_sh(fx, "false && echo no || echo yes", false), 0);
  assert_string_equal(sim_fx_out(fx), "yes\n");
  assert_int_equal(sim_fx_sh(fx, "true && echo 'a  b' \"c \\\"d\\\"\" e\\ f", false), 0);
  assert_string_equal(sim_fx_out(fx), "a  b c \"d\" e f\n");
  assert_int_equal(sim_fx_sh(fx, "false; echo $?", false), 0);
  assert_string_equal(sim_fx_out(fx), "1\n");
  assert_int_equal(sim_fx_sh(fx, "echo 'unterminated", false), 1);
  assert_non_null(strstr(sim_fx_err(fx), "syntax error"));
}

static void
test_redirect_and_pipes(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "echo hello > /data/local/tmp/x && echo more >> /data/local/tmp/x", false), 0);
  assert_int_equal(sim_fx_sh(fx, "cat /data/local/tmp/x", false), 0);
  assert_string_equal(sim_fx_out(fx), "hello\nmore\n");
  assert_int_equal(sim_fx_sh(fx, "cat /data/local/tmp/x | grep mo | wc -l", false), 0);
  assert_string_equal(sim_fx_out(fx), "1\n");
  assert_int_equal(sim_fx_sh(fx, "echo x > /system/x", false), 1);
  assert_string_equal(sim_fx_err(fx), "/system/bin/sh: can't create /system/x: Permission denied\n");
  assert_int_equal(sim_fx_sh(fx, "cat /nope 2>/dev/null", false), 1);
  assert_string_equal(sim_fx_err(fx), "");
}

static void
test_getprop_setprop(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "getprop ro.product.device", false), 0);
  assert_string_equal(sim_fx_out(fx), "vermeer\n");
  assert_int_equal(sim_fx_sh(fx, "getprop ro.build.version.sdk", false), 0);
  assert_string_equal(sim_fx_out(fx), "34\n");
  assert_int_equal(sim_fx_sh(fx, "getprop", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "[ro.product.model]: [23113RKC6C]\n"));
  assert_int_equal(sim_fx_sh(fx, "getprop no.such.prop", false), 0);
  assert_string_equal(sim_fx_out(fx), "\n");
  /* The shell may not set persist.sys.safemode; ro.* is set once. */
  assert_int_equal(sim_fx_sh(fx, "setprop persist.sys.safemode 1", false), 1);
  assert_string_equal(sim_fx_err(fx), "Failed to set property 'persist.sys.safemode' to '1'.\n"
                                      "See dmesg for error reason.\n");
  assert_int_equal(sim_fx_sh(fx, "setprop ro.product.device x", true), 1);
  assert_int_equal(sim_fx_sh(fx, "setprop debug.sim.x 7 && getprop debug.sim.x", false), 0);
  assert_string_equal(sim_fx_out(fx), "7\n");
}

static void
test_pm_list(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "pm list packages -3", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:com.spotify.music\npackage:com.whatsapp\n"
                                      "package:com.zhiliaoapp.musically\npackage:org.telegram.messenger\n");
  assert_int_equal(sim_fx_sh(fx, "pm list packages -s vending", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:com.android.vending\n");
  assert_int_equal(sim_fx_sh(fx, "pm list packages -f com.android.vending", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:/product/priv-app/Phonesky/Phonesky.apk=com.android.vending\n");
  assert_int_equal(sim_fx_sh(fx, "cmd package list packages -s cit", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:com.miui.cit\n");
  assert_int_equal(sim_fx_sh(fx, "pm list packages -d", false), 0);
  assert_string_equal(sim_fx_out(fx), "");
}

static void
test_pm_enable_states(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "pm disable-user com.android.providers.downloads", false), 0);
  assert_string_equal(sim_fx_out(fx), "Package com.android.providers.downloads new state: disabled-user\n");
  assert_int_equal(sim_fx_sh(fx, "pm list packages -d", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:com.android.providers.downloads\n");
  assert_int_equal(sim_fx_sh(fx, "pm default-state com.android.providers.downloads", false), 0);
  assert_string_equal(sim_fx_out(fx), "Package com.android.providers.downloads new state: default\n");
  assert_int_equal(sim_fx_sh(fx, "pm enable com.android.providers.downloads", false), 0);
  assert_string_equal(sim_fx_out(fx), "Package com.android.providers.downloads new state: enabled\n");
  assert_int_equal(sim_fx_sh(fx, "pm disable com.whatsapp", false), 255);
  assert_non_null(strstr(sim_fx_err(fx), "SecurityException"));
  assert_int_equal(sim_fx_sh(fx, "pm enable com.no.such", false), 255);
  assert_non_null(strstr(sim_fx_err(fx), "Unknown package: com.no.such"));
  assert_int_equal(sim_fx_sh(fx, "pm path com.whatsapp", false), 0);
  assert_true(strncmp(sim_fx_out(fx), "package:/data/app/~~", 20) == 0);
  assert_non_null(strstr(sim_fx_out(fx), "/com.whatsapp-"));
  assert_int_equal(sim_fx_sh(fx, "pm path com.no.such", false), 1);
  assert_int_equal(sim_fx_sh(fx, "pm help", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "clear [--user USER_ID] [--cache-only] PACKAGE"));
}

static void
test_pm_clear(void **state)
{
  struct sim_fx *fx = *state;
  struct df_sim_package *tg = df_sim_pkg_find(fx->phone, "org.telegram.messenger");
  assert_non_null(tg);
  uint64_t data = df_sim_pkg_data_size(fx->phone, tg);
  assert_true(df_sim_pkg_cache_size(fx->phone, tg) > 0);
  /* Cache only: the data stays. */
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only org.telegram.messenger", false), 0);
  assert_string_equal(sim_fx_out(fx), "Success\n");
  assert_int_equal(df_sim_pkg_cache_size(fx->phone, tg), 0);
  assert_int_equal(df_sim_pkg_data_size(fx->phone, tg), data);
  assert_true(df_sim_vfs_exists(fx->phone, "/data/data/org.telegram.messenger/files/cache4.db"));
  /* All data. */
  assert_int_equal(sim_fx_sh(fx, "pm clear --user 0 org.telegram.messenger", false), 0);
  assert_string_equal(sim_fx_out(fx), "Success\n");
  assert_int_equal(df_sim_pkg_data_size(fx->phone, tg), 0);
  assert_false(df_sim_vfs_exists(fx->phone, "/data/data/org.telegram.messenger/files/cache4.db"));
  /* Failures. */
  assert_int_equal(sim_fx_sh(fx, "pm clear com.no.such", false), 1);
  assert_string_equal(sim_fx_err(fx), "Failed\n");
  assert_int_equal(sim_fx_sh(fx, "pm clear", false), 1);
  assert_string_equal(sim_fx_err(fx), "Error: no package specified\n");
}

static void
test_trim_caches_and_df(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "df /data", false), 0);
  const char *out = sim_fx_out(fx);
  assert_true(strncmp(out, "Filesystem", 10) == 0);
  assert_non_null(strstr(out, "1K-blocks"));
  assert_non_null(strstr(out, " /data\n"));
  uint64_t before = df_sim_data_free(fx->phone);
  uint64_t want = before + 2ull * 1024 * 1024 * 1024;
  char line[64];
  snprintf(line, sizeof(line), "pm trim-caches %llu", (unsigned long long)want);
  assert_int_equal(sim_fx_sh(fx, line, false), 0);
  assert_true(df_sim_data_free(fx->phone) >= want);
  assert_int_equal(sim_fx_sh(fx, "pm trim-caches lots", false), 1);
}

static void
test_settings(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "settings get global auto_time", false), 0);
  assert_string_equal(sim_fx_out(fx), "1\n");
  assert_int_equal(sim_fx_sh(fx, "settings get global no_such_key", false), 0);
  assert_string_equal(sim_fx_out(fx), "null\n");
  assert_int_equal(sim_fx_sh(fx, "settings put secure sim_key 42 && settings get secure sim_key", false), 0);
  assert_string_equal(sim_fx_out(fx), "42\n");
  assert_int_equal(sim_fx_sh(fx, "settings list secure | grep sim_key", false), 0);
  assert_string_equal(sim_fx_out(fx), "sim_key=42\n");
  assert_int_equal(sim_fx_sh(fx, "settings delete secure sim_key", false), 0);
  assert_string_equal(sim_fx_out(fx), "Deleted 1 rows\n");
  assert_int_equal(sim_fx_sh(fx, "settings get bogus x", false), 255);
}

static void
test_date(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "date +%s", false), 0);
  long long t = atoll(sim_fx_out(fx));
  long long now = (long long)time(NULL);
  assert_true(t > now - 60 && t < now + 60);
  fx->phone->clock_offset_s = -86400;
  assert_int_equal(sim_fx_sh(fx, "date +%s", false), 0);
  t = atoll(sim_fx_out(fx));
  assert_true(t < now - 86000);
  fx->phone->clock_offset_s = 0;
  assert_int_equal(sim_fx_sh(fx, "date", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), " UTC "));
}

static void
test_dumpsys(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "dumpsys package com.android.vending | grep versionName", false), 0);
  assert_string_equal(sim_fx_out(fx), "    versionName=39.5.18-31 [0] [PR] 612345678\n");
  assert_int_equal(sim_fx_sh(fx, "dumpsys account", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "Account {name=alex.rivera.sim@gmail.com, type=com.google}"));
  assert_int_equal(sim_fx_sh(fx, "dumpsys diskstats | grep 'Cache Sizes'", false), 0);
  assert_int_equal(sim_fx_sh(fx, "cmd appops reset com.whatsapp", false), 0);
  assert_string_equal(sim_fx_out(fx), "Reset all modes for: user 0, package com.whatsapp\n");
  assert_int_equal(sim_fx_sh(fx, "cmd nosuchservice", false), 20);
  assert_string_equal(sim_fx_err(fx), "cmd: Can't find service: nosuchservice\n");
  assert_int_equal(sim_fx_sh(fx, "am force-stop com.whatsapp", false), 0);
  assert_true(df_sim_pkg_find(fx->phone, "com.whatsapp")->stopped);
}

/* Master sync as a real phone shows it: no shell command reads or sets it
 * (ContentShellCommand has only reset-today-stats); `dumpsys content`
 * prints SyncManager's "Auto sync: u0=true " line, which follows
 * SyncStorageEngine's accounts.xml (written when the person flips the
 * switch in Settings). */
static void
test_master_sync(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "cmd content get-master-sync", false), 255);
  assert_string_equal(sim_fx_out(fx), "Unknown command: get-master-sync\n");
  assert_int_equal(sim_fx_sh(fx, "cmd content set-master-sync false", false), 255);
  assert_string_equal(sim_fx_out(fx), "Unknown command: set-master-sync\n");
  assert_int_equal(sim_fx_sh(fx, "cmd content", false), 255);
  assert_true(strncmp(sim_fx_out(fx), "Content service commands:\n  help\n", 33) == 0);
  assert_null(strstr(sim_fx_out(fx), "master"));
  assert_int_equal(sim_fx_sh(fx, "cmd content reset-today-stats", false), 0);
  assert_int_equal(sim_fx_sh(fx, "dumpsys content | grep '^Auto sync'", false), 0);
  assert_string_equal(sim_fx_out(fx), "Auto sync: u0=true \n");
  assert_int_equal(sim_fx_sh(fx, "dumpsys content", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "\nSync Status\nAccount alex.rivera.sim@gmail.com u0 com.google\n"
                                         "=======================================================================\n"));
  /* The person turns "Automatically sync data" off, then on again. */
  static const char off[] = "<accounts version=\"3\">\n<listenForTickles user=\"0\" enabled=\"false\" />\n</accounts>\n";
  assert_int_equal(df_sim_vfs_write_file(fx->phone, DF_SIM_SYNC_ACCOUNTS, off, strlen(off), 1000, 1000,
                                         0600, false), 0);
  assert_int_equal(sim_fx_sh(fx, "dumpsys content | grep '^Auto sync'", false), 0);
  assert_string_equal(sim_fx_out(fx), "Auto sync: u0=false \n");
  static const char on[] = "<accounts version=\"3\">\n<listenForTickles user=\"0\" enabled=\"true\" />\n</accounts>\n";
  assert_int_equal(df_sim_vfs_write_file(fx->phone, DF_SIM_SYNC_ACCOUNTS, on, strlen(on), 1000, 1000,
                                         0600, false), 0);
  assert_int_equal(sim_fx_sh(fx, "dumpsys content | grep '^Auto sync'", false), 0);
  assert_string_equal(sim_fx_out(fx), "Auto sync: u0=true \n");
  /* The shell cannot read where it is kept. */
  assert_int_not_equal(sim_fx_sh(fx, "cat " DF_SIM_SYNC_ACCOUNTS, false), 0);
}

/* The one line of `dumpsys diskstats` that starts with label, or "". */
static const char *
diskstats_line(struct sim_fx *fx, const char *label)
{
  static char line[4096];
  line[0] = '\0';
  assert_int_equal(sim_fx_sh(fx, "dumpsys diskstats", false), 0);
  const char *p = strstr(sim_fx_out(fx), label);
  if (p) {
    size_t n = strcspn(p, "\n");
    snprintf(line, sizeof(line), "%.*s", (int)n, p);
  }
  return line;
}

/* Per-package sizes come from the daily job's file (DiskStatsService
 * reportCachedValues), so they lag behind; Data-Free is live. */
static void
test_diskstats_cache(void **state)
{
  struct sim_fx *fx = *state;
  if (!df_sim_vfs_exists(fx->phone, DF_SIM_DISKSTATS_CACHE)) {
    assert_int_equal(df_sim_phone_diskstats_job(fx->phone), 0);
  }
  char names[4096], caches[4096], free_before[128];
  snprintf(names, sizeof(names), "%s", diskstats_line(fx, "Package Names: ["));
  snprintf(caches, sizeof(caches), "%s", diskstats_line(fx, "Cache Sizes: ["));
  snprintf(free_before, sizeof(free_before), "%s", diskstats_line(fx, "Data-Free: "));
  assert_non_null(strstr(names, "\"org.telegram.messenger\""));
  assert_non_null(strstr(diskstats_line(fx, "App Data Sizes: ["), "]"));
  /* The cache goes; the dump still shows the snapshot, free space grows. */
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only org.telegram.messenger", false), 0);
  assert_string_equal(diskstats_line(fx, "Cache Sizes: ["), caches);
  assert_string_not_equal(diskstats_line(fx, "Data-Free: "), free_before);
  /* The next run of the job catches up. */
  assert_int_equal(df_sim_phone_diskstats_job(fx->phone), 0);
  assert_string_not_equal(diskstats_line(fx, "Cache Sizes: ["), caches);
  assert_string_equal(diskstats_line(fx, "Package Names: ["), names);
  /* Without the file (a phone just reset): the live lines only. */
  assert_int_equal(sim_fx_sh(fx, "rm " DF_SIM_DISKSTATS_CACHE, true), 0);
  assert_string_equal(diskstats_line(fx, "Package Names:"), "");
  assert_true(strncmp(diskstats_line(fx, "Data-Free: "), "Data-Free: ", 11) == 0);
}

static void
test_files_and_permissions(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "ls /sdcard/Documents", false), 0);
  assert_string_equal(sim_fx_out(fx), "notes.txt\n");
  assert_int_equal(sim_fx_sh(fx, "ls /data", false), 1);
  assert_string_equal(sim_fx_err(fx), "ls: /data: Permission denied\n");
  assert_int_equal(sim_fx_sh(fx, "cat /data/data/com.whatsapp/files/key", false), 1);
  assert_string_equal(sim_fx_err(fx), "cat: /data/data/com.whatsapp/files/key: Permission denied\n");
  assert_int_equal(sim_fx_sh(fx, "mkdir -p /sdcard/Backup/x && echo hi > /sdcard/Backup/x/f && cat /sdcard/Backup/x/f", false), 0);
  assert_string_equal(sim_fx_out(fx), "hi\n");
  assert_int_equal(sim_fx_sh(fx, "rm /sdcard/Backup", false), 1);
  assert_int_equal(sim_fx_sh(fx, "rm -r /sdcard/Backup && ls /sdcard/Backup", false), 1);
  assert_string_equal(sim_fx_err(fx), "ls: /sdcard/Backup: No such file or directory\n");
  assert_int_equal(sim_fx_sh(fx, "ls -ld /data/local/tmp", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "drwxrwx--x 2 shell    shell"));
  /* No su on a production phone. */
  assert_int_equal(sim_fx_sh(fx, "su -c id", false), 127);
  assert_string_equal(sim_fx_err(fx), "/system/bin/sh: su: inaccessible or not found\n");
  assert_int_equal(sim_fx_sh(fx, "id -u", false), 0);
  assert_string_equal(sim_fx_out(fx), "2000\n");
}

static void
test_efs_needs_root(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "cat /efs/FactoryApp/factorymode", false), 1);
  assert_string_equal(sim_fx_err(fx), "cat: /efs/FactoryApp/factorymode: Permission denied\n");
  assert_int_equal(sim_fx_sh(fx, "ls /efs", false), 1);
  assert_int_equal(sim_fx_sh(fx, "su -c 'cat /efs/FactoryApp/factorymode'", false), 0);
  assert_string_equal(sim_fx_out(fx), "ON");
  assert_int_equal(sim_fx_sh(fx, "su 0 id -u", false), 0);
  assert_string_equal(sim_fx_out(fx), "0\n");
  assert_int_equal(sim_fx_sh(fx, "chown 2000.2000 /data/local/tmp", false), 1);
  assert_int_equal(sim_fx_sh(fx, "su -c 'chown 1000.1000 /efs/FactoryApp/keystr && chmod 0744 /efs/FactoryApp/keystr && ls -l /efs/FactoryApp/keystr'", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "-rwxr--r-- 1 system   system"));
}

static void
test_reboot_from_shell(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "reboot bootloader", false), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_BOOTLOADER);
  assert_int_equal(df_sim_phone_reboot(fx->phone, ""), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
  assert_int_equal(sim_fx_sh(fx, "reboot recovery", false), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_RECOVERY);
  /* Recovery has no framework: pm is not there. */
  assert_int_equal(sim_fx_sh(fx, "pm list packages", false), 127);
  assert_int_equal(df_sim_phone_reboot(fx->phone, "nonsense"), DF_EINVAL);
  assert_int_equal(df_sim_phone_reboot(fx->phone, ""), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_unknown_command, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_operators_and_quoting, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_redirect_and_pipes, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_getprop_setprop, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_pm_list, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_pm_enable_states, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_pm_clear, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_trim_caches_and_df, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_settings, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_date, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_dumpsys, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_master_sync, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_diskstats_cache, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_files_and_permissions, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_efs_needs_root, setup_samsung_rooted, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_reboot_from_shell, setup_xiaomi, sim_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
