/* The simulated phone's side of backing up apps and accounts: APK files
 * readable by the shell at `pm path`, app data visible only to root, tar,
 * `pm install` giving a fresh uid, chown -R, and the account databases
 * that become the phone's accounts again at the next boot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/sim/sim_internal.h"
#include "tests/unit/sim_fixture.h"

static int
setup_rooted(void **state)
{
  return sim_fx_setup(state, "xiaomi/redmi-k70", true);
}

static void
digest(struct sim_fx *fx, char out[65])
{
  assert_int_equal(df_sim_phone_user_data_sha256(fx->phone, out), 0);
}

static void
test_apk_readable_data_not(void **state)
{
  struct sim_fx *fx = *state;
  char path[512];
  assert_int_equal(sim_fx_sh(fx, "pm path com.whatsapp", false), 0);
  assert_true(strncmp(sim_fx_out(fx), "package:/data/app/~~", 20) == 0);
  snprintf(path, sizeof(path), "%s", sim_fx_out(fx) + 8);
  path[strcspn(path, "\n")] = '\0';
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "cat %s", path);
  assert_int_equal(sim_fx_sh(fx, cmd, false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "package=com.whatsapp\n"));
  assert_int_equal(sim_fx_sh(fx, "ls /data/data/com.whatsapp", false), 1);
  assert_non_null(strstr(sim_fx_err(fx), "Permission denied"));
  assert_int_equal(sim_fx_sh(fx, "tar -cf /data/local/tmp/w.tar -C /data data/com.whatsapp", false), 1);
  assert_non_null(strstr(sim_fx_err(fx), "Permission denied"));
  assert_int_equal(sim_fx_sh(fx, "su -c 'tar -cf /data/local/tmp/w.tar -C /data data/com.whatsapp'", false), 0);
}

static void
test_reinstall_and_data_round_trip(void **state)
{
  struct sim_fx *fx = *state;
  char before[65], gone[65], after[65];
  digest(fx, before);
  struct df_sim_package *p = df_sim_pkg_find(fx->phone, "com.whatsapp");
  assert_non_null(p);
  int old_uid = p->uid;
  char cmd[800];
  assert_int_equal(sim_fx_sh(fx, "pm path com.whatsapp", false), 0);
  char apk[512];
  snprintf(apk, sizeof(apk), "%s", sim_fx_out(fx) + 8);
  apk[strcspn(apk, "\n")] = '\0';
  snprintf(cmd, sizeof(cmd), "cat %s > /data/local/tmp/w.apk", apk);
  assert_int_equal(sim_fx_sh(fx, cmd, false), 0);
  assert_int_equal(sim_fx_sh(fx, "tar -cf /data/local/tmp/d.tar -C /data data/com.whatsapp", true), 0);

  assert_int_equal(sim_fx_sh(fx, "pm uninstall com.whatsapp", false), 0);
  assert_null(df_sim_pkg_find(fx->phone, "com.whatsapp"));
  digest(fx, gone);
  assert_string_not_equal(gone, before);

  assert_int_equal(sim_fx_sh(fx, "pm install -r /data/local/tmp/w.apk", false), 0);
  assert_string_equal(sim_fx_out(fx), "Success\n");
  p = df_sim_pkg_find(fx->phone, "com.whatsapp");
  assert_non_null(p);
  assert_false(p->system);
  assert_int_not_equal(p->uid, old_uid); /* the first free app id, not the old one */
  assert_int_equal(p->data_bytes, 0);
  digest(fx, after);
  assert_string_not_equal(after, before); /* reinstalled, but empty */

  snprintf(cmd, sizeof(cmd), "tar -xf /data/local/tmp/d.tar -C /data && chown -R %d:%d /data/data/com.whatsapp && restorecon -R /data/data/com.whatsapp",
           p->uid, p->uid);
  assert_int_equal(sim_fx_sh(fx, cmd, true), 0);
  digest(fx, after);
  assert_string_equal(after, before);
  uint32_t u, g, m;
  df_sim_vfs_meta_get(fx->phone, "/data/data/com.whatsapp/files/key", &u, &g, &m);
  assert_int_equal(u, (uint32_t)p->uid);
  assert_int_equal(g, (uint32_t)p->uid);
  /* The shell user cannot unpack into another app's folder. */
  assert_int_equal(sim_fx_sh(fx, "tar -xf /data/local/tmp/d.tar -C /data", false), 1);
}

static void
test_pm_install_refusals(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "echo hello > /data/local/tmp/x.apk", false), 0);
  assert_int_equal(sim_fx_sh(fx, "pm install /data/local/tmp/x.apk", false), 1);
  assert_non_null(strstr(sim_fx_err(fx), "Failure [INSTALL_PARSE_FAILED_NOT_APK"));
  assert_int_equal(sim_fx_sh(fx, "pm install /data/local/tmp/none.apk", false), 255);
  struct df_sim_package old = *df_sim_pkg_find(fx->phone, "com.spotify.music");
  struct df_sim_package lower = old;
  struct df_sim_buf b = {0};
  lower.version_code = old.version_code - 1;
  df_sim_apk_text(&lower, &b);
  assert_int_equal(df_sim_vfs_write_file(fx->phone, "/data/local/tmp/old.apk", b.data, b.len, 2000,
                                         2000, 0644, false), 0);
  df_sim_buf_free(&b);
  assert_int_equal(sim_fx_sh(fx, "pm install /data/local/tmp/old.apk", false), 1);
  assert_non_null(strstr(sim_fx_err(fx), "INSTALL_FAILED_VERSION_DOWNGRADE"));
  assert_int_equal(sim_fx_sh(fx, "pm install -d /data/local/tmp/old.apk", false), 0);
}

static void
test_accounts_restored_at_boot(void **state)
{
  struct sim_fx *fx = *state;
  char before[65], after[65];
  struct df_sim_buf de = {0}, ce = {0};
  char *d = NULL, *c = NULL;
  size_t dl = 0, cl = 0;
  size_t n = fx->phone->naccounts;
  assert_true(n >= 1);
  assert_int_equal(sim_fx_sh(fx, "cat /data/system_de/0/accounts_de.db", false), 1); /* system's */
  digest(fx, before);
  assert_int_equal(df_sim_vfs_read_file(fx->phone, "/data/system_de/0/accounts_de.db", &d, &dl), 0);
  assert_int_equal(df_sim_vfs_read_file(fx->phone, "/data/system_ce/0/accounts_ce.db", &c, &cl), 0);
  df_sim_buf_append(&de, d, dl);
  df_sim_buf_append(&ce, c, cl);
  free(d);
  free(c);
  df_sim_phone_wipe_userdata(fx->phone);
  df_sim_phone_boot(fx->phone, DF_SIM_MODE_SYSTEM);
  assert_int_equal(fx->phone->naccounts, 0);

  /* Only the DE database back: no account (not in CE). */
  df_sim_vfs_write_file(fx->phone, "/data/system_de/0/accounts_de.db", de.data, de.len, 1000, 1000, 0600, false);
  df_sim_phone_boot(fx->phone, DF_SIM_MODE_SYSTEM);
  assert_int_equal(fx->phone->naccounts, 0);

  /* Both: the accounts come back at the next boot, not before. */
  df_sim_vfs_write_file(fx->phone, "/data/system_de/0/accounts_de.db", de.data, de.len, 1000, 1000, 0600, false);
  df_sim_vfs_write_file(fx->phone, "/data/system_ce/0/accounts_ce.db", ce.data, ce.len, 1000, 1000, 0600, false);
  assert_int_equal(fx->phone->naccounts, 0);
  df_sim_phone_boot(fx->phone, DF_SIM_MODE_SYSTEM);
  assert_int_equal(fx->phone->naccounts, n);
  assert_string_equal(fx->phone->accounts[0].name, "alex.rivera.sim@gmail.com");
  assert_string_equal(fx->phone->accounts[0].type, "com.google");
  digest(fx, after);
  assert_string_not_equal(after, before); /* the apps and /sdcard are still gone */
  df_sim_buf_free(&de);
  df_sim_buf_free(&ce);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_apk_readable_data_not, setup_rooted, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_reinstall_and_data_round_trip, setup_rooted, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_pm_install_refusals, setup_rooted, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_accounts_restored_at_boot, setup_rooted, sim_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
