/* The simulated phone's state: it survives a save and load, status is one
 * JSON object, user_data_sha256 covers what the user would lose and nothing
 * else, fastboot variables and partitions, and the file API adb sync uses. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/sim_fixture.h"

static struct sim_fx fx_storage;

static int
setup(void **state)
{
  sim_fx_new(&fx_storage, "xiaomi/redmi-k70", NULL, false);
  *state = &fx_storage;
  return 0;
}

static int
teardown(void **state)
{
  sim_fx_free(&fx_storage);
  return 0;
}

static void
digest(struct sim_fx *fx, char out[65])
{
  assert_int_equal(df_sim_phone_user_data_sha256(fx->phone, out), 0);
  assert_int_equal(strlen(out), 64);
}

static void
test_state_survives_reload(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(sim_fx_sh(fx, "settings put global sim_marker 77 && pm disable-user com.whatsapp && "
                                 "echo kept > /sdcard/Documents/kept.txt && setprop debug.sim.k v", false), 0);
  assert_int_equal(df_sim_phone_reboot(fx->phone, "bootloader"), 0);
  char before[65], after[65];
  digest(fx, before);
  int boots = fx->phone->boot_count;
  sim_fx_reopen(fx);
  /* A phone that was in the bootloader is there again. */
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_BOOTLOADER);
  assert_string_equal(df_sim_phone_serial(fx->phone), "SIMTEST1");
  assert_int_equal(fx->phone->boot_count, boots);
  assert_int_equal(df_sim_phone_reboot(fx->phone, ""), 0);
  assert_int_equal(sim_fx_sh(fx, "settings get global sim_marker; pm list packages -d; "
                                 "cat /sdcard/Documents/kept.txt; getprop debug.sim.k", false), 0);
  assert_string_equal(sim_fx_out(fx), "77\npackage:com.whatsapp\nkept\nv\n");
  digest(fx, after);
  assert_string_equal(before, after);
}

static void
test_status_json(void **state)
{
  struct sim_fx *fx = *state;
  struct df_sim_buf b = {0};
  assert_int_equal(df_sim_phone_status_json(fx->phone, &b), 0);
  assert_true(b.len > 2 && b.data[0] == '{' && b.data[b.len - 2] == '}' && b.data[b.len - 1] == '\n');
  assert_non_null(strstr(b.data, "\"serial\": \"SIMTEST1\""));
  assert_non_null(strstr(b.data, "\"model\": \"xiaomi/redmi-k70\""));
  assert_non_null(strstr(b.data, "\"codename\": \"vermeer\""));
  assert_non_null(strstr(b.data, "\"mode\": \"system\""));
  assert_non_null(strstr(b.data, "\"faults\": []"));
  assert_non_null(strstr(b.data, "\"boot_a\": {\"size\": 4096, \"sha256\": \""));
  assert_non_null(strstr(b.data, "\"system_a\": {\"size\": 4096"));
  /* An empty image hashes to SHA-256 of nothing. */
  assert_non_null(strstr(b.data, "\"userdata\": {\"size\": 0, \"sha256\": "
                                 "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}"));
  df_sim_buf_free(&b);
}

static void
test_user_data_digest(void **state)
{
  struct sim_fx *fx = *state;
  char a[65], b[65];
  digest(fx, a);
  /* Caches, system and Google apps' data: repairs may clear them. */
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only com.whatsapp && pm clear com.android.vending && "
                                 "pm clear com.google.android.gms && pm trim-caches 500G && "
                                 "pm clear com.android.providers.downloads", false), 0);
  digest(fx, b);
  assert_string_equal(a, b);
  /* A file in /sdcard is the user's. */
  assert_int_equal(sim_fx_sh(fx, "rm /sdcard/Documents/notes.txt", false), 0);
  digest(fx, b);
  assert_string_not_equal(a, b);
  digest(fx, a);
  /* So is a user app's data. */
  assert_int_equal(sim_fx_sh(fx, "pm clear org.telegram.messenger", false), 0);
  digest(fx, b);
  assert_string_not_equal(a, b);
}

static void
test_getvar(void **state)
{
  struct sim_fx *fx = *state;
  char v[128];
  assert_int_equal(df_sim_phone_reboot(fx->phone, "bootloader"), 0);
  assert_true(df_sim_phone_getvar(fx->phone, "product", v, sizeof(v)));
  assert_string_equal(v, "vermeer");
  assert_true(df_sim_phone_getvar(fx->phone, "is-userspace", v, sizeof(v)));
  assert_string_equal(v, "no");
  assert_true(df_sim_phone_getvar(fx->phone, "max-download-size", v, sizeof(v)));
  assert_string_equal(v, "0x10000000");
  assert_true(df_sim_phone_getvar(fx->phone, "current-slot", v, sizeof(v)));
  assert_string_equal(v, "a");
  assert_true(df_sim_phone_getvar(fx->phone, "has-slot:boot", v, sizeof(v)));
  assert_string_equal(v, "yes");
  assert_true(df_sim_phone_getvar(fx->phone, "has-slot:misc", v, sizeof(v)));
  assert_string_equal(v, "no");
  assert_true(df_sim_phone_getvar(fx->phone, "partition-size:boot_b", v, sizeof(v)));
  assert_string_equal(v, "0x000000000C000000");
  assert_true(df_sim_phone_getvar(fx->phone, "partition-type:userdata", v, sizeof(v)));
  assert_string_equal(v, "f2fs");
  assert_true(df_sim_phone_getvar(fx->phone, "anti", v, sizeof(v)));
  assert_string_equal(v, "0");
  assert_true(df_sim_phone_getvar(fx->phone, "crc", v, sizeof(v)));
  assert_true(df_sim_phone_getvar(fx->phone, "unlocked", v, sizeof(v)));
  assert_string_equal(v, "no");
  assert_false(df_sim_phone_getvar(fx->phone, "no-such-var", v, sizeof(v)));
  /* Logical partitions exist only in fastbootd. */
  assert_false(df_sim_phone_getvar(fx->phone, "is-logical:system_a", v, sizeof(v)));
  assert_null(df_sim_phone_partition(fx->phone, "system_a", NULL, 0));
  assert_int_equal(df_sim_phone_reboot(fx->phone, "fastboot"), 0);
  assert_int_equal(df_sim_phone_mode(fx->phone), DF_SIM_MODE_FASTBOOTD);
  assert_true(df_sim_phone_getvar(fx->phone, "is-userspace", v, sizeof(v)));
  assert_string_equal(v, "yes");
  assert_true(df_sim_phone_getvar(fx->phone, "is-logical:system_a", v, sizeof(v)));
  assert_string_equal(v, "yes");
  assert_true(df_sim_phone_getvar(fx->phone, "max-download-size", v, sizeof(v)));
  assert_string_equal(v, "0x10000000");
  assert_false(df_sim_phone_getvar(fx->phone, "anti", v, sizeof(v)));
  assert_true(df_sim_phone_getvar(fx->phone, "super-partition-name", v, sizeof(v)));
  assert_string_equal(v, "super");
  assert_int_equal(df_sim_phone_logical_create(fx->phone, "mi_ext_a", 4096), 0);
  assert_int_equal(df_sim_phone_logical_create(fx->phone, "mi_ext_a", 4096), DF_EEXIST);
  assert_int_equal(df_sim_phone_logical_resize(fx->phone, "mi_ext_a", 8192), 0);
  assert_true(df_sim_phone_getvar(fx->phone, "partition-size:mi_ext_a", v, sizeof(v)));
  assert_string_equal(v, "0x0000000000002000");
  assert_int_equal(df_sim_phone_logical_delete(fx->phone, "mi_ext_a"), 0);
  assert_null(df_sim_phone_partition(fx->phone, "mi_ext_a", NULL, 0));
}

static void
test_unlock_wipes_userdata(void **state)
{
  struct sim_fx *fx = *state;
  char a[65], b[65];
  digest(fx, a);
  assert_int_equal(df_sim_phone_reboot(fx->phone, "bootloader"), 0);
  assert_int_equal(df_sim_phone_set_unlocked(fx->phone, true, false), 0);
  assert_true(df_sim_phone_unlocked(fx->phone));
  digest(fx, b);
  assert_string_not_equal(a, b);
  assert_int_equal(df_sim_phone_reboot(fx->phone, ""), 0);
  assert_int_equal(sim_fx_sh(fx, "pm list packages -3; ls /sdcard/DCIM; dumpsys account | grep Accounts", false), 0);
  assert_string_equal(sim_fx_out(fx), "  Accounts: 0\n");
  assert_int_equal(sim_fx_sh(fx, "pm list packages -s vending", false), 0);
  assert_string_equal(sim_fx_out(fx), "package:com.android.vending\n");
}

struct list_ctx {
  int files;
  bool saw_notes;
};

static void
on_entry(void *ctx, const char *name, const struct df_sim_stat *st)
{
  struct list_ctx *c = ctx;
  c->files++;
  if (strcmp(name, "notes.txt") == 0 && (st->mode & S_IFMT) == S_IFREG && st->size > 0) {
    c->saw_notes = true;
  }
}

static void
test_vfs_for_sync(void **state)
{
  struct sim_fx *fx = *state;
  struct df_sim_vfs_write *w;
  int fd;
  assert_int_equal(df_sim_vfs_write_begin(fx->phone, "/sdcard/Pushed/a/b.bin", 0100644, false, &w, &fd), 0);
  assert_int_equal(write(fd, "0123456789", 10), 10);
  close(fd);
  assert_int_equal(df_sim_vfs_write_finish(fx->phone, w, true, 1700000000), 0);
  struct df_sim_stat st;
  assert_int_equal(df_sim_vfs_stat(fx->phone, "/sdcard/Pushed/a/b.bin", false, &st), 0);
  assert_int_equal(st.size, 10);
  assert_int_equal(st.mtime, 1700000000);
  assert_int_equal(df_sim_vfs_open_read(fx->phone, "/storage/emulated/0/Pushed/a/b.bin", false, &fd), 0);
  char buf[16] = {0};
  assert_int_equal(read(fd, buf, sizeof(buf)), 10);
  close(fd);
  assert_string_equal(buf, "0123456789");
  struct list_ctx c = {0};
  assert_int_equal(df_sim_vfs_list(fx->phone, "/sdcard/Documents", false, on_entry, &c), 0);
  assert_int_equal(c.files, 1);
  assert_true(c.saw_notes);
  assert_int_equal(df_sim_vfs_stat(fx->phone, "/sdcard/none", false, &st), DF_ENOENT);
  assert_int_equal(df_sim_vfs_list(fx->phone, "/data", false, on_entry, &c), DF_EACCES);
  assert_int_equal(df_sim_vfs_write_begin(fx->phone, "/system/x", 0100644, false, &w, &fd), DF_EACCES);
  /* An abandoned push leaves nothing. */
  assert_int_equal(df_sim_vfs_write_begin(fx->phone, "/sdcard/partial.bin", 0100644, false, &w, &fd), 0);
  close(fd);
  assert_int_equal(df_sim_vfs_write_finish(fx->phone, w, false, 0), 0);
  assert_int_equal(df_sim_vfs_stat(fx->phone, "/sdcard/partial.bin", false, &st), DF_ENOENT);
  /* Root sees /data. */
  assert_int_equal(df_sim_vfs_stat(fx->phone, "/data/data/com.whatsapp/files/key", true, &st), 0);
}

static void
test_bad_model(void **state)
{
  char dir[] = "/tmp/df-sim-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  struct df_sim_phone_options o = {.state_dir = dir, .model = "nokia/3310"};
  struct df_sim_phone *phone = NULL;
  char err[512];
  assert_int_not_equal(df_sim_phone_open(&o, &phone, err, sizeof(err)), 0);
  assert_non_null(strstr(err, "nokia/3310"));
  o.model = "../etc/passwd";
  assert_int_not_equal(df_sim_phone_open(&o, &phone, err, sizeof(err)), 0);
  assert_non_null(strstr(err, "bad model"));
  nftw(dir, sim_fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_state_survives_reload, setup, teardown),
    cmocka_unit_test_setup_teardown(test_status_json, setup, teardown),
    cmocka_unit_test_setup_teardown(test_user_data_digest, setup, teardown),
    cmocka_unit_test_setup_teardown(test_getvar, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unlock_wipes_userdata, setup, teardown),
    cmocka_unit_test_setup_teardown(test_vfs_for_sync, setup, teardown),
    cmocka_unit_test(test_bad_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
