/* The backup and restore C path against a real droidfix-sim (started here
 * from DF_BIN_DIR on free ports): a backup of /sdcard with apps and
 * settings reads back against its manifest; files deleted on the phone
 * change its user_data_sha256 and a restore brings the digest back byte
 * for byte; a bit-flipped or truncated archive is refused before anything
 * is pushed; a canceled backup leaves nothing; an existing archive is never
 * overwritten. On a second, rooted sim: an app of split APKs and an app
 * with data are uninstalled after a backup; the restore installs the split
 * app again through an install session (pm path lists base and splits),
 * gives the data to the new uid with cache/ and code_cache/ in the app's
 * cache group (checked before any reboot, which would let installd fix
 * it), and the digest is the one from before. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/loop.h"
#include "plugins/adb/adb_shell.h"
#include "plugins/adb/backup.h"
#include "plugins/device.h"

static char tmpdir[64];
static char state_dir[128], rooted_dir[128];
static pid_t sim_pid = -1, rooted_pid = -1;
static struct df_loop loop;
static struct df_adb_keys keys;
static struct df_device *dev, *rdev; /* the plain sim, the rooted one */

static bool
exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

static void
run_until(bool *flag)
{
  while (!*flag) uv_run(&loop.uv, UV_RUN_ONCE);
}

/* user_data_sha256 from `droidfix-sim status` of the sim in dir. */
static void
digest_of(const char *dir, char out[65])
{
  char cmd[512], line[8192];
  const char *bin = getenv("DF_BIN_DIR");
  FILE *f;

  snprintf(cmd, sizeof(cmd), "%s/droidfix-sim status --state-dir %s", bin, dir);
  f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = fread(line, 1, sizeof(line) - 1, f);
  line[n] = '\0';
  pclose(f);
  const char *p = strstr(line, "\"user_data_sha256\": \"");
  assert_non_null(p);
  memcpy(out, p + 21, 64);
  out[64] = '\0';
}

static void
digest(char out[65])
{
  digest_of(state_dir, out);
}

struct shell_wait {
  bool done;
  int status, exit_code;
  char out[8192];
};

static void
on_shell(void *ud, int status, int exit_code, const char *out, size_t out_len, const char *err,
         size_t err_len)
{
  struct shell_wait *w = ud;
  (void)err;
  (void)err_len;
  w->status = status;
  w->exit_code = exit_code;
  snprintf(w->out, sizeof(w->out), "%.*s", (int)out_len, out);
  w->done = true;
}

/* Runs cmd on phone d; its exit code, and its stdout in out (may be NULL). */
static int
shell_on(struct df_device *d, const char *cmd, char *out, size_t outlen)
{
  struct shell_wait w = {0};
  assert_int_equal(df_adb_shell_capture(d->adb, cmd, 65536, on_shell, &w), 0);
  run_until(&w.done);
  assert_int_equal(w.status, 0);
  if (out != NULL) snprintf(out, outlen, "%s", w.out);
  return w.exit_code;
}

static int
phone_shell(const char *cmd)
{
  return shell_on(dev, cmd, NULL, 0);
}

struct probe_wait {
  bool done;
  int status;
  struct df_device *dev;
};

static void
on_probe(void *ud, int status, struct df_device *d)
{
  struct probe_wait *w = ud;
  w->status = status;
  w->dev = d;
  w->done = true;
}

/* Starts droidfix-sim serve on state dir sdir (with --rooted if asked),
 * waits for its adb port and probes it into *d. */
static int
start_sim(const char *sdir, bool rooted, pid_t *pid, struct df_device **d)
{
  char out_path[200], line[256];

  mkdir(sdir, 0700);
  snprintf(out_path, sizeof(out_path), "%s.out", sdir);
  *pid = fork();
  if (*pid == 0) {
    char exe[512];
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    snprintf(exe, sizeof(exe), "%s/droidfix-sim", getenv("DF_BIN_DIR"));
    if (rooted)
      execl(exe, exe, "serve", "--state-dir", sdir, "--rooted", (char *)NULL);
    else
      execl(exe, exe, "serve", "--state-dir", sdir, (char *)NULL);
    _exit(127);
  }
  /* Wait for "adb 127.0.0.1:PORT". */
  struct df_endpoint ep;
  bool found = false;
  /* Up to 30 s: a sanitizer build on a loaded machine starts slowly. */
  for (int i = 0; i < 300 && !found; i++) {
    FILE *f = fopen(out_path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
      if (strncmp(line, "adb ", 4) == 0) {
        line[strcspn(line, "\n")] = '\0';
        found = df_endpoint_parse(line + 4, &ep) == 0;
      }
    }
    if (f != NULL) fclose(f);
    if (!found) usleep(100 * 1000);
  }
  if (!found) return -1;
  ep.kind = DF_ENDPOINT_ADB;
  struct probe_wait w = {0};
  if (df_device_probe(&loop, &ep, &keys, 20000, on_probe, &w) != 0) return -1;
  run_until(&w.done);
  *d = w.dev;
  return w.status == 0 && *d != NULL && (*d)->adb != NULL ? 0 : -1;
}

static int
setup(void **state)
{
  char home[160], kdir[200];
  const char *bin = getenv("DF_BIN_DIR");
  (void)state;

  if (bin == NULL) bin = "build/bin";
  setenv("DF_BIN_DIR", bin, 0);
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-test-backup-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  snprintf(state_dir, sizeof(state_dir), "%s/phone", tmpdir);
  snprintf(rooted_dir, sizeof(rooted_dir), "%s/rooted", tmpdir);
  snprintf(home, sizeof(home), "%s/home", tmpdir);
  mkdir(home, 0700);
  setenv("HOME", home, 1);
  unsetenv("ANDROID_USER_HOME");
  if (df_loop_init(&loop) != 0) return -1;
  snprintf(kdir, sizeof(kdir), "%s/.android", home);
  mkdir(kdir, 0700);
  if (df_adb_keys_load(&keys, kdir) != 0) return -1;
  if (start_sim(state_dir, false, &sim_pid, &dev) != 0) return -1;
  return start_sim(rooted_dir, true, &rooted_pid, &rdev);
}

static int
teardown(void **state)
{
  char cmd[128];
  (void)state;
  if (dev != NULL) df_device_close(dev);
  if (rdev != NULL) df_device_close(rdev);
  df_loop_close(&loop);
  df_adb_keys_free(&keys);
  if (sim_pid > 0) {
    kill(sim_pid, SIGTERM);
    waitpid(sim_pid, NULL, 0);
  }
  if (rooted_pid > 0) {
    kill(rooted_pid, SIGTERM);
    waitpid(rooted_pid, NULL, 0);
  }
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* ---- driving the C API ---- */

struct backup_wait {
  bool done;
  int status;
  struct df_backup_result r;
  char not_covered[4096];
};

static void
on_backup(void *ud, int status, const struct df_backup_result *r)
{
  struct backup_wait *w = ud;
  w->status = status;
  w->r = *r;
  snprintf(w->not_covered, sizeof(w->not_covered), "%s", r->not_covered ? r->not_covered : "");
  w->r.not_covered = NULL; /* valid during the call only */
  w->done = true;
}

static int
backup_of(struct df_device *d, const char *path, struct backup_wait *w)
{
  static const char *const folders[] = {"/sdcard"};
  struct df_backup_spec spec = {folders, 1, true, true, d->serial, d->model};
  int rc;

  memset(w, 0, sizeof(*w));
  rc = df_backup_create(&loop, d->adb, path, &spec, NULL, on_backup, w, NULL);
  if (rc != 0) return rc;
  run_until(&w->done);
  return w->status;
}

static int
take_backup(const char *path, struct backup_wait *w)
{
  return backup_of(dev, path, w);
}

struct restore_wait {
  bool done;
  int status;
  char message[1024];
  char missing[4096];
  char failed[4096];
  char installed[4096], data_restored[4096], apps_failed[4096];
  uint64_t files, bytes;
};

static void
on_restore(void *ud, int status, const struct df_restore_result *r)
{
  struct restore_wait *w = ud;
  w->status = status;
  w->files = r->files;
  w->bytes = r->bytes;
  snprintf(w->message, sizeof(w->message), "%s", r->message);
  snprintf(w->missing, sizeof(w->missing), "%s", r->missing_apps);
  snprintf(w->failed, sizeof(w->failed), "%s", r->settings_failed);
  snprintf(w->installed, sizeof(w->installed), "%s", r->apps_installed ? r->apps_installed : "");
  snprintf(w->data_restored, sizeof(w->data_restored), "%s",
           r->apps_data_restored ? r->apps_data_restored : "");
  snprintf(w->apps_failed, sizeof(w->apps_failed), "%s", r->apps_failed ? r->apps_failed : "");
  w->done = true;
}

static int
restore_to(struct df_device *d, const char *path, struct restore_wait *w)
{
  int rc;
  memset(w, 0, sizeof(*w));
  rc = df_restore_start(&loop, d->adb, path, NULL, NULL, on_restore, w, NULL);
  if (rc != 0) return rc;
  run_until(&w->done);
  return w->status;
}

static int
restore(const char *path, struct restore_wait *w)
{
  return restore_to(dev, path, w);
}

static void
copy_file(const char *from, const char *to, long truncate_at, long flip_at)
{
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
  assert_int_equal(system(cmd), 0);
  if (truncate_at >= 0) assert_int_equal(truncate(to, truncate_at), 0);
  if (flip_at >= 0) {
    FILE *f = fopen(to, "r+b");
    assert_non_null(f);
    fseek(f, flip_at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, flip_at, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
  }
}

/* The offset of a file's data in a tar: found with GNU tar's own listing
 * of block numbers (-R), so the flip lands inside the data of that file. */
static long
data_offset(const char *tar, const char *name)
{
  char cmd[512], line[1024];
  long block = -1;
  snprintf(cmd, sizeof(cmd), "tar -tRvf %s", tar);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strstr(line, name) != NULL && block < 0) sscanf(line, "block %ld:", &block);
  }
  pclose(f);
  assert_true(block >= 0);
  return (block + 1) * 512 + 100; /* past its (ustar) header */
}

static void
test_round_trip(void **state)
{
  char path[160], partial[200], before[65], after_rm[65], after[65];
  struct backup_wait bw;
  struct restore_wait rw;
  (void)state;

  snprintf(path, sizeof(path), "%s/phone.tar", tmpdir);
  snprintf(partial, sizeof(partial), "%s.partial", path);
  digest(before);
  assert_int_equal(take_backup(path, &bw), 0);
  assert_true(exists(path));
  assert_false(exists(partial));
  assert_true(bw.r.files >= 5);
  assert_true(bw.r.bytes > 0);
  assert_int_equal(strlen(bw.r.manifest_sha256), 64);

  /* It reads back against its manifest, and has meta/ and GNU tar agrees. */
  struct df_backup_check c;
  assert_int_equal(df_backup_verify_sync(path, false, &c), 0);
  assert_int_equal(c.files, bw.r.files);
  assert_string_equal(c.manifest_sha256, bw.r.manifest_sha256);
  char cmd[2048];
  snprintf(cmd, sizeof(cmd),
           "tar -xOf %s MANIFEST.sha256 | grep -q '  files/sdcard/Documents/notes.txt$' && "
           "tar -xOf %s meta/packages.txt | grep -q '^package:com.whatsapp ' && "
           "tar -xOf %s meta/settings-global.txt | grep -q '^auto_time=' && "
           "tar -xOf %s meta/backup.json | grep -q '\"folders\":' && "
           "tar -xOf %s meta/sync.txt | grep -qx 'master-sync=true' && "
           "tar -tf %s | grep -qx 'apps/com.whatsapp/base.apk' && "
           "cd %s && mkdir x && tar -xf phone.tar -C x && cd x && sha256sum -c --quiet MANIFEST.sha256",
           path, path, path, path, path, path, tmpdir);
  assert_int_equal(system(cmd), 0);
  /* The sim runs unrooted here: APKs yes, data and accounts named as lost. */
  assert_false(bw.r.rooted);
  assert_int_equal(bw.r.apps, 4);
  assert_int_equal(bw.r.apps_with_data, 0);
  assert_false(bw.r.accounts_saved);
  assert_non_null(strstr(bw.not_covered, "app-data com.whatsapp\n"));
  assert_non_null(strstr(bw.not_covered, "account com.google alex.rivera.sim@gmail.com\n"));

  /* Never over an existing archive. */
  struct backup_wait bw2;
  assert_int_equal(take_backup(path, &bw2), DF_EEXIST);

  /* Delete files on the phone: the digest changes; restore brings it back. */
  assert_int_equal(phone_shell("rm /sdcard/Documents/notes.txt"), 0);
  assert_int_equal(phone_shell("rm /sdcard/DCIM/Camera/IMG_20240105_101500.jpg"), 0);
  digest(after_rm);
  assert_string_not_equal(after_rm, before);

  /* A damaged archive is refused, naming the entry, before anything is
   * pushed: the digest stays as it was after the rm. */
  char bad[200];
  snprintf(bad, sizeof(bad), "%s/flipped.tar", tmpdir);
  copy_file(path, bad, -1, data_offset(path, "files/sdcard/Download/boarding-pass.pdf"));
  assert_int_equal(restore(bad, &rw), DF_ECORRUPT);
  assert_non_null(strstr(rw.message, "boarding-pass.pdf"));
  assert_int_equal(rw.files, 0);
  digest(after);
  assert_string_equal(after, after_rm);

  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  snprintf(bad, sizeof(bad), "%s/truncated.tar", tmpdir);
  copy_file(path, bad, st.st_size / 2, -1);
  assert_int_equal(restore(bad, &rw), DF_ECORRUPT);
  assert_int_equal(rw.files, 0);
  snprintf(bad, sizeof(bad), "%s/cut-at-end.tar", tmpdir);
  copy_file(path, bad, st.st_size - 1024 - 512, -1);
  assert_int_equal(restore(bad, &rw), DF_ECORRUPT);
  digest(after);
  assert_string_equal(after, after_rm);

  /* The real restore. */
  assert_int_equal(restore(path, &rw), 0);
  assert_true(rw.files == bw.r.files);
  digest(after);
  assert_string_equal(after, before);
}

#define SPLIT_PKG "com.example.splitty"

/* Writes an APK stand-in (the sim's: text naming package, version, split)
 * to /data/local/tmp/NAME on the rooted phone. */
static void
put_apk(const char *name, const char *split_line)
{
  char cmd[1024];
  snprintf(cmd, sizeof(cmd),
           "echo 'droidfix-sim apk (a stand-in for an APK file)' > /data/local/tmp/%s && "
           "echo 'package=" SPLIT_PKG "' >> /data/local/tmp/%s && "
           "echo 'versionCode=7' >> /data/local/tmp/%s && echo '%s' >> /data/local/tmp/%s",
           name, name, name, split_line, name);
  assert_int_equal(shell_on(rdev, cmd, NULL, 0), 0);
}

/* The uid `pm list packages -U PKG` gives, or -1. */
static long
uid_of(const char *pkg)
{
  char cmd[256], out[8192], needle[256];
  snprintf(cmd, sizeof(cmd), "pm list packages -U %s", pkg);
  assert_int_equal(shell_on(rdev, cmd, out, sizeof(out)), 0);
  snprintf(needle, sizeof(needle), "package:%s uid:", pkg);
  const char *u = strstr(out, needle);
  return u != NULL ? strtol(u + strlen(needle), NULL, 10) : -1;
}

/* The group column of NAME in `ls -l DIR` run as root, or "". */
static void
group_of(const char *dir, const char *name, char *group, size_t len)
{
  char cmd[512], out[8192];
  snprintf(cmd, sizeof(cmd), "su -c 'ls -l %s'", dir);
  assert_int_equal(shell_on(rdev, cmd, out, sizeof(out)), 0);
  group[0] = '\0';
  for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char mode[16], user[64], grp[64], day[16], hm[16], file[256];
    int links;
    unsigned long long size;
    if (sscanf(line, "%15s %d %63s %63s %llu %15s %15s %255s", mode, &links, user, grp, &size,
               day, hm, file) == 8 && strcmp(file, name) == 0)
      snprintf(group, len, "%s", grp);
  }
}

static void
test_rooted_split_app_and_cache_group(void **state)
{
  char path[160], before[65], after[65], out[8192], cmd[512], group[64], want[64];
  struct backup_wait bw;
  struct restore_wait rw;
  (void)state;

  /* An app whose base cannot run without its two splits. */
  put_apk("b.apk", "isSplitRequired=true");
  put_apk("a.apk", "split=config.arm64_v8a");
  put_apk("e.apk", "split=config.en");
  assert_int_equal(shell_on(rdev, "pm install /data/local/tmp/b.apk /data/local/tmp/a.apk "
                                  "/data/local/tmp/e.apk && rm /data/local/tmp/b.apk "
                                  "/data/local/tmp/a.apk /data/local/tmp/e.apk", NULL, 0), 0);
  assert_int_equal(shell_on(rdev, "pm path " SPLIT_PKG, out, sizeof(out)), 0);
  assert_non_null(strstr(out, "/split_config.en.apk\n"));

  snprintf(path, sizeof(path), "%s/rooted.tar", tmpdir);
  digest_of(rooted_dir, before);
  assert_int_equal(backup_of(rdev, path, &bw), 0);
  assert_true(bw.r.rooted);
  assert_int_equal(bw.r.apps, 5);
  assert_int_equal(bw.r.apps_with_data, 5);
  snprintf(cmd, sizeof(cmd), "[ \"$(tar -tf %s | grep -c '^apps/" SPLIT_PKG "/.*\\.apk$')\" = 3 ]",
           path);
  assert_int_equal(system(cmd), 0);

  /* Both apps gone (with their data): the digest changes. */
  assert_int_equal(shell_on(rdev, "pm uninstall " SPLIT_PKG, NULL, 0), 0);
  assert_int_equal(shell_on(rdev, "pm uninstall org.telegram.messenger", NULL, 0), 0);
  digest_of(rooted_dir, after);
  assert_string_not_equal(after, before);

  assert_int_equal(restore_to(rdev, path, &rw), 0);
  assert_non_null(strstr(rw.installed, SPLIT_PKG "\n"));
  assert_non_null(strstr(rw.installed, "org.telegram.messenger\n"));
  assert_non_null(strstr(rw.data_restored, SPLIT_PKG "\n"));
  assert_non_null(strstr(rw.data_restored, "org.telegram.messenger\n"));
  assert_null(strstr(rw.apps_failed, SPLIT_PKG));
  assert_int_equal(shell_on(rdev, "pm path " SPLIT_PKG, out, sizeof(out)), 0);
  assert_non_null(strstr(out, "/base.apk\npackage:"));
  assert_non_null(strstr(out, "/split_config.arm64_v8a.apk\npackage:"));
  assert_non_null(strstr(out, "/split_config.en.apk\n"));
  digest_of(rooted_dir, after);
  assert_string_equal(after, before);

  /* Right after the restore (no reboot, so installd has not touched it):
   * cache/ and code_cache/ and what is in them are in the app's cache
   * group; the rest is the app's own. */
  long uid = uid_of("org.telegram.messenger");
  assert_true(uid >= 10000);
  snprintf(want, sizeof(want), "u0_a%ld_cache", uid - 10000);
  group_of("/data/data/org.telegram.messenger", "cache", group, sizeof(group));
  assert_string_equal(group, want);
  group_of("/data/data/org.telegram.messenger", "code_cache", group, sizeof(group));
  assert_string_equal(group, want);
  group_of("/data/data/org.telegram.messenger/cache", "thumbs.bin", group, sizeof(group));
  assert_string_equal(group, want);
  snprintf(want, sizeof(want), "u0_a%ld", uid - 10000);
  group_of("/data/data/org.telegram.messenger/files", "cache4.db", group, sizeof(group));
  assert_string_equal(group, want);
}

static void
on_backup_never(void *ud, int status, const struct df_backup_result *r)
{
  (void)ud;
  (void)status;
  (void)r;
  fail_msg("done called after cancel");
}

static void
test_cancel_leaves_nothing(void **state)
{
  char path[160], partial[200];
  static const char *const folders[] = {"/sdcard"};
  struct df_backup_spec spec = {folders, 1, true, true, "s", "m"};
  struct df_backup *b = NULL;
  (void)state;

  snprintf(path, sizeof(path), "%s/canceled.tar", tmpdir);
  snprintf(partial, sizeof(partial), "%s.partial", path);
  assert_int_equal(df_backup_create(&loop, dev->adb, path, &spec, NULL, on_backup_never, NULL, &b), 0);
  /* A few loop turns: the walk is under way, nothing is complete. */
  for (int i = 0; i < 5; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
  assert_true(exists(partial));
  assert_false(exists(path));
  df_backup_cancel(b);
  for (int i = 0; i < 20; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
  assert_false(exists(partial));
  assert_false(exists(path));
}

static void
test_master_sync(void **state)
{
  (void)state;
  /* Android 10+ (SyncManager.dumpSyncState) and older spellings. */
  assert_int_equal(df_backup_master_sync("Sync Status\nAuto sync: u0=true \nMemory low: false\n"), 1);
  assert_int_equal(df_backup_master_sync("data connected: true\nauto sync: u0=false\n"), 0);
  assert_int_equal(df_backup_master_sync("Auto sync: u10=true u0=false \n"), 0);
  assert_int_equal(df_backup_master_sync("Master sync automatically: true\n"), DF_ENOENT);
  assert_int_equal(df_backup_master_sync("Auto sync: \nu0=true\n"), DF_ENOENT);
  assert_int_equal(df_backup_master_sync(""), DF_ENOENT);
}

static void
test_accounts_parse(void **state)
{
  const char *text = "User UserInfo{0:Owner:c13}:\n  Accounts: 2\n"
                     "    Account {name=a.b@gmail.com, type=com.google}\n"
                     "    Account {name=broken, no type}\n"
                     "    Account {name=6120045871, type=com.xiaomi}\n";
  const char *q = text;
  char type[64], name[64];
  (void)state;
  assert_true(df_backup_next_account(&q, type, sizeof(type), name, sizeof(name)));
  assert_string_equal(type, "com.google");
  assert_string_equal(name, "a.b@gmail.com");
  assert_true(df_backup_next_account(&q, type, sizeof(type), name, sizeof(name)));
  assert_string_equal(type, "com.xiaomi");
  assert_string_equal(name, "6120045871");
  assert_false(df_backup_next_account(&q, type, sizeof(type), name, sizeof(name)));
}

static void
test_shell_quote(void **state)
{
  char out[64];
  (void)state;
  assert_int_equal(df_backup_shell_quote("it's", out, sizeof(out)), 9);
  assert_string_equal(out, "'it'\\''s'");
  assert_int_equal(df_backup_shell_quote("", out, sizeof(out)), 2);
  assert_string_equal(out, "''");
  assert_int_equal(df_backup_shell_quote("abcdef", out, 4), 8); /* needs 8, cut */
  assert_string_equal(out, "'ab");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_shell_quote),
    cmocka_unit_test(test_master_sync),
    cmocka_unit_test(test_accounts_parse),
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_cancel_leaves_nothing),
    cmocka_unit_test(test_rooted_split_app_and_cache_group),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
