/* Faults of the simulated phone: each clears only when the phone reaches the
 * state a real fix produces (and a reboot evaluates it), never with the
 * wrong action. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/sim_fixture.h"

static struct sim_fx fx_storage;

static void
start(struct sim_fx *fx, const char *model, const char *fault, bool rooted)
{
  const char *faults[] = {fault, NULL};
  sim_fx_new(fx, model, faults, rooted);
}

static int
teardown(void **state)
{
  sim_fx_free(&fx_storage);
  return 0;
}

static void
reboot(struct sim_fx *fx)
{
  assert_int_equal(df_sim_phone_reboot(fx->phone, ""), 0);
}

static void
test_media_crash_wrong_fixes_leave_it(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "media-process-crash", false);
  assert_true(sim_fx_fault_active(fx, "media-process-crash"));
  assert_int_equal(sim_fx_sh(fx, "logcat -d -b crash", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "Process: android.process.media, PID: "));
  assert_int_equal(sim_fx_sh(fx, "dumpsys dropbox --print system_app_crash", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "Process: android.process.media\n"));
  /* Clearing Google apps, the legacy provider, reset app preferences:
   * none of it touches the broken databases. */
  assert_int_equal(sim_fx_sh(fx, "pm clear com.android.vending && pm clear com.google.android.gsf && "
                                 "pm clear com.android.providers.media && cmd appops reset && "
                                 "pm clear --cache-only com.android.providers.downloads", false), 0);
  reboot(fx);
  assert_true(sim_fx_fault_active(fx, "media-process-crash"));
  assert_int_equal(sim_fx_sh(fx, "logcat -d -b crash | grep -c 'Process: android.process.media'", false), 0);
  assert_string_equal(sim_fx_out(fx), "2\n");
  /* Half the fix: the Download Manager only. */
  assert_int_equal(sim_fx_sh(fx, "pm clear com.android.providers.downloads", false), 0);
  reboot(fx);
  assert_true(sim_fx_fault_active(fx, "media-process-crash"));
  assert_int_equal(sim_fx_sh(fx, "logcat -d -b crash | grep -c 'Process: android.process.media'", false), 1);
  assert_string_equal(sim_fx_out(fx), "0\n");
}

static void
test_media_crash_real_fix(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "media-process-crash", false);
  char before[65], after[65];
  assert_int_equal(df_sim_phone_user_data_sha256(fx->phone, before), 0);
  assert_int_equal(sim_fx_sh(fx, "pm clear com.android.providers.downloads && "
                                 "pm clear com.google.android.providers.media.module", false), 0);
  /* Not evaluated until the phone boots again. */
  assert_true(sim_fx_fault_active(fx, "media-process-crash"));
  reboot(fx);
  assert_false(sim_fx_fault_active(fx, "media-process-crash"));
  assert_int_equal(sim_fx_sh(fx, "logcat -d -b crash", false), 0);
  assert_string_equal(sim_fx_out(fx), "");
  /* System providers' data is not user data. */
  assert_int_equal(df_sim_phone_user_data_sha256(fx->phone, after), 0);
  assert_string_equal(before, after);
}

static void
test_play_store_default_needs_every_cause_fixed(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "play-store-stuck", false);
  assert_true(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_int_equal(sim_fx_sh(fx, "settings get global auto_time", false), 0);
  assert_string_equal(sim_fx_out(fx), "0\n");
  assert_true(df_sim_data_free(fx->phone) < 1024ull * 1024 * 1024);
  char before[65], after[65];
  assert_int_equal(df_sim_phone_user_data_sha256(fx->phone, before), 0);
  /* The queue cleared while the clock is still wrong fills up again. */
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only com.android.vending", false), 0);
  reboot(fx);
  assert_true(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_true(df_sim_vfs_exists(fx->phone, "/data/data/com.android.vending/cache/main/download_queue"));
  /* Clock and storage fixed, queue still stale: still stuck. */
  assert_int_equal(sim_fx_sh(fx, "settings put global auto_time 1 && pm trim-caches 8G", false), 0);
  reboot(fx);
  assert_true(sim_fx_fault_active(fx, "play-store-stuck"));
  /* The last cause goes. */
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only com.android.vending", false), 0);
  reboot(fx);
  assert_false(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_int_equal(df_sim_phone_user_data_sha256(fx->phone, after), 0);
  assert_string_equal(before, after);
}

static void
test_play_store_download_manager_disabled(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "play-store-stuck:dm-disabled", false);
  assert_true(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_int_equal(sim_fx_sh(fx, "pm list packages -d", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:com.android.providers.downloads\n");
  assert_int_equal(sim_fx_sh(fx, "pm clear com.android.vending", false), 0);
  reboot(fx);
  assert_true(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_int_equal(sim_fx_sh(fx, "pm enable com.android.providers.downloads", false), 0);
  reboot(fx);
  assert_false(sim_fx_fault_active(fx, "play-store-stuck"));
}

static void
test_play_store_outdated_updates_when_alone(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "play-store-stuck:outdated+clock", false);
  assert_true(df_sim_pkg_find(fx->phone, "com.android.vending")->version_code < 83000000);
  reboot(fx);
  assert_true(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_int_equal(sim_fx_sh(fx, "settings put global auto_time 1", false), 0);
  reboot(fx);
  assert_false(sim_fx_fault_active(fx, "play-store-stuck"));
  assert_int_equal(sim_fx_sh(fx, "dumpsys package com.android.vending | grep versionName", false), 0);
  assert_string_equal(sim_fx_out(fx), "    versionName=39.5.18-31 [0] [PR] 612345678\n");
}

static void
test_unknown_fault_and_scenario(void **state)
{
  char dir[] = "/tmp/df-sim-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  struct df_sim_phone_options o = {0};
  const char *faults[] = {"no-such-fault"};
  o.state_dir = dir;
  o.faults = faults;
  o.nfaults = 1;
  struct df_sim_phone *phone = NULL;
  char err[512];
  assert_int_not_equal(df_sim_phone_open(&o, &phone, err, sizeof(err)), 0);
  assert_non_null(strstr(err, "unknown fault 'no-such-fault'"));
  assert_non_null(strstr(err, "play-store-stuck"));
  faults[0] = "play-store-stuck:nonsense";
  assert_int_not_equal(df_sim_phone_open(&o, &phone, err, sizeof(err)), 0);
  assert_non_null(strstr(err, "no scenario or cause 'nonsense'"));
  nftw(dir, sim_fx_rm, 16, FTW_DEPTH | FTW_PHYS);
  /* Keep teardown happy: a valid phone in fx_storage. */
  start(&fx_storage, "xiaomi/redmi-k70", "play-store-stuck", false);
}

static void
test_factory_mode_samsung_efs(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "samsung/galaxy-s22", "factory-mode", true);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
  assert_int_equal(sim_fx_sh(fx, "dumpsys activity activities | grep ResumedActivity", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "com.sem.factoryapp/"));
  /* The shell cannot write /efs; clearing the test app does not touch it. */
  assert_int_equal(sim_fx_sh(fx, "echo ON > /efs/FactoryApp/factorymode", false), 1);
  assert_int_equal(sim_fx_sh(fx, "pm clear com.sem.factoryapp", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
  assert_true(sim_fx_fault_active(fx, "factory-mode"));
  /* The guide's fix, as root. */
  assert_int_equal(sim_fx_sh(fx, "su -c 'echo ON > /efs/FactoryApp/factorymode && "
                                 "echo ON > /efs/FactoryApp/keystr && "
                                 "chown 1000.1000 /efs/FactoryApp/factorymode /efs/FactoryApp/keystr && "
                                 "chmod 0744 /efs/FactoryApp/factorymode /efs/FactoryApp/keystr'", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
  assert_false(sim_fx_fault_active(fx, "factory-mode"));
}

static void
test_factory_mode_samsung_app_data(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "samsung/galaxy-s22", "factory-mode:app-data", false);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
  assert_int_equal(sim_fx_sh(fx, "pm clear com.sec.android.app.hwmoduletest", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
  assert_int_equal(sim_fx_sh(fx, "pm clear com.sem.factoryapp", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
}

static void
test_factory_mode_xiaomi_cit(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "factory-mode", false);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
  assert_int_equal(sim_fx_sh(fx, "dumpsys activity activities | grep topResumedActivity", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "com.miui.cit/.home.CitLauncherActivity"));
  assert_int_equal(sim_fx_sh(fx, "am force-stop com.miui.cit && pm clear com.miui.home", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
  assert_int_equal(sim_fx_sh(fx, "pm clear com.miui.cit", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
  assert_false(sim_fx_fault_active(fx, "factory-mode"));
}

static void
test_factory_mode_stuck_key_never_clears(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "factory-mode:stuck-key", false);
  assert_int_equal(sim_fx_sh(fx, "pm clear com.miui.cit", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
}

static void
write_partition(struct sim_fx *fx, const char *name, const char *data, size_t len)
{
  char path[PATH_MAX];
  df_sim_phone_partition_path(fx->phone, name, path, sizeof(path));
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
  assert_int_equal(df_sim_phone_partition_written(fx->phone, name), 0);
}

static void
test_bootloop_needs_a_good_boot_image(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "bootloop", false);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_BOOTLOOP);
  assert_false(df_sim_mode_has_adb(DF_SIM_MODE_BOOTLOOP));
  assert_false(df_sim_mode_has_fastboot(DF_SIM_MODE_BOOTLOOP));
  /* The user holds Volume Down + Power: the bootloader answers. */
  assert_int_equal(df_sim_phone_press(fx->phone, "fastboot"), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_BOOTLOADER);
  /* The other slot is torn too. */
  assert_int_equal(df_sim_phone_set_active(fx->phone, "b"), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_BOOTLOOP);
  assert_int_equal(df_sim_phone_press(fx->phone, "fastboot"), 0);
  assert_int_equal(df_sim_phone_set_active(fx->phone, "a"), 0);
  /* Junk flashed to boot_a does not boot either. */
  write_partition(fx, "boot_a", "NOT A BOOT IMAGE", 16);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_BOOTLOOP);
  assert_int_equal(df_sim_phone_press(fx->phone, "fastboot"), 0);
  char img[4096] = "ANDROID!";
  write_partition(fx, "boot_a", img, sizeof(img));
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
  assert_false(sim_fx_fault_active(fx, "bootloop"));
}

static void
test_press_needs_the_model_combination(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "samsung/galaxy-s22", "factory-mode", false);
  /* Samsung phones have no fastboot. */
  assert_int_equal(df_sim_phone_press(fx->phone, "fastboot"), DF_EUNSUPPORTED);
  assert_int_equal(df_sim_phone_press(fx->phone, "download"), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_DOWNLOAD);
  assert_int_equal(df_sim_phone_press(fx->phone, "safe-mode"), 0);
  /* The fault is in /efs: safe mode does not hide it. */
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FACTORY_MODE);
}

static void
test_safe_mode_property(void **state)
{
  struct sim_fx *fx = &fx_storage;
  start(fx, "xiaomi/redmi-k70", "media-process-crash", true);
  assert_int_equal(sim_fx_sh(fx, "su -c 'setprop persist.sys.safemode 1'", false), 0);
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SAFE_MODE);
  assert_int_equal(sim_fx_sh(fx, "getprop ro.sys.safemode; getprop persist.sys.safemode", false), 0);
  assert_string_equal(sim_fx_out(fx), "1\n\n");
  /* A system fault stays in safe mode. */
  assert_true(sim_fx_fault_active(fx, "media-process-crash"));
  reboot(fx);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_SYSTEM);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_media_crash_wrong_fixes_leave_it, teardown),
    cmocka_unit_test_teardown(test_media_crash_real_fix, teardown),
    cmocka_unit_test_teardown(test_play_store_default_needs_every_cause_fixed, teardown),
    cmocka_unit_test_teardown(test_play_store_download_manager_disabled, teardown),
    cmocka_unit_test_teardown(test_play_store_outdated_updates_when_alone, teardown),
    cmocka_unit_test_teardown(test_unknown_fault_and_scenario, teardown),
    cmocka_unit_test_teardown(test_factory_mode_samsung_efs, teardown),
    cmocka_unit_test_teardown(test_factory_mode_samsung_app_data, teardown),
    cmocka_unit_test_teardown(test_factory_mode_xiaomi_cit, teardown),
    cmocka_unit_test_teardown(test_factory_mode_stuck_key_never_clears, teardown),
    cmocka_unit_test_teardown(test_bootloop_needs_a_good_boot_image, teardown),
    cmocka_unit_test_teardown(test_press_needs_the_model_combination, teardown),
    cmocka_unit_test_teardown(test_safe_mode_property, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
