/* The simulated phone's package installer sessions (pm install-create,
 * install-write, install-commit, install-abandon) with the outputs and
 * errors of AOSP's PackageManagerShellCommand and PackageInstallerSession:
 * an app of split APKs installs and `pm path` lists base and splits; a
 * commit without a base, a base that needs its splits alone, files of two
 * packages or versions, a split twice, nothing staged, an unknown or
 * someone else's session, a file system_server may not read; and installd's
 * cache folders (group: the app's cache GID) at install and at boot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/sim/sim_internal.h"
#include "tests/unit/sim_fixture.h"

#define PKG "com.example.splitty"

static int
setup(void **state)
{
  return sim_fx_setup(state, "xiaomi/redmi-k70", true);
}

/* An APK stand-in at /data/local/tmp/NAME, owned by shell. */
static size_t
put_apk(struct sim_fx *fx, const char *name, const char *pkg, long vcode, const char *split,
        bool required)
{
  char canon[256], text[512];
  int n = snprintf(text, sizeof(text),
                   "droidfix-sim apk (a stand-in for an APK file)\npackage=%s\nversionCode=%ld\n"
                   "versionName=1.%ld\ntargetSdk=34\n%s%s%s%s",
                   pkg, vcode, vcode, split ? "split=" : "", split ? split : "", split ? "\n" : "",
                   required ? "isSplitRequired=true\n" : "");
  snprintf(canon, sizeof(canon), "/data/local/tmp/%s", name);
  assert_int_equal(df_sim_vfs_write_file(fx->phone, canon, text, (size_t)n, 2000, 2000, 0644, false), 0);
  return (size_t)n;
}

/* pm install-create ... : the session id from its one line. */
static int
create(struct sim_fx *fx, const char *opts, bool root)
{
  char cmd[256];
  int id = -1;
  snprintf(cmd, sizeof(cmd), "pm install-create %s", opts);
  assert_int_equal(sim_fx_sh(fx, cmd, root), 0);
  assert_int_equal(sscanf(sim_fx_out(fx), "Success: created install session [%d]\n", &id), 1);
  assert_true(id > 0);
  return id;
}

static int
run(struct sim_fx *fx, bool root, const char *fmt, ...)
{
  char cmd[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  return sim_fx_sh(fx, cmd, root);
}

static void
test_split_app_installs(void **state)
{
  struct sim_fx *fx = *state;
  char want[128];
  size_t b = put_apk(fx, "base.apk", PKG, 7, NULL, true);
  size_t a = put_apk(fx, "split_config.arm64_v8a.apk", PKG, 7, "config.arm64_v8a", false);
  size_t e = put_apk(fx, "split_config.en.apk", PKG, 7, "config.en", false);
  int id = create(fx, "-r -S 900", false);
  char stage[64];
  snprintf(stage, sizeof(stage), "/data/app/vmdl%d.tmp", id);
  assert_true(df_sim_vfs_exists(fx->phone, stage));

  assert_int_equal(run(fx, false, "pm install-write -S %zu %d base.apk /data/local/tmp/base.apk", b, id), 0);
  snprintf(want, sizeof(want), "Success: streamed %zu bytes\n", b);
  assert_string_equal(sim_fx_out(fx), want);
  assert_int_equal(run(fx, false, "pm install-write -S %zu %d split_config.arm64_v8a.apk "
                                  "/data/local/tmp/split_config.arm64_v8a.apk", a, id), 0);
  /* From stdin ('-'), as adb streams it. */
  assert_int_equal(run(fx, false, "cat /data/local/tmp/split_config.en.apk | pm install-write -S %zu %d en.apk -", e, id), 0);
  snprintf(want, sizeof(want), "Success: streamed %zu bytes\n", e);
  assert_string_equal(sim_fx_out(fx), want);
  /* A session outlives a restart of the sim. */
  sim_fx_reopen(fx);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 0);
  assert_string_equal(sim_fx_out(fx), "Success\n");
  assert_false(df_sim_vfs_exists(fx->phone, stage));

  struct df_sim_package *p = df_sim_pkg_find(fx->phone, PKG);
  assert_non_null(p);
  assert_false(p->system);
  assert_int_equal(p->version_code, 7);
  assert_int_equal(sim_fx_sh(fx, "pm path " PKG, false), 0);
  char lines[1024];
  snprintf(lines, sizeof(lines), "package:%s/base.apk\npackage:%s/split_config.arm64_v8a.apk\n"
                                 "package:%s/split_config.en.apk\n",
           p->code_path, p->code_path, p->code_path);
  assert_string_equal(sim_fx_out(fx), lines);
  /* The files are the ones written (named by their split, not the name
   * they were written under). */
  assert_int_equal(run(fx, false, "cat %s/split_config.en.apk", p->code_path), 0);
  assert_non_null(strstr(sim_fx_out(fx), "split=config.en\n"));

  /* A committed session is gone. */
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 255);
  snprintf(want, sizeof(want), "java.lang.SecurityException: Caller has no access to session %d\n", id);
  assert_non_null(strstr(sim_fx_err(fx), want));
  assert_non_null(strstr(sim_fx_err(fx), "Exception occurred while executing 'install-commit':\n"));

  /* Several paths to pm install: one session, each file by its name. */
  assert_int_equal(sim_fx_sh(fx, "pm uninstall " PKG, false), 0);
  put_apk(fx, "base8.apk", PKG, 8, NULL, true);
  put_apk(fx, "en8.apk", PKG, 8, "config.en", false);
  assert_int_equal(sim_fx_sh(fx, "pm install /data/local/tmp/base8.apk /data/local/tmp/en8.apk", false), 0);
  assert_string_equal(sim_fx_out(fx), "Success\n");
  assert_int_equal(sim_fx_sh(fx, "pm path " PKG, false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "/split_config.en.apk\n"));
}

static void
test_commit_refusals(void **state)
{
  struct sim_fx *fx = *state;
  char want[256];
  put_apk(fx, "base.apk", PKG, 7, NULL, true);
  put_apk(fx, "en.apk", PKG, 7, "config.en", false);
  put_apk(fx, "other.apk", "com.example.other", 7, "config.en", false);
  put_apk(fx, "en6.apk", PKG, 6, "config.en", false);

  /* Splits without their base. */
  int id = create(fx, "-r", false);
  assert_int_equal(run(fx, false, "pm install-write %d en.apk /data/local/tmp/en.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  assert_string_equal(sim_fx_out(fx),
                      "Failure [INSTALL_FAILED_INVALID_APK: Full install must include a base package]\n");
  assert_null(df_sim_pkg_find(fx->phone, PKG));
  /* A failed commit ends the session too. */
  assert_int_equal(run(fx, false, "pm install-write %d base.apk /data/local/tmp/base.apk", id), 255);
  assert_non_null(strstr(sim_fx_err(fx), "Caller has no access to session"));

  /* Nothing staged. */
  id = create(fx, "", false);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  snprintf(want, sizeof(want), "Failure [INSTALL_FAILED_INVALID_APK: Session: %d. No packages "
                               "staged in /data/app/vmdl%d.tmp]\n", id, id);
  assert_string_equal(sim_fx_out(fx), want);

  /* A base that requires splits, alone: in a session and with pm install. */
  id = create(fx, "", false);
  assert_int_equal(run(fx, false, "pm install-write %d base.apk /data/local/tmp/base.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  assert_string_equal(sim_fx_out(fx), "Failure [INSTALL_FAILED_MISSING_SPLIT: Missing split for " PKG "]\n");
  assert_int_equal(sim_fx_sh(fx, "pm install -r /data/local/tmp/base.apk", false), 1);
  assert_non_null(strstr(sim_fx_err(fx), "Failure [INSTALL_FAILED_MISSING_SPLIT: Missing split for " PKG "]"));
  assert_null(df_sim_pkg_find(fx->phone, PKG));

  /* Another package's split; another version's split; one split twice. */
  id = create(fx, "", false);
  assert_int_equal(run(fx, false, "pm install-write %d a.apk /data/local/tmp/base.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-write %d b.apk /data/local/tmp/other.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  snprintf(want, sizeof(want), "Failure [INSTALL_FAILED_INVALID_APK: /data/app/vmdl%d.tmp/b.apk "
                               "package com.example.other inconsistent with " PKG "]\n", id);
  assert_string_equal(sim_fx_out(fx), want);
  id = create(fx, "", false);
  assert_int_equal(run(fx, false, "pm install-write %d a.apk /data/local/tmp/base.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-write %d b.apk /data/local/tmp/en6.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  assert_non_null(strstr(sim_fx_out(fx), "b.apk version code 6 inconsistent with 7]\n"));
  id = create(fx, "", false);
  assert_int_equal(run(fx, false, "pm install-write %d a.apk /data/local/tmp/base.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-write %d b.apk /data/local/tmp/en.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-write %d c.apk /data/local/tmp/en.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  assert_string_equal(sim_fx_out(fx),
                      "Failure [INSTALL_FAILED_INVALID_APK: Split config.en was defined multiple times]\n");

  /* -R refuses to replace an installed app. */
  id = create(fx, "-R", false);
  put_apk(fx, "wa.apk", "com.whatsapp", 240106000, NULL, false);
  assert_int_equal(run(fx, false, "pm install-write %d base.apk /data/local/tmp/wa.apk", id), 0);
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 1);
  assert_string_equal(sim_fx_out(fx), "Failure [INSTALL_FAILED_ALREADY_EXISTS: Attempt to re-install "
                                      "com.whatsapp without first uninstalling.]\n");
}

static void
test_write_refusals(void **state)
{
  struct sim_fx *fx = *state;
  put_apk(fx, "base.apk", PKG, 7, NULL, false);
  assert_int_equal(sim_fx_sh(fx, "pm install-write -S 10 12345 base.apk /data/local/tmp/base.apk", false), 255);
  assert_string_equal(sim_fx_err(fx), "Exception occurred while executing 'install-write':\n"
                                      "java.lang.SecurityException: Caller has no access to session 12345\n");
  assert_int_equal(sim_fx_sh(fx, "pm install-commit 12345", false), 255);
  assert_int_equal(sim_fx_sh(fx, "pm install-abandon 12345", false), 255);

  int id = create(fx, "", false);
  /* system_server may not read shared storage. */
  assert_int_equal(sim_fx_sh(fx, "cat /data/local/tmp/base.apk > /sdcard/base.apk", false), 0);
  assert_int_equal(run(fx, false, "pm install-write %d base.apk /sdcard/base.apk", id), 255);
  assert_string_equal(sim_fx_err(fx), "Error: Unable to open file: /sdcard/base.apk\n"
                                      "Consider using a file under /data/local/tmp/\n");
  assert_int_equal(run(fx, false, "pm install-write %d base.apk /data/local/tmp/none.apk", id), 255);
  assert_string_equal(sim_fx_err(fx), "Error: Unable to open file: /data/local/tmp/none.apk\n");
  /* stdin needs its size. */
  assert_int_equal(run(fx, false, "pm install-write %d base.apk -", id), 1);
  assert_string_equal(sim_fx_err(fx), "Error: must specify a APK size\n");
  assert_int_equal(run(fx, false, "pm install-write %d a/b.apk /data/local/tmp/base.apk", id), 255);
  assert_non_null(strstr(sim_fx_err(fx), "java.lang.IllegalArgumentException: Invalid name: a/b.apk\n"));
  assert_int_equal(run(fx, false, "pm install-write -X %d base.apk /data/local/tmp/base.apk", id), 255);
  assert_non_null(strstr(sim_fx_err(fx), "Unknown option: -X"));
  /* Abandoned: gone. */
  assert_int_equal(run(fx, false, "pm install-abandon %d", id), 0);
  assert_string_equal(sim_fx_out(fx), "Success\n");
  assert_int_equal(run(fx, false, "pm install-commit %d", id), 255);

  /* A session is its maker's: root's is not the shell's; root may use any. */
  id = create(fx, "", true);
  assert_int_equal(run(fx, false, "pm install-write %d base.apk /data/local/tmp/base.apk", id), 255);
  assert_non_null(strstr(sim_fx_err(fx), "Caller has no access to session"));
  assert_int_equal(run(fx, true, "pm install-write %d base.apk /data/local/tmp/base.apk", id), 0);
  assert_int_equal(run(fx, true, "pm install-commit %d", id), 0);
  assert_non_null(df_sim_pkg_find(fx->phone, PKG));
  assert_int_equal(sim_fx_sh(fx, "pm install-create --bogus", false), 255);
  assert_non_null(strstr(sim_fx_err(fx), "java.lang.IllegalArgumentException: Unknown option --bogus\n"));
}

static void
test_cache_groups(void **state)
{
  struct sim_fx *fx = *state;
  uint32_t u, g, m;
  /* The phone's first boot: installd gave Telegram's cache (and what is
   * in it) the app's cache group, 20000 + (uid - 10000). */
  struct df_sim_package *t = df_sim_pkg_find(fx->phone, "org.telegram.messenger");
  assert_non_null(t);
  uint32_t cg = (uint32_t)t->uid + 10000;
  assert_int_equal(df_sim_app_cache_gid(t->uid), cg);
  assert_int_equal(df_sim_app_cache_gid(1000), 1000);
  assert_int_equal(df_sim_app_cache_gid(110230), 120230); /* user 1 */
  df_sim_vfs_meta_get(fx->phone, "/data/data/org.telegram.messenger/cache", &u, &g, &m);
  assert_int_equal(u, (uint32_t)t->uid);
  assert_int_equal(g, cg);
  assert_int_equal(m, 02771);
  df_sim_vfs_meta_get(fx->phone, "/data/data/org.telegram.messenger/cache/thumbs.bin", &u, &g, &m);
  assert_int_equal(g, cg);
  df_sim_vfs_meta_get(fx->phone, "/data/data/org.telegram.messenger/files/cache4.db", &u, &g, &m);
  assert_int_equal(g, (uint32_t)t->uid);
  assert_int_equal(sim_fx_sh(fx, "ls -l /data/data/org.telegram.messenger", true), 0);
  char want[96], user[32], group[32];
  snprintf(user, sizeof(user), "u0_a%d", t->uid - 10000);
  snprintf(group, sizeof(group), "u0_a%d_cache", t->uid - 10000);
  snprintf(want, sizeof(want), "drwxrws--x 2 %-8s %-8s ", user, group); /* toybox ls -l */
  assert_non_null(strstr(sim_fx_out(fx), want));

  /* chown -R uid:uid undoes it; the next boot's installd puts it right. */
  char cmd[200];
  snprintf(cmd, sizeof(cmd), "chown -R %d:%d /data/data/org.telegram.messenger", t->uid, t->uid);
  assert_int_equal(sim_fx_sh(fx, cmd, true), 0);
  df_sim_vfs_meta_get(fx->phone, "/data/data/org.telegram.messenger/cache/thumbs.bin", &u, &g, &m);
  assert_int_equal(g, (uint32_t)t->uid);
  df_sim_phone_boot(fx->phone, DF_SIM_MODE_SYSTEM);
  df_sim_vfs_meta_get(fx->phone, "/data/data/org.telegram.messenger/cache/thumbs.bin", &u, &g, &m);
  assert_int_equal(g, cg);

  /* A new app: both cache folders at install. */
  put_apk(fx, "base.apk", PKG, 7, NULL, false);
  assert_int_equal(sim_fx_sh(fx, "pm install /data/local/tmp/base.apk", false), 0);
  struct df_sim_package *p = df_sim_pkg_find(fx->phone, PKG);
  assert_non_null(p);
  df_sim_vfs_meta_get(fx->phone, "/data/data/" PKG "/code_cache", &u, &g, &m);
  assert_true(df_sim_vfs_exists(fx->phone, "/data/data/" PKG "/code_cache"));
  assert_int_equal(u, (uint32_t)p->uid);
  assert_int_equal(g, df_sim_app_cache_gid(p->uid));
  assert_int_equal(m, 02771);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_split_app_installs, setup, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_commit_refusals, setup, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_write_refusals, setup, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_cache_groups, setup, sim_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
