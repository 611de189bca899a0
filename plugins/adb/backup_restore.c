/* Restoring a backup: the whole archive is checked against its manifest on
 * the thread pool before the phone is touched; then its files stream
 * straight out of the archive to the phone (each hashed again on the way,
 * and a file whose bytes no longer match is abandoned before the phone
 * takes it as complete), empty folders are made, settings that differ are
 * put back; the archive's apps/ and accounts/ entries are pushed to a
 * staging folder in /data/local/tmp, apps missing now are reinstalled with
 * `pm install` (an app of split APKs through an install session, as
 * `adb install-multiple` does: pm install-create, one install-write per
 * APK, install-commit), and with root (su) their data is unpacked under
 * /data and given to the app's new uid (cache/ and code_cache/ to the
 * app's cache group, as installd makes them), and the account databases
 * are put back (they take effect at the next boot); apps still gone are
 * listed; the staging folder is removed. */
#include "plugins/adb/backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/archive.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "plugins/adb/adb_shell.h"
#include "plugins/adb/adb_sync.h"
#include "plugins/adb/backup_buf.h"

#define DF_RESTORE_META_MAX (8u * 1024 * 1024)
#define DF_RESTORE_MKDIR_BATCH 8000
#define DF_RESTORE_STAGE "/data/local/tmp/.droidfix-restore"

static const char *const df_restore_ns[3] = {"system", "secure", "global"};

/* Settings left alone even when they differ: changing them could cut the
 * very connection the restore runs on, or they are counters. */
static const char *const df_restore_keep[] = {
  "global/adb_enabled", "global/development_settings_enabled", "global/boot_count",
  "global/adb_wifi_enabled", NULL};

enum df_restore_phase {
  DF_RS_CHECK,
  DF_RS_FILES,
  DF_RS_MKDIR,
  DF_RS_SETTINGS_LIST,
  DF_RS_SETTINGS_PUT,
  DF_RS_ROOT,       /* su -c id */
  DF_RS_APPS_NOW,   /* pm list packages -3: which apps are there now */
  DF_RS_INSTALL,    /* pm install STAGED.apk, per app missing now */
  DF_RS_CREATE,     /* split APKs: pm install-create -r -S TOTAL */
  DF_RS_WRITE,      /* pm install-write -S SIZE ID NAME STAGED, per APK */
  DF_RS_COMMIT,     /* pm install-commit ID */
  DF_RS_ABANDON,    /* pm install-abandon ID, after a failed write */
  DF_RS_UID,        /* pm list packages -U PKG: its uid after the install */
  DF_RS_DATA,       /* su: tar -x, chown -R, restorecon of data/PKG */
  DF_RS_DATA_DE,    /* su: chown -R, restorecon of user_de/0/PKG (may be absent) */
  DF_RS_ACCOUNTS,   /* su: tar -x of the account databases, restorecon */
  DF_RS_PACKAGES,
  DF_RS_CLEAN,      /* rm -r the staging folder */
  DF_RS_DONE,
};

/* An app in the archive's apps/ folder. */
struct df_restore_app {
  char *pkg;
  char **apks;   /* staged paths on the phone */
  char **names;  /* their names in the backup (base.apk, split_X.apk) */
  uint64_t *sizes;
  size_t napks;
  uint64_t apks_bytes;
  long session;       /* install session of a split app */
  size_t write_index; /* the APK being written into it */
  bool data;     /* apps/PKG/data.tar was staged */
  bool installed_now; /* there before this restore: left as it is */
  bool installed;     /* installed by this restore */
  long uid;
};

struct df_restore_put {
  int ns;
  char *key;
  char *value;
};

struct df_restore {
  struct df_loop *loop;
  struct df_adb_conn *conn;
  char *path;
  char **folders;
  size_t nfolders;
  bool want_settings;
  struct df_progress *progress;
  df_restore_done_cb done;
  void *userdata;

  uv_work_t work;
  int check_status;
  struct df_backup_check check;
  struct df_archive *a;
  struct df_adb_sync *sync;
  bool canceled;
  int pending;
  enum df_restore_phase phase;

  size_t index; /* the current entry in check.list */
  struct df_hash *hash;
  uint64_t entry_bytes;
  char remote[4200];

  struct df_backup_buf mkdirs; /* quoted folder names, space-separated */
  size_t ndirs_pending;
  struct df_backup_buf meta_packages, meta_settings[3];
  int ns;
  struct df_restore_put *puts;
  size_t nputs, capputs, put_index;
  struct df_backup_buf settings_failed, missing_apps;
  bool no_apps;
  bool staging;        /* the entry being pushed goes to the staging folder */
  bool staged_any;
  bool accounts_staged;
  bool rooted;
  struct df_restore_app *apps;
  size_t napps, app_index;
  struct df_backup_buf apps_installed, apps_data_restored, apps_failed;
  struct df_restore_result result;
};

static void df_restore_next_entry(struct df_restore *r);
static void df_restore_after_files(struct df_restore *r);

static void
df_restore_free(struct df_restore *r)
{
  for (size_t i = 0; i < r->nfolders; i++) free(r->folders[i]);
  free(r->folders);
  free(r->path);
  df_backup_check_free(&r->check);
  df_archive_close(r->a);
  df_hash_free(r->hash);
  df_backup_buf_free(&r->mkdirs);
  df_backup_buf_free(&r->meta_packages);
  for (int i = 0; i < 3; i++) df_backup_buf_free(&r->meta_settings[i]);
  for (size_t i = 0; i < r->nputs; i++) {
    free(r->puts[i].key);
    free(r->puts[i].value);
  }
  free(r->puts);
  df_backup_buf_free(&r->settings_failed);
  df_backup_buf_free(&r->missing_apps);
  for (size_t i = 0; i < r->napps; i++) {
    free(r->apps[i].pkg);
    for (size_t k = 0; k < r->apps[i].napks; k++) {
      free(r->apps[i].apks[k]);
      free(r->apps[i].names[k]);
    }
    free(r->apps[i].apks);
    free(r->apps[i].names);
    free(r->apps[i].sizes);
  }
  free(r->apps);
  df_backup_buf_free(&r->apps_installed);
  df_backup_buf_free(&r->apps_data_restored);
  df_backup_buf_free(&r->apps_failed);
  free(r);
}

static void
df_restore_close_sync_later(void *data)
{
  df_adb_sync_close(data);
}

/* As in backup.c: never free the sync session from inside its callback. */
static void
df_restore_drop_sync(struct df_restore *r)
{
  if (r->sync == NULL) return;
  if (df_loop_schedule(r->loop, df_restore_close_sync_later, r->sync) != DF_OK)
    df_log_debug("restore: sync session left open (the loop is closing)");
  r->sync = NULL;
}

static void
df_restore_end(struct df_restore *r, int status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void
df_restore_end(struct df_restore *r, int status, const char *fmt, ...)
{
  df_restore_drop_sync(r);
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->result.message, sizeof(r->result.message), fmt, ap);
    va_end(ap);
  }
  r->result.settings_failed = r->settings_failed.data != NULL ? r->settings_failed.data : "";
  r->result.missing_apps = r->missing_apps.data != NULL ? r->missing_apps.data : "";
  r->result.apps_installed = r->apps_installed.data != NULL ? r->apps_installed.data : "";
  r->result.apps_data_restored = r->apps_data_restored.data != NULL ? r->apps_data_restored.data : "";
  r->result.apps_failed = r->apps_failed.data != NULL ? r->apps_failed.data : "";
  if (r->progress != NULL) df_progress_finish(r->progress, status);
  r->done(r->userdata, status, &r->result);
  r->canceled = true;
  if (r->pending == 0) df_restore_free(r);
}

void
df_restore_cancel(struct df_restore *r)
{
  df_restore_drop_sync(r);
  r->canceled = true;
  if (r->pending == 0) df_restore_free(r);
}

static bool
df_restore_returned(struct df_restore *r)
{
  r->pending--;
  if (!r->canceled) return false;
  if (r->pending == 0) df_restore_free(r);
  return true;
}

/* Whether a phone path is under one of the chosen folders. */
static bool
df_restore_wanted(const struct df_restore *r, const char *remote)
{
  if (r->nfolders == 0) return true;
  for (size_t i = 0; i < r->nfolders; i++) {
    size_t n = strlen(r->folders[i]);
    if (strncmp(remote, r->folders[i], n) == 0 && (remote[n] == '\0' || remote[n] == '/' ||
                                                   (n == 1 && r->folders[i][0] == '/')))
      return true;
  }
  return false;
}

/* ---- 1. the check, before anything else ---- */

static void
df_restore_check_run(uv_work_t *req)
{
  struct df_restore *r = req->data;
  r->check_status = df_backup_verify_sync(r->path, true, &r->check);
}

static void df_restore_on_sync_ready(void *ud, int status);

static void
df_restore_check_after(uv_work_t *req, int status)
{
  struct df_restore *r = req->data;
  char msg[1600];
  int rc;

  if (df_restore_returned(r)) return;
  if (status != 0 && r->check_status == DF_OK) r->check_status = DF_ECANCELED;
  if (r->check_status != DF_OK) {
    df_backup_check_message(r->path, r->check_status, &r->check, msg, sizeof(msg));
    df_restore_end(r, r->check_status, "%s", msg);
    return;
  }
  df_log_info("restore: %s checked: %" PRIu64 " files, manifest sha256 %s", r->path,
              r->check.files, r->check.manifest_sha256);
  rc = df_archive_open(r->path, &r->a);
  if (rc == DF_OK) rc = df_adb_sync_open(r->conn, df_restore_on_sync_ready, r, &r->sync);
  if (rc != DF_OK) {
    r->sync = NULL;
    df_restore_end(r, rc, "cannot start the restore: %s", df_strerror(rc));
    return;
  }
  if (r->progress != NULL) df_progress_start(r->progress, "restore", r->check.bytes);
  r->phase = DF_RS_FILES;
}

/* ---- 2. the files, straight from the archive ---- */

static ssize_t
df_restore_source_read(void *ud, void *buf, size_t len)
{
  struct df_restore *r = ud;
  ssize_t n = df_archive_read(r->a, buf, len);
  char hex[DF_HASH_HEX_MAX];

  if (n < 0) return n;
  if (n > 0) {
    df_hash_update(r->hash, buf, (size_t)n);
    r->entry_bytes += (uint64_t)n;
    if (r->progress != NULL) df_progress_add(r->progress, (uint64_t)n);
    return n;
  }
  /* The end: only now may the phone be told the file is whole. */
  if (df_hash_final_hex(r->hash, hex, sizeof(hex)) != DF_OK) return DF_EIO;
  if (strcmp(hex, r->check.list[r->index].sha256) != 0) return DF_EMISMATCH;
  return 0;
}

static const struct df_adb_sync_source df_restore_source = {.read = df_restore_source_read};

static void
df_restore_on_pushed(void *ud, int status, const char *message)
{
  struct df_restore *r = ud;

  df_hash_free(r->hash);
  r->hash = NULL;
  if (status != DF_OK) {
    if (status == DF_EMISMATCH)
      df_restore_end(r, DF_ECORRUPT, "%s changed since it was checked (its sha256 no longer "
                                     "matches); %s was not written. Restore stopped",
                     r->check.list[r->index].name, r->remote);
    else
      df_restore_end(r, status, "writing %s to the phone failed: %s", r->remote,
                     message[0] != '\0' ? message : df_strerror(status));
    return;
  }
  if (!r->staging) {
    r->result.files++;
    r->result.bytes += r->entry_bytes;
  }
  r->index++;
  df_restore_next_entry(r);
}

/* Reads a small meta text whole (capped). */
static int
df_restore_read_meta(struct df_restore *r, struct df_backup_buf *b)
{
  char buf[16384];
  ssize_t n;

  while ((n = df_archive_read(r->a, buf, sizeof(buf))) > 0) {
    if (b->len + (size_t)n > DF_RESTORE_META_MAX) return DF_ETOOBIG;
    df_backup_buf_append(b, buf, (size_t)n);
  }
  if (n < 0) return (int)n;
  return b->err;
}

/* Letters, digits, '_', '.', '-': safe unquoted inside su -c '...', and
 * never "." or "..". */
static bool
df_restore_plain(const char *s, size_t n)
{
  if (n == 0 || n > 255 || (n <= 2 && strncmp(s, "..", n) == 0)) return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
      return false;
  return true;
}

static struct df_restore_app *
df_restore_app(struct df_restore *r, const char *pkg, size_t n)
{
  for (size_t i = 0; i < r->napps; i++)
    if (strlen(r->apps[i].pkg) == n && strncmp(r->apps[i].pkg, pkg, n) == 0) return &r->apps[i];
  struct df_restore_app *na = realloc(r->apps, (r->napps + 1) * sizeof(*na));
  if (na == NULL) return NULL;
  r->apps = na;
  memset(&na[r->napps], 0, sizeof(*na));
  na[r->napps].pkg = strndup(pkg, n);
  if (na[r->napps].pkg == NULL) return NULL;
  return &na[r->napps++];
}

/* An apps/PKG/FILE or accounts/accounts.tar entry: where it is staged on
 * the phone (r->remote), remembered for the later phases. 0, 1 when the
 * entry is not one to stage (left alone), or DF_ENOMEM. */
static int
df_restore_stage(struct df_restore *r, const char *name, uint64_t size)
{
  if (strcmp(name, "accounts/accounts.tar") == 0) {
    snprintf(r->remote, sizeof(r->remote), DF_RESTORE_STAGE "/accounts.tar");
    r->accounts_staged = true;
    return 0;
  }
  if (strncmp(name, "apps/", 5) != 0) return 1;
  const char *pkg = name + 5, *slash = strchr(pkg, '/');
  if (slash == NULL || strchr(slash + 1, '/') != NULL) return 1;
  size_t pl = (size_t)(slash - pkg), fl = strlen(slash + 1);
  if (!df_restore_plain(pkg, pl) || !df_restore_plain(slash + 1, fl)) {
    df_backup_buf_printf(&r->apps_failed, "%s: a name droidfix will not pass to the phone's shell\n", name);
    return 1;
  }
  struct df_restore_app *app = df_restore_app(r, pkg, pl);
  if (app == NULL) return DF_ENOMEM;
  snprintf(r->remote, sizeof(r->remote), DF_RESTORE_STAGE "/%.*s-%s", (int)pl, pkg, slash + 1);
  if (strcmp(slash + 1, "data.tar") == 0) {
    app->data = true;
    return 0;
  }
  if (fl < 5 || strcmp(slash + 1 + fl - 4, ".apk") != 0) return 1;
  char **nv = realloc(app->apks, (app->napks + 1) * sizeof(*nv));
  if (nv == NULL) return DF_ENOMEM;
  app->apks = nv;
  char **nn = realloc(app->names, (app->napks + 1) * sizeof(*nn));
  if (nn == NULL) return DF_ENOMEM;
  app->names = nn;
  uint64_t *ns = realloc(app->sizes, (app->napks + 1) * sizeof(*ns));
  if (ns == NULL) return DF_ENOMEM;
  app->sizes = ns;
  nv[app->napks] = strdup(r->remote);
  nn[app->napks] = strdup(slash + 1);
  if (nv[app->napks] == NULL || nn[app->napks] == NULL) {
    free(nv[app->napks]);
    free(nn[app->napks]);
    return DF_ENOMEM;
  }
  ns[app->napks] = size;
  app->apks_bytes += size;
  app->napks++;
  return 0;
}

static void
df_restore_next_entry(struct df_restore *r)
{
  struct df_archive_entry e;
  char qname[8600];
  int rc;

  for (;;) {
    rc = df_archive_next(r->a, &e);
    if (rc < 0) {
      df_restore_end(r, DF_ECORRUPT, "%s could not be read again after it was checked: %s",
                     r->path, df_archive_error_message(r->a));
      return;
    }
    if (rc == 0) break;
    if (strcmp(e.path, DF_BACKUP_MANIFEST) == 0) continue; /* the last entry */
    if (r->index >= r->check.nlist) {
      df_restore_end(r, DF_ECORRUPT, "%s changed since it was checked", r->path);
      return;
    }
    const struct df_backup_entry *be = &r->check.list[r->index];
    const char *name = be->name;
    if (strncmp(e.path, name, strlen(name)) != 0) {
      df_restore_end(r, DF_ECORRUPT, "%s changed since it was checked (at %s)", r->path, e.path);
      return;
    }
    bool in_files = strncmp(name, "files/", 6) == 0;
    r->staging = false;
    if (!be->is_dir && !in_files && !r->no_apps &&
        (strncmp(name, "apps/", 5) == 0 || strncmp(name, "accounts/", 9) == 0)) {
      rc = df_restore_stage(r, name, be->size);
      if (rc < 0) {
        df_restore_end(r, rc, "out of memory");
        return;
      }
      r->staging = rc == 0;
    }
    if (!r->staging && (be->is_dir || !in_files)) {
      if (be->is_dir && in_files && df_restore_wanted(r, name + 5)) {
        df_backup_shell_quote(name + 5, qname, sizeof(qname));
        df_backup_buf_printf(&r->mkdirs, "%s%s", r->mkdirs.len ? " " : "", qname);
        r->result.dirs++;
      } else if (strcmp(name, "meta/packages.txt") == 0) {
        if ((rc = df_restore_read_meta(r, &r->meta_packages)) != DF_OK) goto meta_failed;
      } else {
        for (int i = 0; i < 3; i++) {
          char want[64];
          snprintf(want, sizeof(want), "meta/settings-%s.txt", df_restore_ns[i]);
          if (strcmp(name, want) == 0 && (rc = df_restore_read_meta(r, &r->meta_settings[i])) != DF_OK)
            goto meta_failed;
        }
      }
      r->index++;
      continue;
    }
    if (!r->staging && !df_restore_wanted(r, name + 5)) {
      r->index++;
      continue;
    }
    if (!r->staging)
      snprintf(r->remote, sizeof(r->remote), "%s", name + 5);
    else
      r->staged_any = true;
    rc = df_hash_new(DF_HASH_SHA256, &r->hash);
    if (rc == DF_OK) {
      r->entry_bytes = 0;
      rc = df_adb_sync_push_from(r->sync, &df_restore_source, r->remote,
                                 r->staging ? 0644 : (be->mode & 07777) ? be->mode : 0660,
                                 (int64_t)time(NULL),
                                 be->size, NULL, df_restore_on_pushed, r);
    }
    if (rc != DF_OK) {
      df_hash_free(r->hash);
      r->hash = NULL;
      df_restore_end(r, rc == DF_EMISMATCH ? DF_ECORRUPT : rc, "cannot write %s to the phone: %s",
                     r->remote, df_strerror(rc));
    }
    return;
  }
  df_archive_close(r->a);
  r->a = NULL;
  df_restore_drop_sync(r);
  df_restore_after_files(r);
  return;
meta_failed:
  df_restore_end(r, rc, "cannot read %s from the backup: %s", e.path, df_strerror(rc));
}

static void
df_restore_on_sync_ready(void *ud, int status)
{
  struct df_restore *r = ud;

  if (status != DF_OK) {
    df_restore_end(r, status, "the phone refused its file service (sync): %s", df_strerror(status));
    return;
  }
  df_restore_next_entry(r);
}

/* ---- 3. folders, settings, apps: shell commands one after another ---- */

static void df_restore_shell_next(struct df_restore *r);

/* Whether `pm list packages` output has the line "package:PKG". */
static bool
df_restore_listed(const char *out, const char *pkg)
{
  size_t pl = strlen(pkg);
  for (const char *q = out; (q = strstr(q, "package:")) != NULL; q += 8) {
    if ((q == out || q[-1] == '\n') && strncmp(q + 8, pkg, pl) == 0 &&
        (q[8 + pl] == '\0' || q[8 + pl] == '\n' || q[8 + pl] == '\r' || q[8 + pl] == ' '))
      return true;
  }
  return false;
}

/* "WHO: WHAT (exit N): first line of the phone's answer" into apps_failed. */
static void
df_restore_why(struct df_restore *r, const char *who, const char *what, int exit_code,
               const char *out, size_t out_len, const char *err, size_t err_len)
{
  const char *why = err_len > 0 ? err : out;
  size_t wl = err_len > 0 ? err_len : out_len;
  const char *nl = memchr(why, '\n', wl);
  if (nl != NULL) wl = (size_t)(nl - why);
  df_backup_buf_printf(&r->apps_failed, "%s: %s (exit %d)%s%.*s\n", who, what, exit_code,
                       wl > 0 ? ": " : "", (int)(wl > 300 ? 300 : wl), why);
}

/* The app at app_index is installed again: next its uid (to hand its data
 * over, with root), or the next app. */
static void
df_restore_installed(struct df_restore *r)
{
  struct df_restore_app *app = &r->apps[r->app_index];
  app->installed = true;
  df_backup_buf_printf(&r->apps_installed, "%s\n", app->pkg);
  r->phase = DF_RS_INSTALL;
  if (app->data && r->rooted) {
    r->phase = DF_RS_UID;
    return;
  }
  if (app->data)
    df_backup_buf_printf(&r->apps_failed, "%s: reinstalled, but its data needs root (su), "
                                          "which the phone does not give now\n", app->pkg);
  r->app_index++;
}

/* The app at app_index could not be installed: why, then the next app. */
static void
df_restore_fail_app(struct df_restore *r, const char *what, int exit_code, const char *out,
                    size_t out_len, const char *err, size_t err_len)
{
  df_restore_why(r, r->apps[r->app_index].pkg, what, exit_code, out, out_len, err, err_len);
  r->phase = DF_RS_INSTALL;
  r->app_index++;
}

/* The group installd gives an app's cache/ and code_cache/ (libcutils
 * multiuser_get_cache_gid: AID_CACHE_GID_START 20000 plus the app id's
 * offset from AID_APP_START 10000, in the uid's user); uids outside the
 * app range keep their own uid. */
static long
df_restore_cache_gid(long uid)
{
  long app_id = uid % 100000;
  if (app_id >= 10000 && app_id <= 19999) return uid - app_id + (app_id - 10000) + 20000;
  return uid;
}

static int
df_restore_shell(struct df_restore *r, const char *cmd, df_adb_capture_cb cb)
{
  int rc = df_adb_shell_capture(r->conn, cmd, DF_RESTORE_META_MAX, cb, r);
  if (rc == DF_OK) r->pending++;
  return rc;
}

/* The value of key in a `settings list` text, or NULL. */
static const char *
df_restore_lookup(const char *text, const char *key, size_t keylen, size_t *vlen)
{
  const char *p = text;

  while (p != NULL && *p != '\0') {
    const char *nl = strchr(p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    if (len > keylen && strncmp(p, key, keylen) == 0 && p[keylen] == '=') {
      *vlen = len - keylen - 1;
      if (*vlen > 0 && p[keylen + 1 + *vlen - 1] == '\r') (*vlen)--;
      return p + keylen + 1;
    }
    p = nl != NULL ? nl + 1 : NULL;
  }
  return NULL;
}

static bool
df_restore_kept(int ns, const char *key)
{
  char full[512];
  snprintf(full, sizeof(full), "%s/%s", df_restore_ns[ns], key);
  for (size_t i = 0; df_restore_keep[i] != NULL; i++)
    if (strcmp(full, df_restore_keep[i]) == 0) return true;
  return false;
}

/* Queues a put for each backed-up setting whose value differs now. */
static void
df_restore_plan_settings(struct df_restore *r, int ns, const char *now)
{
  const char *p = r->meta_settings[ns].data;

  while (p != NULL && *p != '\0') {
    const char *nl = strchr(p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (eq != NULL && eq > p) {
      size_t klen = (size_t)(eq - p), vlen = len - klen - 1, nvlen = 0;
      if (vlen > 0 && eq[vlen] == '\r') vlen--;
      const char *cur = df_restore_lookup(now, p, klen, &nvlen);
      if (cur == NULL || nvlen != vlen || memcmp(cur, eq + 1, vlen) != 0) {
        char *key = strndup(p, klen);
        if (key != NULL && df_restore_kept(ns, key)) {
          df_backup_buf_printf(&r->settings_failed,
                               "%s/%s: left as is (changing it could cut the connection)\n",
                               df_restore_ns[ns], key);
          free(key);
        } else if (key != NULL) {
          if (r->nputs == r->capputs) {
            size_t ncap = r->capputs ? r->capputs * 2 : 32;
            struct df_restore_put *np = realloc(r->puts, ncap * sizeof(*np));
            if (np == NULL) {
              free(key);
              return;
            }
            r->puts = np;
            r->capputs = ncap;
          }
          r->puts[r->nputs++] = (struct df_restore_put){ns, key, strndup(eq + 1, vlen)};
        }
      }
    }
    p = nl != NULL ? nl + 1 : NULL;
  }
}

static void
df_restore_on_shell(void *ud, int status, int exit_code, const char *out, size_t out_len,
                    const char *err, size_t err_len)
{
  struct df_restore *r = ud;

  if (df_restore_returned(r)) return;
  if (status != DF_OK) {
    df_restore_end(r, status, "a command on the phone failed: %s", df_strerror(status));
    return;
  }
  switch (r->phase) {
  case DF_RS_MKDIR:
    if (exit_code > 0)
      df_log_warn("restore: making folders failed (exit %d): %.*s", exit_code, (int)err_len, err);
    r->phase = r->want_settings ? DF_RS_SETTINGS_LIST : DF_RS_ROOT;
    r->ns = 0;
    break;
  case DF_RS_SETTINGS_LIST:
    if (exit_code > 0)
      df_backup_buf_printf(&r->settings_failed, "%s: cannot be read now: %.*s\n",
                           df_restore_ns[r->ns], (int)err_len, err);
    else
      df_restore_plan_settings(r, r->ns, out);
    r->ns++;
    break;
  case DF_RS_SETTINGS_PUT: {
    const struct df_restore_put *pt = &r->puts[r->put_index];
    /* `settings put` fails with an exception text and, over shell v2, a
     * non-zero exit; over v1 only the text tells. */
    bool failed = exit_code > 0 || strstr(out, "Exception") != NULL ||
                  strstr(err, "Exception") != NULL || (err_len > 0 && exit_code != 0);
    if (failed) {
      const char *why = err_len > 0 ? err : out;
      size_t wl = err_len > 0 ? err_len : out_len;
      const char *nl = memchr(why, '\n', wl);
      if (nl != NULL) wl = (size_t)(nl - why);
      df_backup_buf_printf(&r->settings_failed, "%s/%s: %.*s\n", df_restore_ns[pt->ns], pt->key,
                           (int)(wl > 300 ? 300 : wl), wl > 0 ? why : "refused");
    } else {
      r->result.settings_restored++;
    }
    r->put_index++;
    break;
  }
  case DF_RS_PACKAGES: {
    /* Apps in the backup's list that `pm list packages -3` no longer has. */
    const char *p = r->meta_packages.data;
    while (p != NULL && *p != '\0') {
      const char *nl = strchr(p, '\n');
      size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
      if (len > 8 && strncmp(p, "package:", 8) == 0) {
        size_t n = 8;
        while (n < len && p[n] != ' ' && p[n] != '\r') n++;
        char needle[600];
        snprintf(needle, sizeof(needle), "package:%.*s", (int)(n - 8 > 500 ? 500 : n - 8), p + 8);
        size_t el = strlen(needle);
        bool present = false;
        for (const char *q = out; (q = strstr(q, needle)) != NULL; q += el) {
          /* The whole name: a longer name with the same start is another app. */
          char after = q[el];
          bool at_line_start = q == out || q[-1] == '\n';
          if (at_line_start && (after == '\0' || after == '\n' || after == '\r' || after == ' ')) {
            present = true;
            break;
          }
        }
        if (!present) df_backup_buf_printf(&r->missing_apps, "%.*s\n", (int)(len - 8), p + 8);
      }
      p = nl != NULL ? nl + 1 : NULL;
    }
    r->phase = DF_RS_CLEAN;
    break;
  }
  case DF_RS_ROOT:
    r->rooted = exit_code == 0 && strstr(out, "uid=0(") != NULL;
    r->phase = DF_RS_APPS_NOW;
    break;
  case DF_RS_APPS_NOW:
    for (size_t i = 0; i < r->napps; i++)
      r->apps[i].installed_now = df_restore_listed(out, r->apps[i].pkg);
    r->phase = DF_RS_INSTALL;
    r->app_index = 0;
    break;
  case DF_RS_INSTALL:
    if (exit_code == 0 && strstr(out, "Success") != NULL)
      df_restore_installed(r);
    else
      df_restore_fail_app(r, "pm install failed", exit_code, out, out_len, err, err_len);
    break;
  case DF_RS_CREATE: {
    /* "Success: created install session [ID]" (adb parses it the same way). */
    struct df_restore_app *app = &r->apps[r->app_index];
    const char *lb = strrchr(out, '['), *rb = strrchr(out, ']');
    app->session = -1;
    if (exit_code == 0 && strncmp(out, "Success", 7) == 0 && lb != NULL && rb > lb)
      app->session = strtol(lb + 1, NULL, 10);
    if (app->session < 0) {
      df_restore_fail_app(r, "pm install-create failed", exit_code, out, out_len, err, err_len);
      break;
    }
    app->write_index = 0;
    r->phase = DF_RS_WRITE;
    break;
  }
  case DF_RS_WRITE: {
    /* "Success: streamed N bytes" */
    struct df_restore_app *app = &r->apps[r->app_index];
    if (exit_code == 0 && strncmp(out, "Success", 7) == 0) {
      if (++app->write_index == app->napks) r->phase = DF_RS_COMMIT;
      break;
    }
    char what[400];
    snprintf(what, sizeof(what), "pm install-write of %s failed", app->names[app->write_index]);
    df_restore_why(r, app->pkg, what, exit_code, out, out_len, err, err_len);
    r->phase = DF_RS_ABANDON;
    break;
  }
  case DF_RS_COMMIT:
    /* "Success", or "Failure [INSTALL_...: why]" on stdout with exit 1. */
    if (exit_code == 0 && strncmp(out, "Success", 7) == 0)
      df_restore_installed(r);
    else
      df_restore_fail_app(r, "pm install-commit of its split APKs failed", exit_code, out, out_len,
                          err, err_len);
    break;
  case DF_RS_ABANDON:
    if (exit_code != 0)
      df_log_debug("restore: %s: install session %ld not abandoned (exit %d)",
                   r->apps[r->app_index].pkg, r->apps[r->app_index].session, exit_code);
    r->phase = DF_RS_INSTALL;
    r->app_index++;
    break;
  case DF_RS_UID: {
    struct df_restore_app *app = &r->apps[r->app_index];
    char needle[400];
    snprintf(needle, sizeof(needle), "package:%s uid:", app->pkg);
    const char *u = strstr(out, needle);
    app->uid = u != NULL ? strtol(u + strlen(needle), NULL, 10) : 0;
    if (app->uid >= 10000) {
      r->phase = DF_RS_DATA;
    } else {
      df_restore_why(r, app->pkg, "its uid after the install is unknown; data not restored",
                     exit_code, out, out_len, err, err_len);
      r->phase = DF_RS_INSTALL;
      r->app_index++;
    }
    break;
  }
  case DF_RS_DATA:
    if (exit_code == 0)
      df_backup_buf_printf(&r->apps_data_restored, "%s\n", r->apps[r->app_index].pkg);
    else
      df_restore_why(r, r->apps[r->app_index].pkg, "its data could not be put back", exit_code,
                     out, out_len, err, err_len);
    r->phase = DF_RS_DATA_DE;
    break;
  case DF_RS_DATA_DE:
    /* user_de/0/PKG exists on phones with file-based encryption; where it
     * does not, chown says so and nothing is lost. */
    if (exit_code != 0)
      df_log_debug("restore: %s: no device-encrypted data folder to hand over (exit %d)",
                   r->apps[r->app_index].pkg, exit_code);
    r->phase = DF_RS_INSTALL;
    r->app_index++;
    break;
  case DF_RS_ACCOUNTS:
    if (exit_code == 0) {
      r->result.accounts_restored = true;
      r->result.reboot_needed = true;
    } else {
      df_restore_why(r, "accounts", "the account databases could not be put back", exit_code,
                     out, out_len, err, err_len);
    }
    r->phase = DF_RS_PACKAGES;
    break;
  case DF_RS_CLEAN:
    if (exit_code != 0)
      df_log_warn("restore: could not remove %s on the phone (exit %d): %.*s", DF_RESTORE_STAGE,
                  exit_code, (int)err_len, err);
    r->phase = DF_RS_DONE;
    break;
  default:
    break;
  }
  df_restore_shell_next(r);
}

static void
df_restore_shell_next(struct df_restore *r)
{
  char *cmd = NULL;
  int rc = DF_OK;

  if (r->phase == DF_RS_SETTINGS_LIST) {
    while (r->ns < 3 && r->meta_settings[r->ns].len == 0) r->ns++;
    if (r->ns >= 3) {
      r->phase = DF_RS_SETTINGS_PUT;
      r->put_index = 0;
    }
  }
  if (r->phase == DF_RS_SETTINGS_PUT && r->put_index >= r->nputs) r->phase = DF_RS_ROOT;
  if (r->phase == DF_RS_ROOT && r->napps == 0 && !r->accounts_staged) r->phase = DF_RS_PACKAGES;
  while (r->phase == DF_RS_INSTALL && r->app_index < r->napps) {
    const struct df_restore_app *app = &r->apps[r->app_index];
    if (app->installed_now && app->data)
      df_backup_buf_printf(&r->apps_failed, "%s: installed already; left as it is, and its data "
                                            "in the backup was not put over the app's data now\n",
                           app->pkg);
    else if (app->installed_now)
      ; /* there, and the backup has nothing more of it */
    else if (app->napks == 0)
      df_backup_buf_printf(&r->apps_failed, "%s: the backup holds no APK of it\n", app->pkg);
    else
      break;
    r->app_index++;
  }
  /* Split APKs go in one install session; a single APK with pm install. */
  if (r->phase == DF_RS_INSTALL && r->app_index < r->napps && r->apps[r->app_index].napks > 1)
    r->phase = DF_RS_CREATE;
  if (r->phase == DF_RS_INSTALL && r->app_index >= r->napps) {
    r->phase = DF_RS_PACKAGES;
    if (r->accounts_staged && r->rooted)
      r->phase = DF_RS_ACCOUNTS;
    else if (r->accounts_staged)
      df_backup_buf_printf(&r->apps_failed, "accounts: the account databases need root (su), "
                                            "which the phone does not give now\n");
  }
  if (r->phase == DF_RS_PACKAGES && r->meta_packages.len == 0) r->phase = DF_RS_CLEAN;
  if (r->phase == DF_RS_CLEAN && !r->staged_any) r->phase = DF_RS_DONE;

  switch (r->phase) {
  case DF_RS_SETTINGS_LIST:
    if (asprintf(&cmd, "settings list %s", df_restore_ns[r->ns]) < 0) cmd = NULL;
    break;
  case DF_RS_SETTINGS_PUT: {
    const struct df_restore_put *pt = &r->puts[r->put_index];
    size_t kq = df_backup_shell_quote(pt->key, NULL, 0) + 1;
    size_t vq = df_backup_shell_quote(pt->value != NULL ? pt->value : "", NULL, 0) + 1;
    char *k = malloc(kq), *v = malloc(vq);
    if (k != NULL && v != NULL) {
      df_backup_shell_quote(pt->key, k, kq);
      df_backup_shell_quote(pt->value != NULL ? pt->value : "", v, vq);
      if (asprintf(&cmd, "settings put %s %s %s", df_restore_ns[pt->ns], k, v) < 0) cmd = NULL;
    }
    free(k);
    free(v);
    break;
  }
  case DF_RS_PACKAGES:
  case DF_RS_APPS_NOW:
    cmd = strdup("pm list packages -3");
    break;
  case DF_RS_ROOT:
    cmd = strdup("su -c id");
    break;
  case DF_RS_INSTALL:
    if (asprintf(&cmd, "pm install -r %s", r->apps[r->app_index].apks[0]) < 0) cmd = NULL;
    break;
  case DF_RS_CREATE:
    if (asprintf(&cmd, "pm install-create -r -S %" PRIu64, r->apps[r->app_index].apks_bytes) < 0)
      cmd = NULL;
    break;
  case DF_RS_WRITE: {
    /* Named as in the backup (base.apk, split_X.apk), as adb names each
     * file by its own name; the commit reads the split names inside. */
    const struct df_restore_app *app = &r->apps[r->app_index];
    size_t k = app->write_index;
    if (asprintf(&cmd, "pm install-write -S %" PRIu64 " %ld %s %s", app->sizes[k], app->session,
                 app->names[k], app->apks[k]) < 0)
      cmd = NULL;
    break;
  }
  case DF_RS_COMMIT:
    if (asprintf(&cmd, "pm install-commit %ld", r->apps[r->app_index].session) < 0) cmd = NULL;
    break;
  case DF_RS_ABANDON:
    if (asprintf(&cmd, "pm install-abandon %ld", r->apps[r->app_index].session) < 0) cmd = NULL;
    break;
  case DF_RS_UID:
    if (asprintf(&cmd, "pm list packages -U %s", r->apps[r->app_index].pkg) < 0) cmd = NULL;
    break;
  case DF_RS_DATA: {
    const struct df_restore_app *app = &r->apps[r->app_index];
    /* The tar holds data/PKG as the old uid owned it; the reinstalled app
     * has a new uid, so its files are handed over (cache/ and code_cache/
     * to its cache group, as installd's chown_app_dir does) and
     * relabelled. The fresh install made both cache folders. */
    long cg = df_restore_cache_gid(app->uid);
    if (asprintf(&cmd, "am force-stop %s; su -c 'tar -xf " DF_RESTORE_STAGE "/%s-data.tar -C /data "
                       "&& chown -R %ld:%ld /data/data/%s && chown -R %ld:%ld /data/data/%s/cache "
                       "/data/data/%s/code_cache && restorecon -R /data/data/%s'",
                 app->pkg, app->pkg, app->uid, app->uid, app->pkg, app->uid, cg, app->pkg,
                 app->pkg, app->pkg) < 0)
      cmd = NULL;
    break;
  }
  case DF_RS_DATA_DE: {
    const struct df_restore_app *app = &r->apps[r->app_index];
    if (asprintf(&cmd, "su -c 'chown -R %ld:%ld /data/user_de/0/%s && restorecon -R /data/user_de/0/%s'",
                 app->uid, app->uid, app->pkg, app->pkg) < 0)
      cmd = NULL;
    break;
  }
  case DF_RS_ACCOUNTS:
    /* tar run by root keeps the files' owner (system) from the archive. */
    cmd = strdup("su -c 'tar -xf " DF_RESTORE_STAGE "/accounts.tar -C /data && "
                 "restorecon -R /data/system_de/0 /data/system_ce/0'");
    break;
  case DF_RS_CLEAN:
    cmd = strdup("rm -rf " DF_RESTORE_STAGE);
    break;
  case DF_RS_DONE:
    df_log_info("restore: %" PRIu64 " files, %" PRIu64 " bytes, %" PRIu64 " settings put back",
                r->result.files, r->result.bytes, r->result.settings_restored);
    df_restore_end(r, DF_OK, NULL);
    return;
  default:
    return;
  }
  if (cmd == NULL) {
    df_restore_end(r, DF_ENOMEM, "out of memory");
    return;
  }
  rc = df_restore_shell(r, cmd, df_restore_on_shell);
  if (rc != DF_OK) df_restore_end(r, rc, "cannot run \"%s\" on the phone: %s", cmd, df_strerror(rc));
  free(cmd);
}

static void
df_restore_after_files(struct df_restore *r)
{
  if (r->mkdirs.err != 0 || r->meta_packages.err != 0) {
    df_restore_end(r, DF_ENOMEM, "out of memory");
    return;
  }
  if (r->mkdirs.len > 0) {
    /* One command for all folders (files made their parents already; this
     * brings back the empty ones). Long lists would pass the phone's
     * command-line limit: those are made by the file pushes alone. */
    if (r->mkdirs.len < 100000) {
      char *cmd = NULL;
      r->phase = DF_RS_MKDIR;
      if (asprintf(&cmd, "mkdir -p %s", r->mkdirs.data) < 0) {
        df_restore_end(r, DF_ENOMEM, "out of memory");
        return;
      }
      int rc = df_restore_shell(r, cmd, df_restore_on_shell);
      free(cmd);
      if (rc != DF_OK) df_restore_end(r, rc, "cannot make folders on the phone: %s", df_strerror(rc));
      return;
    }
    df_log_warn("restore: too many folders to recreate empty ones; files were restored");
  }
  r->phase = r->want_settings ? DF_RS_SETTINGS_LIST : DF_RS_ROOT;
  r->ns = 0;
  df_restore_shell_next(r);
}

/* ---- start ---- */

int
df_restore_start(struct df_loop *loop, struct df_adb_conn *conn, const char *archive_path,
                 const struct df_restore_options *opts, struct df_progress *progress,
                 df_restore_done_cb done, void *userdata, struct df_restore **out)
{
  struct df_restore *r;
  int rc;

  if (archive_path == NULL || done == NULL) return DF_EINVAL;
  r = calloc(1, sizeof(*r));
  if (r == NULL) return DF_ENOMEM;
  r->loop = loop;
  r->conn = conn;
  r->progress = progress;
  r->done = done;
  r->userdata = userdata;
  r->want_settings = opts != NULL ? opts->settings : true;
  r->no_apps = opts != NULL && opts->no_apps;
  r->path = strdup(archive_path);
  if (r->path == NULL) goto nomem;
  if (opts != NULL && opts->nfolders > 0) {
    r->folders = calloc(opts->nfolders, sizeof(*r->folders));
    if (r->folders == NULL) goto nomem;
    for (size_t i = 0; i < opts->nfolders; i++) {
      const char *f = opts->folders[i];
      size_t n = strlen(f);
      if (f[0] != '/') {
        df_restore_free(r);
        return DF_EINVAL;
      }
      while (n > 1 && f[n - 1] == '/') n--;
      r->folders[i] = strndup(f, n);
      if (r->folders[i] == NULL) goto nomem;
      r->nfolders++;
    }
  }
  r->phase = DF_RS_CHECK;
  r->work.data = r;
  rc = uv_queue_work(&loop->uv, &r->work, df_restore_check_run, df_restore_check_after);
  if (rc != 0) {
    df_restore_free(r);
    return df_error_from_uv(rc);
  }
  r->pending++;
  if (out != NULL) *out = r;
  return DF_OK;
nomem:
  df_restore_free(r);
  return DF_ENOMEM;
}
