/* Taking a backup: walk the folders with sync LIST, gather apps, settings
 * and sync state with shell commands (and, for spec.apps, each app's APK
 * paths, whether su gives root, and the accounts), then pull every file
 * straight into the archive writer (hashing as it streams; an app's data
 * and the account databases are first made into a tar in /data/local/tmp
 * by root, pulled, and removed), write meta/ and the manifest,
 * seal, read the whole archive back against the manifest on the thread
 * pool, and only then rename OUT.partial to OUT. One step at a time on the
 * loop; the phone's answers drive it. */
#include "plugins/adb/backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/archive_write.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "plugins/adb/adb_shell.h"
#include "plugins/adb/adb_sync.h"
#include "plugins/adb/backup_buf.h"

#define DF_BACKUP_SHELL_MAX (8u * 1024 * 1024)

static const char *const df_backup_settings_ns[3] = {"system", "secure", "global"};

struct df_backup_file {
  char *remote;
  uint64_t size;
  uint32_t mode;
  int64_t mtime;
  char *entry;   /* name in the archive; NULL: files/<remote> */
  char *prepare; /* shell command that makes remote first (NULL: none) */
  char *cleanup; /* shell command that removes it afterwards */
  char *what;    /* for meta/not-backed-up.txt when prepare fails */
  int owner;     /* 1 + index in pkgs: an APK or data of that app; -1: accounts */
  bool is_data;  /* an app's data tar */
};

enum df_backup_app_data { DF_BK_DATA_NONE = 0, DF_BK_DATA_QUEUED, DF_BK_DATA_SAVED, DF_BK_DATA_FAILED };

struct df_backup_app {
  uint32_t apks_found, apks_saved;
  enum df_backup_app_data data;
};

/* Where root leaves the tars it makes for the backup to pull. */
#define DF_BACKUP_TMP "/data/local/tmp/.droidfix-backup-"

/* The AccountManager databases (AOSP AccountsDb: DE_DATABASE_NAME in
 * /data/system_de/<user>, CE_DATABASE_NAME in /data/system_ce/<user>), with
 * SQLite's side files, relative to /data. */
static const char *const df_backup_account_files[] = {
  "system_de/0/accounts_de.db", "system_de/0/accounts_de.db-journal",
  "system_de/0/accounts_de.db-wal", "system_ce/0/accounts_ce.db",
  "system_ce/0/accounts_ce.db-journal", "system_ce/0/accounts_ce.db-wal", NULL};

enum df_backup_shell_job {
  DF_BK_PACKAGES = 0,    /* pm list packages -3 --show-versioncode */
  DF_BK_PACKAGES_PLAIN,  /* pm list packages -3 (older pm) */
  DF_BK_PACKAGE_VERSION, /* dumpsys package NAME, one per package */
  DF_BK_ROOT,            /* su -c id */
  DF_BK_APP_PATH,        /* pm path NAME, one per package */
  DF_BK_APP_USER_DE,     /* su -c 'ls -d /data/user_de/0/NAME', one per package */
  DF_BK_ACCOUNT_FILES,   /* su -c 'ls ...accounts_de.db ...' */
  DF_BK_ACCOUNTS,        /* dumpsys account */
  DF_BK_SETTINGS,        /* settings list NS, three times */
  DF_BK_SYNC,            /* dumpsys content */
  DF_BK_SHELL_DONE,
};

struct df_backup {
  struct df_loop *loop;
  struct df_adb_conn *conn;
  char **folders;
  size_t nfolders;
  bool want_packages, want_settings, want_apps;
  char *serial, *model;
  struct df_progress *progress;
  df_backup_done_cb done;
  void *userdata;

  struct df_archive_writer *w;
  struct df_adb_sync *sync;
  bool canceled;
  int pending; /* shell captures or thread-pool work still to come back */

  /* the walk */
  size_t root;
  char **todo;
  size_t ntodo, captodo;
  char *listing;
  struct df_backup_file *files;
  size_t nfiles, capfiles;
  char **dirs;
  size_t ndirs, capdirs;
  uint64_t total_bytes;

  /* the shell texts */
  enum df_backup_shell_job job;
  size_t job_index;
  struct df_backup_buf packages, package_names, settings[3], sync_state, skipped;
  char **pkgs; /* user-installed apps' names */
  size_t npkgs, cappkgs;
  bool rooted;
  struct df_backup_buf apps_meta, accounts_meta, not_covered, account_files;
  struct df_backup_app *apps; /* per package in pkgs */
  bool prepared;     /* the current file's prepare command has run */

  /* the copy */
  size_t file_index;
  struct df_hash *hash;
  bool header_written;
  uint64_t header_size, got;
  struct df_backup_buf manifest;

  struct df_backup_result result;
};

static void df_backup_walk_next(struct df_backup *b);
static void df_backup_shell_next(struct df_backup *b);
static void df_backup_copy_next(struct df_backup *b);

/* ---- lifetime ---- */

static void
df_backup_close_sync_later(void *data)
{
  df_adb_sync_close(data);
}

/* Drops b->sync. Often called from inside one of its own callbacks, where
 * freeing it would pull the floor from under the sync code that called:
 * the close runs on the next loop turn instead (a session with no
 * operation calls nobody back meanwhile). */
static void
df_backup_drop_sync(struct df_backup *b)
{
  if (b->sync == NULL) return;
  /* Nothing of the operation under way may call back into b any more. */
  df_adb_sync_abandon(b->sync);
  if (df_loop_schedule(b->loop, df_backup_close_sync_later, b->sync) != DF_OK)
    df_log_debug("backup: sync session left open (the loop is closing)");
  b->sync = NULL;
}

static void
df_backup_free(struct df_backup *b)
{
  for (size_t i = 0; i < b->nfolders; i++) free(b->folders[i]);
  free(b->folders);
  for (size_t i = 0; i < b->ntodo; i++) free(b->todo[i]);
  free(b->todo);
  free(b->listing);
  for (size_t i = 0; i < b->nfiles; i++) {
    free(b->files[i].remote);
    free(b->files[i].entry);
    free(b->files[i].prepare);
    free(b->files[i].cleanup);
    free(b->files[i].what);
  }
  free(b->apps);
  df_backup_buf_free(&b->apps_meta);
  df_backup_buf_free(&b->accounts_meta);
  df_backup_buf_free(&b->not_covered);
  df_backup_buf_free(&b->account_files);
  free(b->files);
  for (size_t i = 0; i < b->ndirs; i++) free(b->dirs[i]);
  free(b->dirs);
  for (size_t i = 0; i < b->npkgs; i++) free(b->pkgs[i]);
  free(b->pkgs);
  df_backup_buf_free(&b->packages);
  df_backup_buf_free(&b->package_names);
  for (int i = 0; i < 3; i++) df_backup_buf_free(&b->settings[i]);
  df_backup_buf_free(&b->sync_state);
  df_backup_buf_free(&b->skipped);
  df_backup_buf_free(&b->manifest);
  df_hash_free(b->hash);
  free(b->serial);
  free(b->model);
  free(b);
}

/* Ends the backup once: removes the partial on failure, reports, and frees
 * (later, if a shell or the thread pool still holds b). */
static void
df_backup_end(struct df_backup *b, int status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void df_backup_abandon_tmp(struct df_backup *b);

static void
df_backup_end(struct df_backup *b, int status, const char *fmt, ...)
{
  df_backup_drop_sync(b);
  if (status != DF_OK) {
    df_backup_abandon_tmp(b);
    if (fmt != NULL) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(b->result.message, sizeof(b->result.message), fmt, ap);
      va_end(ap);
    }
    df_archive_writer_abort(b->w);
    b->w = NULL;
  }
  if (b->progress != NULL) df_progress_finish(b->progress, status);
  b->result.not_covered = b->not_covered.data != NULL ? b->not_covered.data : "";
  b->done(b->userdata, status, &b->result);
  b->canceled = true; /* nothing more is reported */
  if (b->pending == 0) df_backup_free(b);
}

void
df_backup_skip_apps(struct df_backup *b)
{
  b->want_apps = false;
}

void
df_backup_cancel(struct df_backup *b)
{
  df_backup_drop_sync(b);
  df_backup_abandon_tmp(b);
  df_archive_writer_abort(b->w);
  b->w = NULL;
  b->canceled = true;
  if (b->pending == 0) df_backup_free(b);
}

/* A callback that comes back after cancel: true when b was freed. */
static bool
df_backup_returned(struct df_backup *b)
{
  b->pending--;
  if (!b->canceled) return false;
  if (b->pending == 0) df_backup_free(b);
  return true;
}

static int
df_backup_strv_push(char ***v, size_t *n, size_t *cap, char *s)
{
  if (s == NULL) return DF_ENOMEM;
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    char **nv = realloc(*v, ncap * sizeof(*nv));
    if (nv == NULL) {
      free(s);
      return DF_ENOMEM;
    }
    *v = nv;
    *cap = ncap;
  }
  (*v)[(*n)++] = s;
  return DF_OK;
}

static char *
df_backup_join(const char *dir, const char *name)
{
  size_t dl = strlen(dir), nl = strlen(name);
  char *s = malloc(dl + nl + 2);

  if (s == NULL) return NULL;
  memcpy(s, dir, dl);
  if (dl == 0 || dir[dl - 1] != '/') s[dl++] = '/';
  memcpy(s + dl, name, nl + 1);
  return s;
}

/* "files" + the phone path: the name in the archive. */
static void
df_backup_entry_name(const char *remote, char *out, size_t outlen)
{
  snprintf(out, outlen, "files%s", strcmp(remote, "/") == 0 ? "" : remote);
}

/* The name of file i in the archive. */
static void
df_backup_file_entry(const struct df_backup_file *f, char *out, size_t outlen)
{
  if (f->entry != NULL)
    snprintf(out, outlen, "%s", f->entry);
  else
    df_backup_entry_name(f->remote, out, outlen);
}

/* A shell command whose answer nobody waits for (removing a temporary
 * file): its failure is logged, and b is kept until it comes back. */
static void
df_backup_on_cleanup(void *ud, int status, int exit_code, const char *out, size_t out_len,
                     const char *err, size_t err_len)
{
  struct df_backup *b = ud;
  (void)out;
  (void)out_len;
  if (status != DF_OK || exit_code != 0)
    df_log_warn("backup: removing a temporary file on the phone failed (%s): %.*s",
                status != DF_OK ? df_strerror(status) : "exit code", (int)err_len, err);
  df_backup_returned(b);
}

static void
df_backup_fire(struct df_backup *b, const char *cmd)
{
  if (df_adb_shell_capture(b->conn, cmd, 65536, df_backup_on_cleanup, b) == DF_OK)
    b->pending++;
  else
    df_log_warn("backup: could not run \"%s\" on the phone", cmd);
}

/* On failure or cancel: a tar made for the current file is removed. */
static void
df_backup_abandon_tmp(struct df_backup *b)
{
  if (b->prepared && b->file_index < b->nfiles && b->files[b->file_index].cleanup != NULL)
    df_backup_fire(b, b->files[b->file_index].cleanup);
  b->prepared = false;
}

/* Queues a file that is not under the folders: entry is its name in the
 * archive; prepare/cleanup/what may be NULL. Takes none of the strings. */
static int
df_backup_add_extra(struct df_backup *b, const char *remote, const char *entry,
                    const char *prepare, const char *cleanup, const char *what, int owner,
                    bool is_data)
{
  if (b->nfiles == b->capfiles) {
    size_t ncap = b->capfiles ? b->capfiles * 2 : 256;
    struct df_backup_file *nf = realloc(b->files, ncap * sizeof(*nf));
    if (nf == NULL) return DF_ENOMEM;
    b->files = nf;
    b->capfiles = ncap;
  }
  struct df_backup_file *f = &b->files[b->nfiles];
  memset(f, 0, sizeof(*f));
  f->remote = strdup(remote);
  f->entry = strdup(entry);
  f->prepare = prepare != NULL ? strdup(prepare) : NULL;
  f->cleanup = cleanup != NULL ? strdup(cleanup) : NULL;
  f->what = what != NULL ? strdup(what) : NULL;
  f->owner = owner;
  f->is_data = is_data;
  b->nfiles++;
  if (f->remote == NULL || f->entry == NULL || (prepare != NULL && f->prepare == NULL) ||
      (cleanup != NULL && f->cleanup == NULL) || (what != NULL && f->what == NULL))
    return DF_ENOMEM;
  return DF_OK;
}

/* "package:NAME..." lines -> b->pkgs (once). */
static int
df_backup_parse_names(struct df_backup *b, const char *out)
{
  const char *p = out;
  while (*p != '\0') {
    const char *nl = strchr(p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    if (len > 8 && strncmp(p, "package:", 8) == 0) {
      size_t n = 0;
      while (8 + n < len && p[8 + n] != '\r' && p[8 + n] != ' ') n++;
      char *name = strndup(p + 8, n);
      if (df_backup_strv_push(&b->pkgs, &b->npkgs, &b->cappkgs, name) != DF_OK) return DF_ENOMEM;
    }
    if (nl == NULL) break;
    p = nl + 1;
  }
  return DF_OK;
}

/* A package name as the shell may see it unquoted inside su -c '...':
 * Java package names are letters, digits, '_' and '.'. */
static bool
df_backup_plain_name(const char *name)
{
  if (name[0] == '\0' || strlen(name) > 255) return false;
  for (const char *p = name; *p != '\0'; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '.'))
      return false;
  return true;
}

/* ---- 1. the walk: stat each folder, then LIST recursively ---- */

static void
df_backup_on_root_stat(void *ud, int status, const struct df_sync_stat *st)
{
  struct df_backup *b = ud;
  const char *root = b->folders[b->root];

  if (status != DF_OK) {
    df_backup_end(b, status, "cannot look at %s on the phone: %s", root, df_strerror(status));
    return;
  }
  if (!st->exists) {
    df_backup_end(b, DF_ENOENT, "%s does not exist on the phone: check the folder's name", root);
    return;
  }
  if (!S_ISDIR(st->mode) && !S_ISLNK(st->mode)) {
    df_backup_end(b, DF_EINVAL, "%s on the phone is not a folder", root);
    return;
  }
  if (df_backup_strv_push(&b->todo, &b->ntodo, &b->captodo, strdup(root)) != DF_OK ||
      df_backup_strv_push(&b->dirs, &b->ndirs, &b->capdirs, strdup(root)) != DF_OK) {
    df_backup_end(b, DF_ENOMEM, "out of memory");
    return;
  }
  b->root++;
  df_backup_walk_next(b);
}

static void
df_backup_on_dent(void *ud, const char *name, const struct df_sync_stat *st)
{
  struct df_backup *b = ud;
  char *full;

  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return;
  full = df_backup_join(b->listing, name);
  if (full == NULL) {
    b->skipped.err = DF_ENOMEM;
    return;
  }
  if (strpbrk(name, "\n\r") != NULL) {
    df_backup_buf_printf(&b->skipped, "%s: its name has a line break\n", b->listing);
    free(full);
  } else if (S_ISDIR(st->mode)) {
    char *copy = strdup(full);
    if (df_backup_strv_push(&b->todo, &b->ntodo, &b->captodo, full) != DF_OK ||
        df_backup_strv_push(&b->dirs, &b->ndirs, &b->capdirs, copy) != DF_OK)
      b->skipped.err = DF_ENOMEM;
  } else if (S_ISREG(st->mode)) {
    if (b->nfiles == b->capfiles) {
      size_t ncap = b->capfiles ? b->capfiles * 2 : 256;
      struct df_backup_file *nf = realloc(b->files, ncap * sizeof(*nf));
      if (nf == NULL) {
        free(full);
        b->skipped.err = DF_ENOMEM;
        return;
      }
      b->files = nf;
      b->capfiles = ncap;
    }
    b->files[b->nfiles++] = (struct df_backup_file){.remote = full, .size = st->size, .mode = st->mode, .mtime = st->mtime};
    b->total_bytes += st->size;
  } else {
    df_backup_buf_printf(&b->skipped, "%s: %s, not copied\n", full,
                         S_ISLNK(st->mode) ? "a symbolic link" : "not a regular file");
    b->result.skipped++;
    free(full);
  }
}

static void
df_backup_on_list_done(void *ud, int status, const char *message)
{
  struct df_backup *b = ud;

  if (status != DF_OK) {
    df_backup_end(b, status, "cannot list %s on the phone: %s", b->listing,
                  message[0] != '\0' ? message : df_strerror(status));
    return;
  }
  if (b->skipped.err != 0) {
    df_backup_end(b, DF_ENOMEM, "out of memory while listing %s", b->listing);
    return;
  }
  df_backup_walk_next(b);
}

static int
df_backup_cmp_files(const void *x, const void *y)
{
  return strcmp(((const struct df_backup_file *)x)->remote,
                ((const struct df_backup_file *)y)->remote);
}

static int
df_backup_cmp_str(const void *x, const void *y)
{
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static void
df_backup_walk_next(struct df_backup *b)
{
  int rc;

  if (b->root < b->nfolders) {
    rc = df_adb_sync_stat(b->sync, b->folders[b->root], df_backup_on_root_stat, b);
    if (rc != DF_OK) df_backup_end(b, rc, "cannot look at %s: %s", b->folders[b->root], df_strerror(rc));
    return;
  }
  if (b->ntodo > 0) {
    free(b->listing);
    b->listing = b->todo[--b->ntodo];
    /* A trailing slash makes the phone list a folder behind a link
     * (/sdcard is one). */
    char path[4200];
    snprintf(path, sizeof(path), "%s%s", b->listing,
             b->listing[strlen(b->listing) - 1] == '/' ? "" : "/");
    rc = df_adb_sync_list(b->sync, path, df_backup_on_dent, df_backup_on_list_done, b);
    if (rc != DF_OK) df_backup_end(b, rc, "cannot list %s: %s", b->listing, df_strerror(rc));
    return;
  }
  if (b->nfiles > 1) qsort(b->files, b->nfiles, sizeof(*b->files), df_backup_cmp_files);
  if (b->ndirs > 1) qsort(b->dirs, b->ndirs, sizeof(*b->dirs), df_backup_cmp_str);
  df_log_info("backup: %zu files, %zu folders to copy", b->nfiles, b->ndirs);
  /* The apps' list is needed for their APKs too. */
  b->job = b->want_packages || b->want_apps ? DF_BK_PACKAGES
           : b->want_settings               ? DF_BK_SETTINGS
                                            : DF_BK_SHELL_DONE;
  df_backup_shell_next(b);
}

/* ---- 2. apps, settings and sync state through the shell ---- */

/* "versionCode=123 minSdk=..." -> "123" (up to a space), in out. */
static void
df_backup_find_field(const char *text, const char *key, char *out, size_t outlen)
{
  const char *p = strstr(text, key);
  size_t n = 0;

  out[0] = '\0';
  if (p == NULL) return;
  p += strlen(key);
  while (p[n] != '\0' && p[n] != ' ' && p[n] != '\n' && p[n] != '\r') n++;
  snprintf(out, outlen, "%.*s", (int)n, p);
}

/* `pm path PKG`: "package:/data/app/.../base.apk" (and split_*.apk) lines,
 * each an APK to pull into apps/PKG/. Without root the app's data cannot
 * be read: it goes on the list of what a reset would lose. */
static int
df_backup_on_app_path(struct df_backup *b, int exit_code, const char *out)
{
  const char *pkg = b->pkgs[b->job_index];
  struct df_backup_app *app = &b->apps[b->job_index];
  const char *p = out;

  while (exit_code == 0 && *p != '\0') {
    const char *nl = strchr(p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' ')) len--;
    if (len > 9 && strncmp(p, "package:/", 9) == 0 && len - 8 < 1000) {
      char remote[1024], entry[1400];
      snprintf(remote, sizeof(remote), "%.*s", (int)(len - 8), p + 8);
      const char *base = strrchr(remote, '/') + 1;
      if (base[0] != '\0' && strcmp(base, "..") != 0 && strcmp(base, ".") != 0) {
        snprintf(entry, sizeof(entry), "apps/%s/%s", pkg, base);
        if (df_backup_add_extra(b, remote, entry, NULL, NULL, NULL, (int)b->job_index + 1,
                                false) != DF_OK)
          return DF_ENOMEM;
        app->apks_found++;
      }
    }
    if (nl == NULL) break;
    p = nl + 1;
  }
  if (app->apks_found == 0)
    df_backup_buf_printf(&b->skipped, "apps/%s: pm path named no APK (exit %d)\n", pkg, exit_code);
  if (!b->rooted) df_backup_buf_printf(&b->not_covered, "app-data %s\n", pkg);
  return b->not_covered.err != 0 ? DF_ENOMEM : DF_OK;
}

/* Root makes a tar of the app's data under /data (data/PKG, and
 * user_de/0/PKG when it exists), readable by the shell user, to pull. */
static int
df_backup_queue_data(struct df_backup *b, bool has_de)
{
  const char *pkg = b->pkgs[b->job_index];
  char remote[512], entry[512], prepare[2048], cleanup[600], what[400];

  snprintf(remote, sizeof(remote), DF_BACKUP_TMP "%s.tar", pkg);
  snprintf(entry, sizeof(entry), "apps/%s/data.tar", pkg);
  snprintf(prepare, sizeof(prepare), "su -c 'tar -cf %s -C /data data/%s%s%s && chmod 644 %s'",
           remote, pkg, has_de ? " user_de/0/" : "", has_de ? pkg : "", remote);
  snprintf(cleanup, sizeof(cleanup), "su -c 'rm -f %s'", remote);
  snprintf(what, sizeof(what), "app-data %s", pkg);
  b->apps[b->job_index].data = DF_BK_DATA_QUEUED;
  return df_backup_add_extra(b, remote, entry, prepare, cleanup, what, (int)b->job_index + 1, true);
}

/* `su -c 'ls FILES'` lists the account databases that exist. */
static void
df_backup_on_account_files(struct df_backup *b, const char *out)
{
  for (size_t i = 0; df_backup_account_files[i] != NULL; i++) {
    char want[200];
    snprintf(want, sizeof(want), "/data/%s", df_backup_account_files[i]);
    size_t wl = strlen(want);
    for (const char *q = out; (q = strstr(q, want)) != NULL; q += wl) {
      if ((q == out || q[-1] == '\n') && (q[wl] == '\n' || q[wl] == '\r' || q[wl] == '\0')) {
        df_backup_buf_printf(&b->account_files, " %s", df_backup_account_files[i]);
        break;
      }
    }
  }
  if (b->account_files.len == 0) {
    df_log_warn("backup: no account database found under /data/system_de/0 or /data/system_ce/0");
    return;
  }
  char remote[200], prepare[2048], cleanup[300];
  snprintf(remote, sizeof(remote), DF_BACKUP_TMP "accounts.tar");
  snprintf(prepare, sizeof(prepare), "su -c 'tar -cf %s -C /data%s && chmod 644 %s'", remote,
           b->account_files.data, remote);
  snprintf(cleanup, sizeof(cleanup), "su -c 'rm -f %s'", remote);
  if (df_backup_add_extra(b, remote, "accounts/accounts.tar", prepare, cleanup, "accounts", -1,
                          false) != DF_OK)
    b->skipped.err = DF_ENOMEM;
}

/* `dumpsys account`: "Account {name=NAME, type=TYPE}" lines (Account's
 * toString) -> meta/accounts.txt. */
static int
df_backup_on_accounts(struct df_backup *b, int exit_code, const char *out, const char *err,
                      size_t err_len)
{
  bool covered = b->rooted && b->account_files.len > 0;

  if (exit_code != 0) {
    df_backup_buf_printf(&b->skipped, "accounts: dumpsys account failed (exit %d): %.*s\n",
                         exit_code, (int)(err_len > 300 ? 300 : err_len), err);
    if (!covered) df_backup_buf_printf(&b->not_covered, "account ? (the list could not be read)\n");
    return b->not_covered.err;
  }
  char type[256], name[512];
  for (const char *q = out; df_backup_next_account(&q, type, sizeof(type), name, sizeof(name));) {
    char line[800];
    snprintf(line, sizeof(line), "\n%s\t%s\n", type, name);
    /* Some releases print an account in more than one section. */
    if (b->accounts_meta.data != NULL &&
        (strncmp(b->accounts_meta.data, line + 1, strlen(line + 1)) == 0 ||
         strstr(b->accounts_meta.data, line) != NULL))
      continue;
    df_backup_buf_printf(&b->accounts_meta, "%s", line + 1);
    if (!covered) df_backup_buf_printf(&b->not_covered, "account %s %s\n", type, name);
  }
  return b->accounts_meta.err != 0 || b->not_covered.err != 0 ? DF_ENOMEM : DF_OK;
}

int
df_backup_master_sync(const char *text)
{
  for (const char *p = text; (p = strcasestr(p, "auto sync:")) != NULL; p += 10) {
    if (p != text && p[-1] != '\n') continue; /* the start of a line */
    const char *nl = strchr(p, '\n');
    const char *u0 = strstr(p, "u0=");
    if (u0 == NULL || (nl != NULL && u0 > nl)) continue;
    if (strncmp(u0 + 3, "true", 4) == 0) return 1;
    if (strncmp(u0 + 3, "false", 5) == 0) return 0;
  }
  return DF_ENOENT;
}

bool
df_backup_next_account(const char **cursor, char *type, size_t typelen, char *name,
                       size_t namelen)
{
  for (const char *q = *cursor; q != NULL && (q = strstr(q, "Account {name=")) != NULL;) {
    q += 14;
    const char *t = strstr(q, ", type=");
    const char *nl = strchr(q, '\n');
    const char *end = t != NULL ? strchr(t + 7, '}') : NULL;
    if (t == NULL || end == NULL || (nl != NULL && end > nl)) continue;
    snprintf(name, namelen, "%.*s", (int)(t - q), q);
    snprintf(type, typelen, "%.*s", (int)(end - t - 7), t + 7);
    *cursor = end + 1;
    return true;
  }
  *cursor = NULL;
  return false;
}

/* meta/sync.txt from `dumpsys content`: "master-sync=true|false", or
 * "master-sync=unknown" and why, never a failure. */
static void
df_backup_on_sync_state(struct df_backup *b, int exit_code, const char *out, const char *err,
                        size_t err_len)
{
  int on = exit_code == 0 ? df_backup_master_sync(out) : DF_ENOENT;

  if (on >= 0) {
    df_backup_buf_printf(&b->sync_state, "master-sync=%s\n", on ? "true" : "false");
    return;
  }
  if (exit_code != 0)
    df_backup_buf_printf(&b->sync_state, "master-sync=unknown: dumpsys content failed (exit %d): %.*s\n",
                         exit_code, (int)(err_len > 300 ? 300 : err_len), err);
  else
    df_backup_buf_printf(&b->sync_state,
                         "master-sync=unknown: dumpsys content has no \"Auto sync: u0=\" line\n");
}

static void
df_backup_on_shell(void *ud, int status, int exit_code, const char *out, size_t out_len,
                   const char *err, size_t err_len)
{
  struct df_backup *b = ud;

  if (df_backup_returned(b)) return;
  if (status != DF_OK) {
    df_backup_end(b, status, "a command on the phone failed: %s", df_strerror(status));
    return;
  }
  switch (b->job) {
  case DF_BK_PACKAGES:
    /* Older pm (and the simulated one) do not know --show-versioncode. */
    if (exit_code > 0 || strstr(out, "Unknown option") != NULL || strstr(err, "Unknown option") != NULL) {
      b->job = DF_BK_PACKAGES_PLAIN;
    } else {
      df_backup_buf_append(&b->packages, out, out_len);
      if (df_backup_parse_names(b, out) != DF_OK) {
        df_backup_end(b, DF_ENOMEM, "out of memory");
        return;
      }
      b->job = DF_BK_PACKAGE_VERSION;
      b->job_index = b->npkgs; /* versions known: straight on */
    }
    break;
  case DF_BK_PACKAGES_PLAIN:
    if (df_backup_parse_names(b, out) != DF_OK) {
      df_backup_end(b, DF_ENOMEM, "out of memory");
      return;
    }
    b->job = DF_BK_PACKAGE_VERSION;
    b->job_index = 0;
    break;
  case DF_BK_PACKAGE_VERSION: {
    char code[64], name[128];
    df_backup_find_field(out, "versionCode=", code, sizeof(code));
    df_backup_find_field(out, "versionName=", name, sizeof(name));
    df_backup_buf_printf(&b->packages, "package:%s versionCode:%s versionName:%s\n",
                         b->pkgs[b->job_index], code[0] ? code : "?", name[0] ? name : "?");
    b->job_index++;
    break;
  }
  case DF_BK_SETTINGS:
    if (exit_code > 0)
      df_backup_buf_printf(&b->skipped, "settings %s: could not be read (exit %d): %.*s\n",
                           df_backup_settings_ns[b->job_index], exit_code, (int)err_len, err);
    else
      df_backup_buf_append(&b->settings[b->job_index], out, out_len);
    b->job_index++;
    break;
  case DF_BK_ROOT:
    /* Magisk's (and the sim's) su runs the command as root; a phone
     * without su says "not found" (127) or the su app refuses. */
    b->rooted = exit_code == 0 && strstr(out, "uid=0(") != NULL;
    b->result.rooted = b->rooted;
    df_log_info("backup: %s", b->rooted ? "su gives root: apps' data and accounts are backed up too"
                                         : "no root (su): apps' data and accounts cannot be backed up");
    b->job = DF_BK_APP_PATH;
    b->job_index = 0;
    break;
  case DF_BK_APP_PATH:
    if (df_backup_on_app_path(b, exit_code, out) != DF_OK) {
      df_backup_end(b, DF_ENOMEM, "out of memory");
      return;
    }
    b->job_index++;
    break;
  case DF_BK_APP_USER_DE:
    if (df_backup_queue_data(b, exit_code == 0 && out_len > 0) != DF_OK) {
      df_backup_end(b, DF_ENOMEM, "out of memory");
      return;
    }
    b->job_index++;
    break;
  case DF_BK_ACCOUNT_FILES:
    df_backup_on_account_files(b, out);
    b->job = DF_BK_ACCOUNTS;
    break;
  case DF_BK_ACCOUNTS:
    if (df_backup_on_accounts(b, exit_code, out, err, err_len) != DF_OK) {
      df_backup_end(b, DF_ENOMEM, "out of memory");
      return;
    }
    b->job = b->want_settings ? DF_BK_SETTINGS : DF_BK_SHELL_DONE;
    b->job_index = 0;
    break;
  case DF_BK_SYNC:
    df_backup_on_sync_state(b, exit_code, out, err, err_len);
    b->job = DF_BK_SHELL_DONE;
    break;
  case DF_BK_SHELL_DONE:
    break;
  }
  df_backup_shell_next(b);
}

static void
df_backup_shell_next(struct df_backup *b)
{
  char cmd[1024];
  int rc;

  if (b->job == DF_BK_PACKAGE_VERSION && b->job_index >= b->npkgs) {
    b->job = b->want_apps ? DF_BK_ROOT : b->want_settings ? DF_BK_SETTINGS : DF_BK_SHELL_DONE;
    b->job_index = 0;
    if (b->want_apps && b->npkgs > 0) {
      b->apps = calloc(b->npkgs, sizeof(*b->apps));
      if (b->apps == NULL) {
        df_backup_end(b, DF_ENOMEM, "out of memory");
        return;
      }
    }
  }
  if (b->job == DF_BK_APP_PATH && b->job_index >= b->npkgs) {
    b->job = b->rooted ? DF_BK_APP_USER_DE : DF_BK_ACCOUNTS;
    b->job_index = 0;
  }
  if (b->job == DF_BK_APP_USER_DE) {
    /* Names that could not be passed to su safely get no data backup. */
    while (b->job_index < b->npkgs && !df_backup_plain_name(b->pkgs[b->job_index])) {
      df_backup_buf_printf(&b->not_covered, "app-data %s\n", b->pkgs[b->job_index]);
      b->job_index++;
    }
    if (b->job_index >= b->npkgs) b->job = DF_BK_ACCOUNT_FILES;
  }
  if (b->job == DF_BK_SETTINGS && b->job_index >= 3) b->job = DF_BK_SYNC;
  switch (b->job) {
  case DF_BK_PACKAGES:
    snprintf(cmd, sizeof(cmd), "pm list packages -3 --show-versioncode");
    break;
  case DF_BK_PACKAGES_PLAIN:
    snprintf(cmd, sizeof(cmd), "pm list packages -3");
    break;
  case DF_BK_PACKAGE_VERSION: {
    char q[600];
    df_backup_shell_quote(b->pkgs[b->job_index], q, sizeof(q));
    snprintf(cmd, sizeof(cmd), "dumpsys package %s", q);
    break;
  }
  case DF_BK_SETTINGS:
    snprintf(cmd, sizeof(cmd), "settings list %s", df_backup_settings_ns[b->job_index]);
    break;
  case DF_BK_ROOT:
    snprintf(cmd, sizeof(cmd), "su -c id");
    break;
  case DF_BK_APP_PATH: {
    char q[600];
    df_backup_shell_quote(b->pkgs[b->job_index], q, sizeof(q));
    snprintf(cmd, sizeof(cmd), "pm path %s", q);
    break;
  }
  case DF_BK_APP_USER_DE:
    snprintf(cmd, sizeof(cmd), "su -c 'ls -d /data/user_de/0/%s'", b->pkgs[b->job_index]);
    break;
  case DF_BK_ACCOUNT_FILES: {
    size_t n = (size_t)snprintf(cmd, sizeof(cmd), "su -c 'ls");
    for (size_t i = 0; df_backup_account_files[i] != NULL; i++)
      n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " /data/%s", df_backup_account_files[i]);
    snprintf(cmd + n, sizeof(cmd) - n, "'");
    break;
  }
  case DF_BK_ACCOUNTS:
    snprintf(cmd, sizeof(cmd), "dumpsys account");
    break;
  case DF_BK_SYNC:
    /* AOSP has no shell command that prints master sync alone; SyncManager's
     * dump says "Auto sync: u0=true " (older releases: "auto sync:"). */
    snprintf(cmd, sizeof(cmd), "dumpsys content");
    break;
  case DF_BK_SHELL_DONE:
    /* The folders first (so empty ones come back too), then the files. */
    for (size_t i = 0; i < b->ndirs; i++) {
      char name[4200];
      df_backup_entry_name(b->dirs[i], name, sizeof(name));
      rc = df_archive_writer_add_dir(b->w, name, 0771, (int64_t)time(NULL));
      if (rc != DF_OK) {
        df_backup_end(b, rc, "cannot write %s: %s", df_archive_writer_partial_path(b->w),
                      df_strerror(rc));
        return;
      }
    }
    b->file_index = 0;
    if (b->progress != NULL) b->progress->total = b->total_bytes;
    df_backup_copy_next(b);
    return;
  }
  rc = df_adb_shell_capture(b->conn, cmd, DF_BACKUP_SHELL_MAX, df_backup_on_shell, b);
  if (rc != DF_OK) {
    df_backup_end(b, rc, "cannot run \"%s\" on the phone: %s", cmd, df_strerror(rc));
    return;
  }
  b->pending++;
}

/* ---- 3. the files, pulled straight into the archive ---- */

static int
df_backup_sink_start(void *ud, const struct df_sync_stat *st)
{
  struct df_backup *b = ud;
  struct df_backup_file *f = &b->files[b->file_index];
  char name[4200];
  int rc;

  df_backup_file_entry(f, name, sizeof(name));
  rc = df_hash_new(DF_HASH_SHA256, &b->hash);
  if (rc != DF_OK) return rc;
  /* The size now, not at listing time: the header must match the data. */
  if (b->progress != NULL && st->size != f->size) {
    b->total_bytes = b->total_bytes - f->size + st->size;
    b->progress->total = b->total_bytes;
  }
  f->size = st->size;
  rc = df_archive_writer_add_file_header(b->w, name, st->size, st->mode & 07777, st->mtime);
  if (rc != DF_OK) return rc;
  b->header_written = true;
  b->header_size = st->size;
  b->got = 0;
  return DF_OK;
}

static int
df_backup_sink_data(void *ud, const uint8_t *data, size_t len)
{
  struct df_backup *b = ud;
  int rc;

  if (b->got + len > b->header_size) return DF_EMISMATCH; /* it grew */
  rc = df_archive_writer_add_data(b->w, data, len);
  if (rc != DF_OK) return rc;
  df_hash_update(b->hash, data, len);
  b->got += len;
  if (b->progress != NULL) df_progress_add(b->progress, len);
  return DF_OK;
}

static const struct df_adb_sync_sink df_backup_sink = {
  .on_start = df_backup_sink_start,
  .on_data = df_backup_sink_data,
};

static void df_backup_on_sync_ready(void *ud, int status);

/* File i is done (copied or not): its temporary tar goes, and what it was
 * for is counted. */
static void
df_backup_file_finished(struct df_backup *b, bool copied)
{
  struct df_backup_file *f = &b->files[b->file_index];

  if (b->prepared && f->cleanup != NULL) df_backup_fire(b, f->cleanup);
  b->prepared = false;
  if (f->owner > 0 && f->is_data) {
    b->apps[f->owner - 1].data = copied ? DF_BK_DATA_SAVED : DF_BK_DATA_FAILED;
    if (!copied) df_backup_buf_printf(&b->not_covered, "%s\n", f->what);
  } else if (f->owner > 0 && copied) {
    b->apps[f->owner - 1].apks_saved++;
  } else if (f->owner < 0) {
    b->result.accounts_saved = copied;
    /* Every account the phone listed is now at risk. */
    for (const char *p = b->accounts_meta.data; !copied && p != NULL && *p != '\0';) {
      const char *nl = strchr(p, '\n');
      size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
      const char *tab = memchr(p, '\t', len);
      if (tab != NULL)
        df_backup_buf_printf(&b->not_covered, "account %.*s %.*s\n", (int)(tab - p), p,
                             (int)(len - (size_t)(tab - p) - 1), tab + 1);
      p = nl != NULL ? nl + 1 : NULL;
    }
  }
}

static void
df_backup_on_pulled(void *ud, int status, const char *message)
{
  struct df_backup *b = ud;
  struct df_backup_file *f = &b->files[b->file_index];

  if (status == DF_OK && b->got != b->header_size) status = DF_EMISMATCH;
  if (status != DF_OK) {
    df_hash_free(b->hash);
    b->hash = NULL;
    if (!b->header_written && (status == DF_EDEVFAIL || status == DF_ENOENT || status == DF_EINVAL)) {
      /* The phone would not give this one (gone since the listing, no
       * permission): say so in meta/skipped.txt and go on, on a fresh sync
       * session (a failed one is not reused). */
      df_backup_buf_printf(&b->skipped, "%s: %s\n", f->remote,
                           message[0] != '\0' ? message : df_strerror(status));
      b->result.skipped++;
      df_log_warn("backup: %s not copied: %s", f->remote, message[0] != '\0' ? message : df_strerror(status));
      df_backup_drop_sync(b);
      df_backup_file_finished(b, false);
      b->file_index++;
      int rc = df_adb_sync_open(b->conn, df_backup_on_sync_ready, b, &b->sync);
      if (rc != DF_OK) {
        b->sync = NULL;
        df_backup_end(b, rc, "cannot reopen the file service on the phone: %s", df_strerror(rc));
      }
      return;
    }
    if (status == DF_EMISMATCH)
      df_backup_end(b, status, "%s changed on the phone while it was being copied; close the app "
                               "writing to it and take the backup again", f->remote);
    else
      df_backup_end(b, status, "copying %s failed: %s", f->remote,
                    message[0] != '\0' ? message : df_strerror(status));
    return;
  }
  char name[4200], hex[DF_HASH_HEX_MAX];
  df_backup_file_entry(f, name, sizeof(name));
  df_hash_final_hex(b->hash, hex, sizeof(hex));
  df_hash_free(b->hash);
  b->hash = NULL;
  df_backup_buf_printf(&b->manifest, "%s  %s\n", hex, name);
  if (f->entry == NULL) b->result.files++;
  b->result.bytes += b->got;
  df_backup_file_finished(b, true);
  b->file_index++;
  df_backup_copy_next(b);
}

/* The answer to a file's prepare command (root making a tar). */
static void
df_backup_on_prepared(void *ud, int status, int exit_code, const char *out, size_t out_len,
                      const char *err, size_t err_len)
{
  struct df_backup *b = ud;
  struct df_backup_file *f;
  (void)out;
  (void)out_len;

  if (df_backup_returned(b)) return;
  f = &b->files[b->file_index];
  if (status != DF_OK) {
    df_backup_end(b, status, "a command on the phone failed: %s", df_strerror(status));
    return;
  }
  b->prepared = true; /* whatever it left is removed */
  if (exit_code != 0) {
    df_backup_buf_printf(&b->skipped, "%s: root could not archive it (exit %d): %.*s\n", f->entry,
                         exit_code, (int)(err_len > 300 ? 300 : err_len), err);
    b->result.skipped++;
    df_log_warn("backup: %s not copied: exit %d: %.*s", f->entry, exit_code,
                (int)(err_len > 300 ? 300 : err_len), err);
    df_backup_file_finished(b, false);
    b->file_index++;
  }
  df_backup_copy_next(b);
}

static int df_backup_write_meta(struct df_backup *b);
static void df_backup_on_verified(void *ud, int status, const struct df_backup_check *c);

static void
df_backup_copy_next(struct df_backup *b)
{
  int rc;

  if (b->manifest.err != 0 || b->skipped.err != 0) {
    df_backup_end(b, DF_ENOMEM, "out of memory");
    return;
  }
  if (b->file_index < b->nfiles && b->files[b->file_index].prepare != NULL && !b->prepared) {
    rc = df_adb_shell_capture(b->conn, b->files[b->file_index].prepare, 65536,
                              df_backup_on_prepared, b);
    if (rc != DF_OK) {
      df_backup_end(b, rc, "cannot run \"%s\" on the phone: %s", b->files[b->file_index].prepare,
                    df_strerror(rc));
      return;
    }
    b->pending++;
    return;
  }
  if (b->file_index < b->nfiles) {
    b->header_written = false;
    rc = df_adb_sync_pull_to(b->sync, b->files[b->file_index].remote, &df_backup_sink, NULL,
                             df_backup_on_pulled, b);
    if (rc != DF_OK)
      df_backup_end(b, rc, "cannot copy %s: %s", b->files[b->file_index].remote, df_strerror(rc));
    return;
  }
  df_backup_drop_sync(b);
  rc = df_backup_write_meta(b);
  if (rc == DF_OK) rc = df_archive_writer_seal(b->w);
  if (rc != DF_OK) {
    df_backup_end(b, rc, "cannot write %s: %s", df_archive_writer_partial_path(b->w), df_strerror(rc));
    return;
  }
  rc = df_backup_verify(b->loop, df_archive_writer_partial_path(b->w), df_backup_on_verified, b);
  if (rc != DF_OK) {
    df_backup_end(b, rc, "cannot check the archive: %s", df_strerror(rc));
    return;
  }
  b->pending++;
}

static void
df_backup_on_sync_ready(void *ud, int status)
{
  struct df_backup *b = ud;

  if (status != DF_OK) {
    df_backup_end(b, status, "the phone refused its file service (sync): %s", df_strerror(status));
    return;
  }
  /* A phone that stops answering fails the backup instead of hanging it. */
  status = df_adb_sync_watch(b->sync, b->loop, 0);
  if (status != DF_OK) {
    df_backup_end(b, status, "cannot watch the file service: %s", df_strerror(status));
    return;
  }
  /* The first session walks; a reopened one (after a skipped file) copies. */
  if (b->job == DF_BK_SHELL_DONE)
    df_backup_copy_next(b);
  else
    df_backup_walk_next(b);
}

/* ---- 4. meta/, the manifest, and the check ---- */

static int
df_backup_add_meta(struct df_backup *b, const char *name, const char *data, size_t len)
{
  char hex[DF_HASH_HEX_MAX];
  int rc = df_archive_writer_add_buffer(b->w, name, data != NULL ? data : "", len);

  if (rc != DF_OK) return rc;
  rc = df_hash_buffer_hex(DF_HASH_SHA256, data != NULL ? data : "", len, hex, sizeof(hex));
  if (rc != DF_OK) return rc;
  df_backup_buf_printf(&b->manifest, "%s  %s\n", hex, name);
  return b->manifest.err;
}

static int
df_backup_json(struct df_backup *b, char **out, size_t *outlen)
{
  FILE *f = open_memstream(out, outlen);
  struct df_json j;
  char date[32];
  time_t now = time(NULL);
  struct tm tm;

  if (f == NULL) return DF_ENOMEM;
  gmtime_r(&now, &tm);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
  df_json_init(&j, f);
  df_json_object_begin(&j);
  df_json_kv_uint(&j, "format", 1);
  df_json_kv_string(&j, "serial", b->serial != NULL ? b->serial : "");
  df_json_kv_string(&j, "model", b->model != NULL ? b->model : "");
  df_json_kv_string(&j, "date", date);
  df_json_kv_string(&j, "droidfix_version", DF_VERSION);
  df_json_key(&j, "folders");
  df_json_array_begin(&j);
  for (size_t i = 0; i < b->nfolders; i++) df_json_string(&j, b->folders[i]);
  df_json_array_end(&j);
  df_json_kv_uint(&j, "files", b->result.files);
  df_json_kv_uint(&j, "dirs", b->ndirs);
  df_json_kv_uint(&j, "bytes", b->result.bytes);
  df_json_kv_uint(&j, "skipped", b->result.skipped);
  df_json_kv_bool(&j, "packages", b->want_packages);
  df_json_kv_bool(&j, "settings", b->want_settings);
  df_json_kv_bool(&j, "apps", b->want_apps);
  if (b->want_apps) {
    df_json_kv_bool(&j, "rooted", b->rooted);
    df_json_kv_uint(&j, "apps_with_apks", b->result.apps);
    df_json_kv_uint(&j, "apps_with_data", b->result.apps_with_data);
    df_json_kv_bool(&j, "accounts", b->result.accounts_saved);
  }
  df_json_object_end(&j);
  return fclose(f) == 0 ? DF_OK : DF_ENOMEM;
}

static int
df_backup_write_meta(struct df_backup *b)
{
  char *json = NULL;
  size_t jlen = 0;
  int rc = DF_OK;

  if (b->want_packages)
    rc = df_backup_add_meta(b, "meta/packages.txt", b->packages.data, b->packages.len);
  for (int i = 0; rc == DF_OK && b->want_settings && i < 3; i++) {
    char name[64];
    snprintf(name, sizeof(name), "meta/settings-%s.txt", df_backup_settings_ns[i]);
    rc = df_backup_add_meta(b, name, b->settings[i].data, b->settings[i].len);
  }
  if (rc == DF_OK && b->want_settings)
    rc = df_backup_add_meta(b, "meta/sync.txt", b->sync_state.data, b->sync_state.len);
  if (rc == DF_OK && b->want_apps) {
    struct df_backup_buf apps = {0};
    for (size_t i = 0; b->apps != NULL && i < b->npkgs; i++) {
      const struct df_backup_app *a = &b->apps[i];
      df_backup_buf_printf(&apps, "%s apks=%u data=%s\n", b->pkgs[i], a->apks_saved,
                           a->data == DF_BK_DATA_SAVED ? "yes" : "no");
      if (a->apks_saved > 0 && a->apks_saved == a->apks_found) b->result.apps++;
      if (a->data == DF_BK_DATA_SAVED) b->result.apps_with_data++;
    }
    rc = apps.err;
    if (rc == DF_OK) rc = df_backup_add_meta(b, "meta/apps.txt", apps.data, apps.len);
    df_backup_buf_free(&apps);
    if (rc == DF_OK)
      rc = df_backup_add_meta(b, "meta/accounts.txt", b->accounts_meta.data, b->accounts_meta.len);
    if (rc == DF_OK)
      rc = df_backup_add_meta(b, "meta/not-backed-up.txt", b->not_covered.data, b->not_covered.len);
  }
  if (rc == DF_OK)
    rc = df_backup_add_meta(b, "meta/skipped.txt", b->skipped.data, b->skipped.len);
  if (rc == DF_OK) rc = df_backup_json(b, &json, &jlen);
  if (rc == DF_OK) rc = df_backup_add_meta(b, "meta/backup.json", json, jlen);
  free(json);
  if (rc == DF_OK) rc = b->manifest.err;
  if (rc == DF_OK)
    rc = df_archive_writer_add_buffer(b->w, DF_BACKUP_MANIFEST, b->manifest.data, b->manifest.len);
  if (rc == DF_OK)
    rc = df_hash_buffer_hex(DF_HASH_SHA256, b->manifest.data != NULL ? b->manifest.data : "",
                            b->manifest.len, b->result.manifest_sha256,
                            sizeof(b->result.manifest_sha256));
  return rc;
}

static void
df_backup_on_verified(void *ud, int status, const struct df_backup_check *c)
{
  struct df_backup *b = ud;
  char msg[1600];

  if (df_backup_returned(b)) return;
  if (status != DF_OK) {
    df_backup_check_message(df_archive_writer_partial_path(b->w), status, c, msg, sizeof(msg));
    df_backup_end(b, status, "the backup did not read back correctly: %s", msg);
    return;
  }
  if (strcmp(c->manifest_sha256, b->result.manifest_sha256) != 0 || c->files != b->result.files) {
    df_backup_end(b, DF_ECORRUPT, "the backup did not read back as written (manifest or file count differs)");
    return;
  }
  struct df_archive_writer *w = b->w;
  b->w = NULL;
  int rc = df_archive_writer_finish(w);
  if (rc != DF_OK) {
    df_backup_end(b, rc, rc == DF_EEXIST
                           ? "%s appeared while the backup was written; the backup is kept as %s.partial"
                           : "cannot rename the backup to %s: %s",
                  b->result.path, rc == DF_EEXIST ? b->result.path : df_strerror(rc));
    return;
  }
  b->result.dirs = b->ndirs;
  df_log_info("backup: %s: %" PRIu64 " files, %" PRIu64 " bytes, verified", b->result.path,
              b->result.files, b->result.bytes);
  df_backup_end(b, DF_OK, NULL);
}

/* ---- start ---- */

int
df_backup_create(struct df_loop *loop, struct df_adb_conn *conn, const char *out_path,
                 const struct df_backup_spec *spec, struct df_progress *progress,
                 df_backup_done_cb done, void *userdata, struct df_backup **out)
{
  struct df_backup *b;
  int rc;

  if (spec == NULL || done == NULL || out_path == NULL) return DF_EINVAL;
  if (spec->nfolders == 0 && !spec->packages && !spec->settings) return DF_EINVAL;
  if (strlen(out_path) >= sizeof(b->result.path)) return DF_ETOOBIG;
  for (size_t i = 0; i < spec->nfolders; i++) {
    const char *f = spec->folders[i];
    if (f == NULL || f[0] != '/' || strstr(f, "/../") != NULL || strpbrk(f, "\n\r") != NULL ||
        strlen(f) > 1000)
      return DF_EINVAL;
  }
  b = calloc(1, sizeof(*b));
  if (b == NULL) return DF_ENOMEM;
  b->loop = loop;
  b->conn = conn;
  b->want_packages = spec->packages;
  b->want_settings = spec->settings;
  b->want_apps = spec->packages;
  b->progress = progress;
  b->done = done;
  b->userdata = userdata;
  snprintf(b->result.path, sizeof(b->result.path), "%s", out_path);
  b->folders = calloc(spec->nfolders + 1, sizeof(*b->folders));
  b->serial = strdup(spec->serial != NULL ? spec->serial : "");
  b->model = strdup(spec->model != NULL ? spec->model : "");
  if (b->folders == NULL || b->serial == NULL || b->model == NULL) {
    df_backup_free(b);
    return DF_ENOMEM;
  }
  for (size_t i = 0; i < spec->nfolders; i++) {
    /* "/sdcard/" -> "/sdcard": one spelling for names in the archive. */
    size_t n = strlen(spec->folders[i]);
    while (n > 1 && spec->folders[i][n - 1] == '/') n--;
    b->folders[i] = strndup(spec->folders[i], n);
    if (b->folders[i] == NULL) {
      df_backup_free(b);
      return DF_ENOMEM;
    }
    b->nfolders++;
  }
  rc = df_archive_writer_begin(out_path, &b->w);
  if (rc != DF_OK) {
    df_backup_free(b);
    return rc;
  }
  rc = df_adb_sync_open(conn, df_backup_on_sync_ready, b, &b->sync);
  if (rc != DF_OK) {
    df_archive_writer_abort(b->w);
    df_backup_free(b);
    return rc;
  }
  if (progress != NULL) df_progress_start(progress, "backup", 0);
  if (out != NULL) *out = b;
  return DF_OK;
}
