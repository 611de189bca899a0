/* Backups of a phone over ADB into one tar archive, and restores from it,
 * that never lose anything:
 *
 *   files/<phone path>        every regular file under the chosen folders
 *                             (directories as entries too), pulled straight
 *                             into the archive, never held whole in memory;
 *   meta/packages.txt         third-party apps: "package:NAME versionCode:N"
 *   meta/settings-{system,secure,global}.txt   `settings list` as it was
 *   meta/sync.txt             master sync from `dumpsys content` ("Auto
 *                             sync: u0=true"), or "unknown" and why
 *   apps/<pkg>/<apk>          with spec.packages: each user-installed app's APK
 *                             files (`pm path`), readable without root;
 *   apps/<pkg>/data.tar       with root (su): its private data, a tar of
 *                             data/<pkg> (and user_de/0/<pkg>) under /data;
 *   accounts/accounts.tar     with root: the AccountManager databases
 *                             (system_de/0/accounts_de.db, system_ce/0/
 *                             accounts_ce.db and their -journal/-wal);
 *   meta/apps.txt             "PKG apks=N data=yes|no" per user app;
 *   meta/accounts.txt         `dumpsys account`: "TYPE<TAB>NAME" per account;
 *   meta/not-backed-up.txt    what a factory reset would lose although this
 *                             backup exists: "app-data PKG" and
 *                             "account TYPE NAME" lines (no root: all apps'
 *                             data and every account);
 *   meta/skipped.txt          what was not copied and why (links, sockets,
 *                             files the phone would not give)
 *   meta/backup.json          serial, model, date, droidfix version,
 *                             folders, counts
 *   MANIFEST.sha256           "SHA256  NAME" for every file entry above,
 *                             hashed while streaming; always the last entry.
 *
 * The archive is written as OUT.partial, read back and checked against its
 * manifest, and only then renamed to OUT (never over an existing file): an
 * interrupted or failed backup leaves at most a .partial, never a file that
 * looks complete. A restore checks the whole archive against its manifest
 * before it touches the phone.
 *
 * If a function that takes a callback returns an error, the callback is
 * never called. */
#ifndef DF_ADB_BACKUP_H
#define DF_ADB_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/progress.h"
#include "plugins/adb/adb_conn.h"

#define DF_BACKUP_MANIFEST "MANIFEST.sha256"

struct df_backup_spec {
  const char *const *folders; /* absolute phone paths, e.g. "/sdcard" */
  size_t nfolders;
  bool packages; /* meta/packages.txt, and apps/ + accounts/ (see
                  * df_backup_skip_apps) */
  bool settings; /* meta/settings-*.txt and meta/sync.txt */
  const char *serial; /* for meta/backup.json; may be NULL */
  const char *model;  /* may be NULL */
};

struct df_backup_result {
  char path[4096];          /* the archive (final name) */
  uint64_t files;           /* regular files from the phone */
  uint64_t dirs;
  uint64_t bytes;           /* bytes of those files */
  uint64_t skipped;         /* entries not copied (see meta/skipped.txt) */
  char manifest_sha256[65]; /* sha256 of MANIFEST.sha256 */
  char message[1024];       /* on an error: what failed, naming the file */
  /* With spec.apps: */
  bool rooted;              /* su answered as uid 0 */
  uint64_t apps;            /* user-installed apps whose APKs are in the archive */
  uint64_t apps_with_data;  /* ... and whose private data is too */
  bool accounts_saved;      /* accounts/accounts.tar is in the archive */
  /* meta/not-backed-up.txt (valid during the callback; "" when nothing):
   * "app-data PKG\n" and "account TYPE NAME\n" lines. */
  const char *not_covered;
};

/* status 0: the archive is complete, verified and at r->path. Else a df
 * error, r->message says what and where; no file but maybe OUT.partial
 * (removed when the failure was ours to clean) is left. r is valid during
 * the call only. */
typedef void (*df_backup_done_cb)(void *userdata, int status, const struct df_backup_result *r);

struct df_backup;

/* Starts a backup on conn (which must outlive it) into out_path. spec is
 * copied. progress (may be NULL) counts file bytes; it must outlive the
 * backup. Errors at once: DF_EINVAL (no folder, a relative folder),
 * DF_EEXIST (out_path exists), DF_ENOENT / DF_EACCES (its folder),
 * DF_ENOMEM. *out (may be NULL) lets the caller cancel. */
int
df_backup_create(struct df_loop *loop, struct df_adb_conn *conn, const char *out_path,
                 const struct df_backup_spec *spec, struct df_progress *progress,
                 df_backup_done_cb done, void *userdata, struct df_backup **out);

/* Leaves apps/ and accounts/ out of a backup whose spec has packages (the
 * list meta/packages.txt stays). Call right after df_backup_create. */
void
df_backup_skip_apps(struct df_backup *b);

/* Stops a backup: done is never called, OUT.partial is removed. */
void
df_backup_cancel(struct df_backup *b);

/* ---- checking an archive (no phone) ---- */

struct df_backup_entry {
  char *name;         /* as in the archive */
  char sha256[65];    /* files only */
  uint64_t size;
  uint32_t mode;
  bool is_dir;
};

struct df_backup_check {
  uint64_t files;           /* file entries, meta and manifest excluded */
  uint64_t bytes;           /* their bytes */
  uint64_t entries;         /* all entries the manifest covers */
  char manifest_sha256[65];
  char bad_entry[1024];     /* the first entry at fault, "" if none */
  char reason[512];         /* why, one sentence */
  /* With keep_entries: every entry in archive order (manifest excluded). */
  struct df_backup_entry *list;
  size_t nlist;
};

/* Reads the whole archive and checks every entry against MANIFEST.sha256:
 * same entries in the same order, same sha256, no entry missing, none
 * extra, safe names, nothing after the manifest, the archive's end intact.
 * 0, or DF_ECORRUPT (damaged, truncated, or disagreeing with its manifest:
 * bad_entry and reason say where), DF_ENOENT, DF_EACCES, DF_EIO, DF_ENOMEM.
 * Blocking: off the loop thread. Free with df_backup_check_free. */
int
df_backup_verify_sync(const char *path, bool keep_entries, struct df_backup_check *check);

void
df_backup_check_free(struct df_backup_check *check);

/* The same on the thread pool; cb runs on the loop thread with check valid
 * during the call. */
typedef void (*df_backup_verify_cb)(void *userdata, int status,
                                    const struct df_backup_check *check);

int
df_backup_verify(struct df_loop *loop, const char *path, df_backup_verify_cb cb,
                 void *userdata);

/* One sentence for a failed check: "backup.tar is damaged at ENTRY: REASON". */
void
df_backup_check_message(const char *path, int status, const struct df_backup_check *check,
                        char *out, size_t outlen);

/* ---- restore ---- */

struct df_restore_options {
  const char *const *folders; /* only under these phone folders; 0: all */
  size_t nfolders;
  bool settings;              /* put settings back (where `settings put` can) */
  bool no_apps;               /* leave apps/ and accounts/ alone */
};

struct df_restore_result {
  uint64_t files;
  uint64_t bytes;
  uint64_t dirs;
  uint64_t settings_restored;
  /* Newline-separated lists ("" when none; malloc'd, freed after done):
   * settings that could not be put back ("global/adb_enabled: why"), and
   * apps installed at backup time that are not now (no APK in the backup,
   * or their install failed: see apps_failed). */
  char *settings_failed;
  char *missing_apps;
  char message[1024];
  /* With apps/ in the archive (newline lists, like the two above): apps
   * reinstalled from their APKs, apps whose data was put back (root), and
   * apps that could not be ("PKG: why"). accounts_restored: the account
   * databases were put back; they take effect after a reboot. */
  char *apps_installed;
  char *apps_data_restored;
  char *apps_failed;
  bool accounts_restored;
  bool reboot_needed;
};

typedef void (*df_restore_done_cb)(void *userdata, int status, const struct df_restore_result *r);

struct df_restore;

/* Checks the archive first (a damaged one: DF_ECORRUPT through done, the
 * phone untouched), then pushes its files back to their paths, creates its
 * folders, puts back settings that differ; reinstalls the archive's apps
 * that are missing (`pm install` of their APK, pushed to /data/local/tmp;
 * an app of split APKs through one install session: pm install-create,
 * install-write per APK, install-commit, as adb install-multiple does),
 * and with root puts their data back (owned by the app's new uid, cache/
 * and code_cache/ in its cache group) and the account databases; lists
 * apps that are still gone.
 * opts may be NULL (everything, settings on). */
int
df_restore_start(struct df_loop *loop, struct df_adb_conn *conn, const char *archive_path,
                 const struct df_restore_options *opts, struct df_progress *progress,
                 df_restore_done_cb done, void *userdata, struct df_restore **out);

/* Stops a restore; done is never called. */
void
df_restore_cancel(struct df_restore *r);

/* ---- small pure helpers (unit-tested) ---- */

/* "'text'" for the phone's sh, with ' written as '\''. Returns the bytes
 * needed (excluding NUL); writes at most outlen. */
size_t
df_backup_shell_quote(const char *text, char *out, size_t outlen);

/* Master sync from `dumpsys content` (SyncManager's "Auto sync: u0=true "
 * line; "auto sync:" before Android 10): 1 on, 0 off, DF_ENOENT when the
 * text does not say. */
int
df_backup_master_sync(const char *dumpsys_content);

/* The next "Account {name=NAME, type=TYPE}" of `dumpsys account` at or
 * after *cursor (Account.toString()); advances *cursor past it. Returns
 * false at the end. A name or type longer than its buffer is cut. */
bool
df_backup_next_account(const char **cursor, char *type, size_t typelen, char *name,
                       size_t namelen);

#endif
