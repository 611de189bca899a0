/* What a backup with root can reach on the simulated phone and a restore
 * must put back: each user-installed app's APK file at its code path (so
 * `pm path` names a file that `adb pull` can read, as on a phone), and the
 * AccountManager databases in /data/system_de/0/accounts_de.db and
 * /data/system_ce/0/accounts_ce.db (AOSP AccountsDb's DE_DATABASE_NAME and
 * CE_DATABASE_NAME). Those two files and phone->accounts are kept as one:
 * at every boot into Android the accounts are read back from the files (as
 * AccountManagerService opens the databases when the user unlocks), so
 * database files put back by root take effect after a reboot, as on a
 * phone. An account counts only when it is in both databases (AOSP drops a
 * DE account that the CE database lacks when the user unlocks).
 *
 * Both kinds of file are stand-ins, not real APK or SQLite files: small
 * text files whose first line says so; nothing on the host reads them. A
 * split APK's stand-in has a line "split=NAME" (its manifest's split
 * name); a base that cannot run without its splits has
 * "isSplitRequired=true" (the manifest attribute android:isSplitRequired).
 *
 * Also here: each app's cache/ and code_cache/ folders as installd makes
 * them (InstalldNativeService createAppData: prepare_app_cache_dir with
 * mode 02771, owner the app's uid, group the app's cache GID from
 * multiuser_get_cache_gid: AID_CACHE_GID_START 20000 + the app id's offset
 * from AID_APP_START 10000; other uids keep their own uid as the group). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/sim_internal.h"

#define ACCOUNTS_DE "/data/system_de/0/accounts_de.db"
#define ACCOUNTS_CE "/data/system_ce/0/accounts_ce.db"
#define AID_SYSTEM 1000u

/* ---- APKs ---- */

void
df_sim_apk_text(const struct df_sim_package *p, struct df_sim_buf *out)
{
  df_sim_buf_printf(out,
                    "droidfix-sim apk (a stand-in for an APK file)\n"
                    "package=%s\nversionCode=%lld\nversionName=%s\ntargetSdk=%d\n",
                    p->name, (long long)p->version_code, p->version_name ? p->version_name : "",
                    p->target_sdk);
}

int
df_sim_apk_parse(const char *data, size_t len, char *name, size_t namelen,
                 int64_t *version_code, char *version_name, size_t vnlen, int *target_sdk)
{
  static const char magic[] = "droidfix-sim apk ";
  if (len < sizeof(magic) - 1 || memcmp(data, magic, sizeof(magic) - 1) != 0 ||
      memchr(data, '\0', len) != NULL) {
    return DF_EINVAL;
  }
  char *text = df_sim_strndup(data, len);
  name[0] = version_name[0] = '\0';
  *version_code = 1;
  *target_sdk = 34;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "package=", 8) == 0) {
      snprintf(name, namelen, "%s", line + 8);
    } else if (strncmp(line, "versionCode=", 12) == 0) {
      *version_code = strtoll(line + 12, NULL, 10);
    } else if (strncmp(line, "versionName=", 12) == 0) {
      snprintf(version_name, vnlen, "%s", line + 12);
    } else if (strncmp(line, "targetSdk=", 10) == 0) {
      *target_sdk = atoi(line + 10);
    }
  }
  free(text);
  return name[0] != '\0' ? 0 : DF_EINVAL;
}

int
df_sim_apk_split(const char *data, size_t len, char *split, size_t splitlen, bool *split_required)
{
  split[0] = '\0';
  *split_required = false;
  char *text = df_sim_strndup(data, len);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "split=", 6) == 0) {
      snprintf(split, splitlen, "%s", line + 6);
    } else if (strcmp(line, "isSplitRequired=true") == 0) {
      *split_required = true;
    }
  }
  free(text);
  return 0;
}

/* The APK at code_path/apk, folders as PackageManager makes them
 * (/data/app/~~X==/ and the package folder: system 0775; base.apk 0644). */
int
df_sim_apk_write(struct df_sim_phone *phone, const struct df_sim_package *p)
{
  char canon[PATH_MAX], parent[PATH_MAX];
  struct df_sim_buf b = {0};
  snprintf(canon, sizeof(canon), "%s/%s", p->code_path, p->apk);
  snprintf(parent, sizeof(parent), "%s", p->code_path);
  char *slash = strrchr(parent, '/');
  if (slash != NULL && slash != parent) {
    *slash = '\0';
    df_sim_vfs_mkdir_p(phone, parent, AID_SYSTEM, AID_SYSTEM, 0775);
  }
  df_sim_vfs_mkdir_p(phone, p->code_path, AID_SYSTEM, AID_SYSTEM, 0775);
  df_sim_apk_text(p, &b);
  int r = df_sim_vfs_write_file(phone, canon, b.data, b.len, AID_SYSTEM, AID_SYSTEM, 0644, false);
  if (r == 0) {
    df_sim_vfs_meta_set(phone, canon, AID_SYSTEM, AID_SYSTEM, 0644);
  }
  df_sim_buf_free(&b);
  return r;
}

/* ---- cache folders (installd) ---- */

#define AID_APP_START 10000
#define AID_APP_END 19999
#define AID_CACHE_GID_START 20000
#define CACHE_DIR_MODE 02771u

uint32_t
df_sim_app_cache_gid(int uid)
{
  int app_id = uid % 100000; /* AID_USER_OFFSET */
  if (app_id >= AID_APP_START && app_id <= AID_APP_END) {
    return (uint32_t)(uid - app_id + (app_id - AID_APP_START) + AID_CACHE_GID_START);
  }
  return (uint32_t)uid;
}

/* Calls visit on the node at canon (host: its file) and, for a folder,
 * on everything under it, depth first. A node that is not on the host is
 * not visited. */
typedef void (*df_sim_tree_visit_fn)(struct df_sim_phone *phone, const char *canon,
                                     const struct stat *st, void *arg);

static void
walk_host_tree(struct df_sim_phone *phone, const char *canon, const char *host,
               df_sim_tree_visit_fn visit, void *arg)
{
  struct stat st;
  if (lstat(host, &st) < 0) {
    return;
  }
  visit(phone, canon, &st, arg);
  if (!S_ISDIR(st.st_mode)) {
    return;
  }
  DIR *d = opendir(host);
  if (d == NULL) {
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    char cc[PATH_MAX], hc[PATH_MAX];
    snprintf(cc, sizeof(cc), "%s/%s", strcmp(canon, "/") == 0 ? "" : canon, e->d_name);
    snprintf(hc, sizeof(hc), "%s/%s", host, e->d_name);
    walk_host_tree(phone, cc, hc, visit, arg);
  }
  closedir(d);
}

/* Every node under a cache folder: group gid; folders also mode 02771
 * (prepare_app_cache_dir's fts walk: chmod on directories, lchown -1:gid
 * on everything). */
static void
regroup_node(struct df_sim_phone *phone, const char *canon, const struct stat *st, void *arg)
{
  uint32_t gid = *(const uint32_t *)arg, u, g, p;
  df_sim_vfs_meta_get(phone, canon, &u, &g, &p);
  df_sim_vfs_meta_set(phone, canon, u, gid, S_ISDIR(st->st_mode) ? CACHE_DIR_MODE : p);
}

void
df_sim_appdata_prepare(struct df_sim_phone *phone, const struct df_sim_package *p)
{
  static const char *const names[] = {"cache", "code_cache"};
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "/data/data/%s", p->name);
  if (p->uid <= 0 || !df_sim_vfs_exists(phone, dir)) {
    return;
  }
  uint32_t uid = (uint32_t)p->uid, gid = df_sim_app_cache_gid(p->uid);
  for (size_t i = 0; i < 2; i++) {
    char canon[PATH_MAX], host[PATH_MAX];
    snprintf(canon, sizeof(canon), "%s/%s", dir, names[i]);
    if (!df_sim_vfs_exists(phone, canon)) {
      df_sim_vfs_mkdir_p(phone, canon, uid, gid, CACHE_DIR_MODE);
      df_sim_vfs_meta_set(phone, canon, uid, gid, CACHE_DIR_MODE);
      continue;
    }
    uint32_t u, g, m;
    df_sim_vfs_meta_get(phone, canon, &u, &g, &m);
    /* A folder of another uid is "real trouble" to installd: left alone.
     * One with the right group and mode is good; else the whole tree's
     * group and the folders' mode are put right. */
    if (u != uid || (g == gid && (m & 07777) == CACHE_DIR_MODE)) {
      continue;
    }
    df_sim_vfs_host(phone, canon, host, sizeof(host));
    walk_host_tree(phone, canon, host, regroup_node, &gid);
  }
}

/* ---- accounts ---- */

static void
accounts_text(const struct df_sim_phone *phone, const char *what, struct df_sim_buf *b)
{
  df_sim_buf_printf(b, "droidfix-sim %s (a stand-in for AccountsDb's SQLite file)\n", what);
  for (size_t i = 0; i < phone->naccounts; i++) {
    df_sim_buf_printf(b, "account\t%s\t%s\n", phone->accounts[i].type, phone->accounts[i].name);
  }
}

/* Lines "account\tTYPE\tNAME" of a database file; NULL if absent or not
 * one of ours. */
static char *
read_db(const struct df_sim_phone *phone, const char *canon)
{
  char *data = NULL;
  size_t len = 0;
  if (df_sim_vfs_read_file(phone, canon, &data, &len) < 0) {
    return NULL;
  }
  char *text = df_sim_strndup(data, len);
  free(data);
  if (strncmp(text, "droidfix-sim accounts_", 22) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

static bool
db_has(const char *text, const char *line, size_t len)
{
  for (const char *p = text; (p = strstr(p, "\naccount\t")) != NULL; p++) {
    if (strncmp(p + 1, line, len) == 0 && (p[1 + len] == '\n' || p[1 + len] == '\0')) {
      return true;
    }
  }
  return false;
}

static void
accounts_clear(struct df_sim_phone *phone)
{
  for (size_t i = 0; i < phone->naccounts; i++) {
    free(phone->accounts[i].name);
    free(phone->accounts[i].type);
  }
  phone->naccounts = 0;
}

/* Reads the accounts back from the two files; false when neither exists
 * (a phone from before the files were modelled: phone->accounts stays). */
static bool
accounts_load(struct df_sim_phone *phone)
{
  bool de_there = df_sim_vfs_exists(phone, ACCOUNTS_DE);
  bool ce_there = df_sim_vfs_exists(phone, ACCOUNTS_CE);
  if (!de_there && !ce_there) {
    return false;
  }
  char *de = read_db(phone, ACCOUNTS_DE);
  char *ce = read_db(phone, ACCOUNTS_CE);
  accounts_clear(phone);
  for (char *line = de ? strchr(de, '\n') : NULL; line != NULL && line[1] != '\0';) {
    char *start = line + 1;
    char *end = strchr(start, '\n');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    char *tab1 = memchr(start, '\t', len);
    char *tab2 = tab1 ? memchr(tab1 + 1, '\t', len - (size_t)(tab1 + 1 - start)) : NULL;
    if (strncmp(start, "account\t", 8) == 0 && tab2 != NULL && ce != NULL && db_has(ce, start, len)) {
      phone->accounts = df_sim_xrealloc(phone->accounts,
                                        (phone->naccounts + 1) * sizeof(*phone->accounts));
      phone->accounts[phone->naccounts].type = df_sim_strndup(tab1 + 1, (size_t)(tab2 - tab1 - 1));
      phone->accounts[phone->naccounts].name = df_sim_strndup(tab2 + 1, (size_t)(start + len - tab2 - 1));
      phone->naccounts++;
    }
    line = end;
  }
  free(de);
  free(ce);
  return true;
}

static void
write_if_changed(struct df_sim_phone *phone, const char *canon, const struct df_sim_buf *b)
{
  char *old = NULL;
  size_t oldlen = 0;
  if (df_sim_vfs_read_file(phone, canon, &old, &oldlen) == 0 && oldlen == b->len &&
      memcmp(old, b->data, b->len) == 0) {
    free(old);
    return;
  }
  free(old);
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s", canon);
  *strrchr(dir, '/') = '\0';
  df_sim_vfs_mkdir_p(phone, dir, AID_SYSTEM, AID_SYSTEM, 0700);
  df_sim_vfs_write_file(phone, canon, b->data, b->len, AID_SYSTEM, AID_SYSTEM, 0600, false);
  df_sim_vfs_meta_set(phone, canon, AID_SYSTEM, AID_SYSTEM, 0600);
}

static void
accounts_store(struct df_sim_phone *phone)
{
  struct df_sim_buf de = {0}, ce = {0};
  accounts_text(phone, "accounts_de.db", &de);
  accounts_text(phone, "accounts_ce.db", &ce);
  write_if_changed(phone, ACCOUNTS_DE, &de);
  write_if_changed(phone, ACCOUNTS_CE, &ce);
  df_sim_buf_free(&de);
  df_sim_buf_free(&ce);
}

void
df_sim_appdata_boot(struct df_sim_phone *phone)
{
  for (size_t i = 0; i < phone->npkgs; i++) {
    const struct df_sim_package *p = &phone->pkgs[i];
    char canon[PATH_MAX];
    if (p->system || p->code_path == NULL || p->apk == NULL) {
      continue;
    }
    snprintf(canon, sizeof(canon), "%s/%s", p->code_path, p->apk);
    if (!df_sim_vfs_exists(phone, canon)) {
      df_sim_apk_write(phone, p);
    }
  }
  /* Every boot (and user unlock) PackageManager has installd prepare each
   * app's data: missing cache folders made, a wrong group put right. */
  for (size_t i = 0; i < phone->npkgs; i++) {
    df_sim_appdata_prepare(phone, &phone->pkgs[i]);
  }
  size_t before = phone->naccounts;
  if (accounts_load(phone) && phone->naccounts != before) {
    df_log_info("droidfix-sim %s: %zu accounts after reading the account databases",
                phone->serial, phone->naccounts);
  }
  accounts_store(phone);
}

/* ---- chown -R ---- */

struct chown_to {
  uint32_t uid, gid;
  bool set_uid, set_gid;
};

static void
chown_node(struct df_sim_phone *phone, const char *canon, const struct stat *st, void *arg)
{
  const struct chown_to *to = arg;
  uint32_t u, g, p;
  (void)st;
  df_sim_vfs_meta_get(phone, canon, &u, &g, &p);
  df_sim_vfs_meta_set(phone, canon, to->set_uid ? to->uid : u, to->set_gid ? to->gid : g, p);
}

void
df_sim_vfs_chown_tree(struct df_sim_phone *phone, const char *canon, uint32_t uid, uint32_t gid,
                      bool set_uid, bool set_gid)
{
  char host[PATH_MAX];
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  struct chown_to to = {uid, gid, set_uid, set_gid};
  walk_host_tree(phone, canon, host, chown_node, &to);
}
