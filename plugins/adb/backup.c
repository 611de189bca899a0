/* Taking a backup: walk the folders with sync LIST, gather apps, settings
 * and sync state with shell commands, then pull every file straight into
 * the archive writer (hashing as it streams), write meta/ and the manifest,
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
};

enum df_backup_shell_job {
  DF_BK_PACKAGES = 0,    /* pm list packages -3 --show-versioncode */
  DF_BK_PACKAGES_PLAIN,  /* pm list packages -3 (older pm) */
  DF_BK_PACKAGE_VERSION, /* dumpsys package NAME, one per package */
  DF_BK_SETTINGS,        /* settings list NS, three times */
  DF_BK_SYNC,            /* cmd content get-master-sync */
  DF_BK_SHELL_DONE,
};

struct df_backup {
  struct df_loop *loop;
  struct df_adb_conn *conn;
  char **folders;
  size_t nfolders;
  bool want_packages, want_settings;
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
  char **pkgs; /* names for the dumpsys fallback */
  size_t npkgs, cappkgs;

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
  for (size_t i = 0; i < b->nfiles; i++) free(b->files[i].remote);
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

static void
df_backup_end(struct df_backup *b, int status, const char *fmt, ...)
{
  df_backup_drop_sync(b);
  if (status != DF_OK) {
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
  b->done(b->userdata, status, &b->result);
  b->canceled = true; /* nothing more is reported */
  if (b->pending == 0) df_backup_free(b);
}

void
df_backup_cancel(struct df_backup *b)
{
  df_backup_drop_sync(b);
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
    b->files[b->nfiles++] = (struct df_backup_file){full, st->size, st->mode, st->mtime};
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
  b->job = b->want_packages ? DF_BK_PACKAGES : b->want_settings ? DF_BK_SETTINGS : DF_BK_SHELL_DONE;
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
      b->job = b->want_settings ? DF_BK_SETTINGS : DF_BK_SHELL_DONE;
    }
    break;
  case DF_BK_PACKAGES_PLAIN: {
    const char *p = out;
    while (*p != '\0') {
      const char *nl = strchr(p, '\n');
      size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
      if (len > 8 && strncmp(p, "package:", 8) == 0) {
        size_t n = len - 8;
        while (n > 0 && (p[8 + n - 1] == '\r' || p[8 + n - 1] == ' ')) n--;
        char *name = strndup(p + 8, n);
        if (df_backup_strv_push(&b->pkgs, &b->npkgs, &b->cappkgs, name) != DF_OK) {
          df_backup_end(b, DF_ENOMEM, "out of memory");
          return;
        }
      }
      if (nl == NULL) break;
      p = nl + 1;
    }
    b->job = DF_BK_PACKAGE_VERSION;
    b->job_index = 0;
    break;
  }
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
  case DF_BK_SYNC:
    if (exit_code > 0 || out_len == 0)
      df_backup_buf_printf(&b->sync_state, "unavailable: %.*s\n", (int)err_len, err);
    else
      df_backup_buf_printf(&b->sync_state, "master-sync=%.*s", (int)out_len, out);
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

  if (b->job == DF_BK_PACKAGE_VERSION && b->job_index >= b->npkgs)
    b->job = b->want_settings ? DF_BK_SETTINGS : DF_BK_SHELL_DONE, b->job_index = 0;
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
  case DF_BK_SYNC:
    snprintf(cmd, sizeof(cmd), "cmd content get-master-sync");
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

  df_backup_entry_name(f->remote, name, sizeof(name));
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
  df_backup_entry_name(f->remote, name, sizeof(name));
  df_hash_final_hex(b->hash, hex, sizeof(hex));
  df_hash_free(b->hash);
  b->hash = NULL;
  df_backup_buf_printf(&b->manifest, "%s  %s\n", hex, name);
  b->result.files++;
  b->result.bytes += b->got;
  b->file_index++;
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
