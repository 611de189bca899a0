/* Installing apps on the simulated phone as PackageManagerShellCommand and
 * PackageInstallerSession do it (AOSP frameworks/base, Android 11+):
 *
 *   pm install-create [options]   "Success: created install session [ID]"
 *   pm install-write [-S BYTES] ID NAME PATH|-
 *                                 "Success: streamed N bytes"; the file is
 *                                 opened as the caller (system_server cannot
 *                                 read shared storage: "Error: Unable to
 *                                 open file: ..."), '-' reads stdin
 *   pm install-commit ID          "Success", or "Failure [CODE: why]" on
 *                                 stdout, exit 1
 *   pm install-abandon ID         "Success"
 *   pm install [options] PATH...  one session: create, write each file
 *                                 (base.apk, or each file's own name when
 *                                 there are several), commit
 *
 * A session belongs to the uid that made it (root may use any); another
 * caller, a number no session has, or a session already committed gets
 * "java.lang.SecurityException: Caller has no access to session ID". The
 * session's files live in /data/app/vmdlID.tmp and its list in
 * /data/system/install_sessions.xml (a text stand-in), so both survive a
 * restart of the sim and go with a factory reset, as on a phone.
 *
 * A commit checks what validateApkInstallLocked checks, with its texts:
 * nothing staged, an APK that does not parse, a split defined twice, a
 * package name or version code that differs between the files, no base
 * in a full install, a base that requires splits staged alone
 * (INSTALL_FAILED_MISSING_SPLIT); then -R (no replace) and downgrades.
 * A commit ends the session, failed or not. The files go to a fresh code
 * path /data/app/~~X==/PKG-Y== as base.apk and split_NAME.apk; a new app
 * gets the first free uid from 10000 and a data folder with installd's
 * cache folders. Not simulated: -p (inherit an installed app's files),
 * multi-package and staged sessions, install-remove. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

#define AID_SYSTEM 1000u
#define SESSIONS_FILE "/data/system/install_sessions.xml"
#define SESSIONS_MAGIC "droidfix-sim install_sessions.xml"
#define MAX_STAGED 64

struct install_params {
  bool replace;   /* INSTALL_REPLACE_EXISTING: the default; -R clears it */
  bool downgrade; /* -d */
};

struct session {
  int id;
  int uid; /* the installer's: 2000 (shell) or 0 */
  struct install_params params;
};

/* ---- what a Java exception out of a shell command looks like ---- */

static int
exception(struct df_sim_sh *sh, const char *verb, const char *type, const char *msg)
{
  df_sim_buf_printf(&sh->o->err, "Exception occurred while executing '%s':\n%s: %s\n", verb, type,
                    msg);
  return 255;
}

static int
no_access(struct df_sim_sh *sh, const char *verb, const char *id_text)
{
  char msg[128];
  snprintf(msg, sizeof(msg), "Caller has no access to session %s", id_text);
  return exception(sh, verb, "java.lang.SecurityException", msg);
}

/* ---- the session list ---- */

static size_t
sessions_read(struct df_sim_phone *phone, struct session *v, size_t max)
{
  char *data = NULL;
  size_t len = 0, n = 0;
  if (df_sim_vfs_read_file(phone, SESSIONS_FILE, &data, &len) < 0) {
    return 0;
  }
  char *text = df_sim_strndup(data, len);
  free(data);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL && n < max;
       line = strtok_r(NULL, "\n", &save)) {
    int id, uid, replace, downgrade;
    if (sscanf(line, "session id=%d uid=%d replace=%d downgrade=%d", &id, &uid, &replace,
               &downgrade) == 4) {
      v[n++] = (struct session){id, uid, {replace != 0, downgrade != 0}};
    }
  }
  free(text);
  return n;
}

static void
sessions_write(struct df_sim_phone *phone, const struct session *v, size_t n)
{
  struct df_sim_buf b = {0};
  df_sim_buf_printf(&b, SESSIONS_MAGIC " (a stand-in for PackageInstallerService's list)\n");
  for (size_t i = 0; i < n; i++) {
    df_sim_buf_printf(&b, "session id=%d uid=%d replace=%d downgrade=%d\n", v[i].id, v[i].uid,
                      v[i].params.replace, v[i].params.downgrade);
  }
  df_sim_vfs_mkdir_p(phone, "/data/system", AID_SYSTEM, AID_SYSTEM, 0775);
  df_sim_vfs_write_file(phone, SESSIONS_FILE, b.data, b.len, AID_SYSTEM, AID_SYSTEM, 0600, false);
  df_sim_vfs_meta_set(phone, SESSIONS_FILE, AID_SYSTEM, AID_SYSTEM, 0600);
  df_sim_buf_free(&b);
}

static void
stage_dir(int id, char *out, size_t outlen)
{
  snprintf(out, outlen, "/data/app/vmdl%d.tmp", id);
}

/* The session id_text names, if the caller may open it (openSession). */
static bool
session_open(struct df_sim_sh *sh, const char *id_text, struct session *out)
{
  struct session v[MAX_STAGED];
  char *end;
  long id = id_text != NULL ? strtol(id_text, &end, 10) : 0;
  if (id_text == NULL || end == id_text || *end != '\0') {
    return false;
  }
  size_t n = sessions_read(sh->phone, v, MAX_STAGED);
  for (size_t i = 0; i < n; i++) {
    if (v[i].id == id && (sh->root || v[i].uid == 2000)) {
      *out = v[i];
      return true;
    }
  }
  return false;
}

static void
session_destroy(struct df_sim_phone *phone, int id)
{
  struct session v[MAX_STAGED];
  size_t n = sessions_read(phone, v, MAX_STAGED), k = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i].id != id) {
      v[k++] = v[i];
    }
  }
  sessions_write(phone, v, k);
  char dir[PATH_MAX];
  stage_dir(id, dir, sizeof(dir));
  df_sim_vfs_remove_tree(phone, dir);
}

/* createSession: a random positive id no other session has (the sim's is
 * drawn from the serial and the clock, so runs differ as on a phone). */
static int
session_create(struct df_sim_sh *sh, const struct install_params *params)
{
  struct df_sim_phone *phone = sh->phone;
  struct session v[MAX_STAGED];
  size_t n = sessions_read(phone, v, MAX_STAGED - 1);
  uint64_t h = 1469598103934665603ull ^ (uint64_t)df_sim_phone_now_ms(phone);
  for (const char *p = phone->serial; p && *p; p++) {
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  }
  int id;
  bool taken;
  do {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    id = (int)((h >> 33) % 2147483646u) + 1;
    taken = false;
    for (size_t i = 0; i < n; i++) {
      taken = taken || v[i].id == id;
    }
  } while (taken);
  v[n++] = (struct session){id, sh->root ? 0 : 2000, *params};
  sessions_write(phone, v, n);
  char dir[PATH_MAX];
  stage_dir(id, dir, sizeof(dir));
  df_sim_vfs_mkdir_p(phone, dir, AID_SYSTEM, AID_SYSTEM, 0755);
  df_sim_vfs_meta_set(phone, dir, AID_SYSTEM, AID_SYSTEM, 0755);
  return id;
}

/* ---- options (makeInstallParams) ---- */

static bool
takes_value(const char *o)
{
  static const char *const with_value[] = {
    "-i", "--user", "--install-location", "--install-reason", "--originating-uri",
    "--referrer", "--pkg", "-S", "--abi", "--force-uuid", NULL};
  for (size_t k = 0; with_value[k] != NULL; k++) {
    if (strcmp(o, with_value[k]) == 0) {
      return true;
    }
  }
  return false;
}

static bool
is_flag(const char *o)
{
  static const char *const flags[] = {
    "-r", "-t", "-f", "-g", "-l", "--dont-kill", "--restrict-permissions", "--full", "--instant",
    "--ephemeral", "--force-sdk", "--preload", "--enable-rollback", "--skip-verification", NULL};
  for (size_t k = 0; flags[k] != NULL; k++) {
    if (strcmp(o, flags[k]) == 0) {
      return true;
    }
  }
  return false;
}

/* Reads options from argv[*i]; a refusal is printed and returned (> 0). */
static int
parse_params(struct df_sim_sh *sh, const char *verb, int argc, char **argv, int *i,
             struct install_params *params)
{
  *params = (struct install_params){true, false};
  for (; *i < argc && argv[*i][0] == '-' && strcmp(argv[*i], "-") != 0; (*i)++) {
    const char *o = argv[*i];
    char msg[300];
    if (strcmp(o, "-R") == 0) {
      params->replace = false;
    } else if (strcmp(o, "-d") == 0) {
      params->downgrade = true;
    } else if (takes_value(o)) {
      if (*i + 1 >= argc) {
        snprintf(msg, sizeof(msg), "Argument expected after \"%s\"", o);
        return exception(sh, verb, "java.lang.IllegalArgumentException", msg);
      }
      (*i)++;
    } else if (strcmp(o, "-p") == 0 || strcmp(o, "--multi-package") == 0 ||
               strcmp(o, "--staged") == 0 || strcmp(o, "--apex") == 0) {
      df_sim_buf_printf(&sh->o->err, "droidfix-sim: pm %s %s is not simulated\n", verb, o);
      return 1;
    } else if (!is_flag(o)) {
      snprintf(msg, sizeof(msg), "Unknown option %s", o);
      return exception(sh, verb, "java.lang.IllegalArgumentException", msg);
    }
  }
  return 0;
}

/* ---- install-write ---- */

/* FileUtils.isValidExtFilename. */
static bool
valid_name(const char *name)
{
  return name[0] != '\0' && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
         strchr(name, '/') == NULL;
}

/* Whether system_server may be handed this file by the shell: the caller
 * can read it, and it is not on shared storage (a FUSE mount that
 * system_server's SELinux domain may not read since Android 11). */
static int
open_for_system(struct df_sim_sh *sh, const char *path, char **data, size_t *len)
{
  char canon[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  int r = canon[0] == '\0' || strncmp(canon, "/storage/", 9) == 0 ? DF_EACCES
          : df_sim_vfs_access(sh->phone, canon, sh->root, 4);
  if (r == 0) {
    r = df_sim_vfs_read_file(sh->phone, canon, data, len);
  }
  if (r < 0) {
    df_sim_buf_printf(&sh->o->err, "Error: Unable to open file: %s\n", path);
    if (strncmp(path, "/data/local/tmp/", 16) != 0) {
      df_sim_buf_printf(&sh->o->err, "Consider using a file under /data/local/tmp/\n");
    }
  }
  return r;
}

/* doWriteSplit: 0, or the exit code of the refusal (already printed). */
static int
write_split(struct df_sim_sh *sh, const char *verb, const struct session *s, const char *name,
            const char *path, int64_t size, bool log_success)
{
  char *data = NULL;
  size_t len = 0;
  if (path != NULL && strcmp(path, "-") != 0) {
    if (open_for_system(sh, path, &data, &len) < 0) {
      return 255;
    }
    size = (int64_t)len;
  } else if (size > 0) {
    len = sh->inlen < (size_t)size ? sh->inlen : (size_t)size;
    data = df_sim_strndup(sh->in != NULL ? sh->in : "", len);
  }
  if (size <= 0) {
    free(data);
    df_sim_buf_printf(&sh->o->err, "Error: must specify a APK size\n");
    return 1;
  }
  if (name == NULL || !valid_name(name)) {
    free(data);
    char msg[400];
    snprintf(msg, sizeof(msg), "Invalid name: %s", name != NULL ? name : "null");
    return exception(sh, verb, "java.lang.IllegalArgumentException", msg);
  }
  if ((int64_t)len < size) {
    free(data);
    df_sim_buf_printf(&sh->o->err, "Error: failed to write; Unexpected EOF after %zu of %" PRId64
                                   " bytes\n", len, size);
    return 1;
  }
  char dir[PATH_MAX], file[PATH_MAX + 300];
  stage_dir(s->id, dir, sizeof(dir));
  snprintf(file, sizeof(file), "%s/%s", dir, name);
  /* O_CREAT|O_WRONLY without O_EXCL: the same name again overwrites. */
  int r = df_sim_vfs_write_file(sh->phone, file, data, len, AID_SYSTEM, AID_SYSTEM, 0644, false);
  free(data);
  if (r < 0) {
    df_sim_buf_printf(&sh->o->err, "Error: failed to write; %s\n", df_strerror(r));
    return 1;
  }
  df_sim_vfs_meta_set(sh->phone, file, AID_SYSTEM, AID_SYSTEM, 0644);
  df_sim_phone_changed(sh->phone);
  if (log_success) {
    df_sim_buf_printf(&sh->o->out, "Success: streamed %" PRId64 " bytes\n", size);
  }
  return 0;
}

/* ---- commit ---- */

struct staged {
  char target[300]; /* base.apk or split_NAME.apk */
  char *data;
  size_t len;
};

static int
next_uid(const struct df_sim_phone *phone)
{
  int uid = 10000;
  for (;;) {
    bool used = false;
    for (size_t i = 0; i < phone->npkgs && !used; i++) {
      used = phone->pkgs[i].uid == uid;
    }
    if (!used) {
      return uid;
    }
    uid++;
  }
}

static void
fresh_code_path(const char *name, int64_t salt, char *out, size_t outlen)
{
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t h = 1469598103934665603ull ^ (uint64_t)salt;
  char r1[23], r2[23];
  for (const char *p = name; *p; p++) {
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  }
  for (int i = 0; i < 22; i++) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    r1[i] = b64[(h >> 33) % 64];
    r2[i] = b64[(h >> 41) % 64];
  }
  r1[22] = r2[22] = '\0';
  snprintf(out, outlen, "/data/app/~~%s==/%s-%s==", r1, name, r2);
}

static int
cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The session's files in name order (malloc'd names). */
static size_t
staged_names(struct df_sim_phone *phone, int id, char **names, size_t max)
{
  char dir[PATH_MAX], host[PATH_MAX];
  stage_dir(id, dir, sizeof(dir));
  df_sim_vfs_host(phone, dir, host, sizeof(host));
  DIR *d = opendir(host);
  size_t n = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL && n < max) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      names[n++] = df_sim_strdup(e->d_name);
    }
  }
  if (d != NULL) {
    closedir(d);
  }
  qsort(names, n, sizeof(*names), cmp_name);
  return n;
}

/* Installs the checked files: a fresh code path with every file, the
 * package's record, and (for a new app) its uid and data folder. */
static void
install_files(struct df_sim_phone *phone, const char *name, int64_t version_code,
              const char *version_name, int target_sdk, struct staged *files, size_t n)
{
  struct df_sim_package *p = df_sim_pkg_find(phone, name);
  int64_t now = df_sim_phone_now_ms(phone);
  bool fresh = p == NULL;
  if (fresh) {
    int uid = next_uid(phone);
    p = df_sim_pkg_add(phone, name);
    p->uid = uid;
    p->system = false;
    p->first_install_ms = now;
  } else if (!p->system && p->code_path != NULL) {
    df_sim_vfs_remove_tree(phone, p->code_path);
  }
  free(p->version_name);
  p->version_name = df_sim_strdup(version_name);
  p->version_code = version_code;
  p->target_sdk = target_sdk;
  p->last_update_ms = now;
  p->stopped = fresh; /* a new app is stopped until first launched */
  if (!p->system) {
    char cp[PATH_MAX];
    fresh_code_path(name, now, cp, sizeof(cp));
    free(p->code_path);
    free(p->apk);
    p->code_path = df_sim_strdup(cp);
    p->apk = df_sim_strdup("base.apk");
    df_sim_apk_write(phone, p); /* the folders, owned by system */
    for (size_t i = 0; i < n; i++) {
      char file[PATH_MAX + 300];
      snprintf(file, sizeof(file), "%s/%s", cp, files[i].target);
      df_sim_vfs_write_file(phone, file, files[i].data, files[i].len, AID_SYSTEM, AID_SYSTEM, 0644,
                            false);
      df_sim_vfs_meta_set(phone, file, AID_SYSTEM, AID_SYSTEM, 0644);
    }
  }
  char dcanon[PATH_MAX];
  snprintf(dcanon, sizeof(dcanon), "/data/data/%s", name);
  if (!df_sim_vfs_exists(phone, dcanon)) {
    df_sim_vfs_mkdir_p(phone, dcanon, (uint32_t)p->uid, (uint32_t)p->uid, 0700);
    df_sim_vfs_meta_set(phone, dcanon, (uint32_t)p->uid, (uint32_t)p->uid, 0700);
  }
  df_sim_appdata_prepare(phone, p);
}

/* Writes "Failure [CODE: why]" to out (install-commit) or err (the sim's
 * pm install, which has always answered there). */
static int
failure(struct df_sim_sh *sh, bool to_err, const char *code, const char *why)
{
  df_sim_buf_printf(to_err ? &sh->o->err : &sh->o->out, "Failure [%s: %s]\n", code, why);
  return 1;
}

/* doCommitSession: validates, installs, ends the session. 0 or 1. */
static int
commit(struct df_sim_sh *sh, const struct session *s, bool to_err)
{
  struct df_sim_phone *phone = sh->phone;
  char *names[MAX_STAGED];
  struct staged files[MAX_STAGED];
  size_t n = staged_names(phone, s->id, names, MAX_STAGED), nfiles = 0;
  char dir[PATH_MAX], why[PATH_MAX + 600], pkg[256] = "", version_name[256] = "";
  const char *code = NULL;
  int64_t version_code = 0;
  int target_sdk = 34;
  bool have_base = false, split_required = false;
  stage_dir(s->id, dir, sizeof(dir));
  if (n == 0) {
    code = "INSTALL_FAILED_INVALID_APK";
    snprintf(why, sizeof(why), "Session: %d. No packages staged in %s", s->id, dir);
  }
  for (size_t i = 0; i < n && code == NULL; i++) {
    char path[PATH_MAX + 300], name[256], vname[256], split[200];
    int64_t vcode;
    int sdk;
    bool required;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    struct staged *f = &files[nfiles];
    f->data = NULL;
    if (df_sim_vfs_read_file(phone, path, &f->data, &f->len) < 0 ||
        df_sim_apk_parse(f->data, f->len, name, sizeof(name), &vcode, vname, sizeof(vname),
                         &sdk) < 0) {
      free(f->data);
      code = "INSTALL_PARSE_FAILED_NOT_APK";
      snprintf(why, sizeof(why), "Failed to parse %s: not an APK", path);
      break;
    }
    nfiles++;
    df_sim_apk_split(f->data, f->len, split, sizeof(split), &required);
    snprintf(f->target, sizeof(f->target), split[0] ? "split_%s.apk" : "base.apk", split);
    for (size_t k = 0; k + 1 < nfiles && code == NULL; k++) {
      if (strcmp(files[k].target, f->target) == 0) {
        code = "INSTALL_FAILED_INVALID_APK";
        snprintf(why, sizeof(why), "Split %s was defined multiple times",
                 split[0] ? split : "null");
      }
    }
    if (code != NULL) {
      break;
    }
    if (pkg[0] == '\0') {
      snprintf(pkg, sizeof(pkg), "%s", name);
      version_code = vcode;
    }
    if (strcmp(pkg, name) != 0) {
      code = "INSTALL_FAILED_INVALID_APK";
      snprintf(why, sizeof(why), "%s package %s inconsistent with %s", path, name, pkg);
    } else if (vcode != version_code) {
      code = "INSTALL_FAILED_INVALID_APK";
      snprintf(why, sizeof(why), "%s version code %" PRId64 " inconsistent with %" PRId64, path,
               vcode, version_code);
    } else if (split[0] == '\0') {
      have_base = true;
      split_required = required;
      snprintf(version_name, sizeof(version_name), "%s", vname);
      target_sdk = sdk;
    }
  }
  if (code == NULL && !have_base) {
    code = "INSTALL_FAILED_INVALID_APK";
    snprintf(why, sizeof(why), "Full install must include a base package");
  } else if (code == NULL && split_required && nfiles <= 1) {
    code = "INSTALL_FAILED_MISSING_SPLIT";
    snprintf(why, sizeof(why), "Missing split for %s", pkg);
  }
  struct df_sim_package *old = code == NULL ? df_sim_pkg_find(phone, pkg) : NULL;
  if (old != NULL && !s->params.replace) {
    code = "INSTALL_FAILED_ALREADY_EXISTS";
    snprintf(why, sizeof(why), "Attempt to re-install %s without first uninstalling.", pkg);
  } else if (old != NULL && version_code < old->version_code && !s->params.downgrade) {
    code = "INSTALL_FAILED_VERSION_DOWNGRADE";
    snprintf(why, sizeof(why), "Downgrade detected: Update version code %" PRId64
             " is older than current %" PRId64, version_code, old->version_code);
  }
  if (code == NULL) {
    install_files(phone, pkg, version_code, version_name, target_sdk, files, nfiles);
  }
  for (size_t i = 0; i < nfiles; i++) {
    free(files[i].data);
  }
  for (size_t i = 0; i < n; i++) {
    free(names[i]);
  }
  session_destroy(phone, s->id);
  df_sim_phone_changed(phone);
  if (code != NULL) {
    return failure(sh, to_err, code, why);
  }
  return 0;
}

/* ---- the verbs ---- */

int
df_sim_pm_install(struct df_sim_sh *sh, int argc, char **argv, int i)
{
  struct install_params params;
  int64_t size = -1;
  for (int k = i; k + 1 < argc && argv[k][0] == '-'; k++) {
    if (strcmp(argv[k], "-S") == 0) {
      size = strtoll(argv[k + 1], NULL, 10);
    }
  }
  int r = parse_params(sh, "install", argc, argv, &i, &params);
  if (r != 0) {
    return r;
  }
  if (i >= argc && size <= 0) {
    df_sim_buf_printf(&sh->o->err, "Error: must either specify a package size or an APK file\n");
    return 1;
  }
  /* setParamsSize opens the first file before any session exists. */
  if (i < argc && strcmp(argv[i], "-") != 0) {
    char *data = NULL;
    size_t len = 0;
    if (open_for_system(sh, argv[i], &data, &len) < 0) {
      df_sim_buf_printf(&sh->o->err, "Error: Can't open file: %s\n", argv[i]);
      char msg[PATH_MAX + 64];
      snprintf(msg, sizeof(msg), "Error: Can't open file: %s", argv[i]);
      return exception(sh, "install", "java.lang.IllegalArgumentException", msg);
    }
    free(data);
  }
  struct session s = {session_create(sh, &params), sh->root ? 0 : 2000, params};
  bool several = argc - i > 1;
  if (i >= argc) {
    r = write_split(sh, "install", &s, "base.apk", "-", size, false);
  }
  for (int k = i; k < argc && r == 0; k++) {
    const char *slash = strrchr(argv[k], '/');
    const char *name = several ? (slash != NULL ? slash + 1 : argv[k]) : "base.apk";
    r = write_split(sh, "install", &s, name, argv[k], size, false);
  }
  if (r != 0) {
    session_destroy(sh->phone, s.id); /* abandoned */
    df_sim_phone_changed(sh->phone);
    return r;
  }
  r = commit(sh, &s, true);
  if (r == 0) {
    df_sim_buf_printf(&sh->o->out, "Success\n");
  }
  return r;
}

int
df_sim_pm_session(struct df_sim_sh *sh, int argc, char **argv)
{
  const char *verb = argv[1];
  struct session s;
  int i = 2;
  if (strcmp(verb, "install-create") == 0) {
    struct install_params params;
    int r = parse_params(sh, verb, argc, argv, &i, &params);
    if (r != 0) {
      return r;
    }
    /* NOTE in AOSP: adb depends on parsing this string. */
    df_sim_buf_printf(&sh->o->out, "Success: created install session [%d]\n",
                      session_create(sh, &params));
    df_sim_phone_changed(sh->phone);
    return 0;
  }
  if (strcmp(verb, "install-write") == 0) {
    int64_t size = -1;
    for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0; i++) {
      if (strcmp(argv[i], "-S") == 0 && i + 1 < argc) {
        size = strtoll(argv[++i], NULL, 10);
      } else {
        char msg[300];
        snprintf(msg, sizeof(msg), "Unknown option: %s", argv[i]);
        return exception(sh, verb, "java.lang.IllegalArgumentException", msg);
      }
    }
    const char *id = i < argc ? argv[i] : NULL;
    if (!session_open(sh, id, &s)) {
      return no_access(sh, verb, id != NULL ? id : "null");
    }
    return write_split(sh, verb, &s, i + 1 < argc ? argv[i + 1] : NULL,
                       i + 2 < argc ? argv[i + 2] : NULL, size, true);
  }
  if (strcmp(verb, "install-commit") == 0) {
    while (i < argc && (strcmp(argv[i], "--wait") == 0 || strcmp(argv[i], "--no-wait") == 0)) {
      i++;
    }
    const char *id = i < argc ? argv[i] : NULL;
    if (!session_open(sh, id, &s)) {
      return no_access(sh, verb, id != NULL ? id : "null");
    }
    int r = commit(sh, &s, false);
    if (r == 0) {
      df_sim_buf_printf(&sh->o->out, "Success\n");
    }
    return r;
  }
  /* install-abandon, install-destroy */
  const char *id = i < argc ? argv[i] : NULL;
  if (!session_open(sh, id, &s)) {
    return no_access(sh, verb, id != NULL ? id : "null");
  }
  session_destroy(sh->phone, s.id);
  df_sim_phone_changed(sh->phone);
  df_sim_buf_printf(&sh->o->out, "Success\n");
  return 0;
}

/* ---- pm path ---- */

void
df_sim_pm_path_lines(struct df_sim_sh *sh, const struct df_sim_package *p)
{
  df_sim_buf_printf(&sh->o->out, "package:%s/%s\n", p->code_path, p->apk);
  if (p->system || p->code_path == NULL) {
    return;
  }
  /* PackageLite lists splits sorted by split name. */
  char host[PATH_MAX], *names[MAX_STAGED];
  size_t n = 0;
  df_sim_vfs_host(sh->phone, p->code_path, host, sizeof(host));
  DIR *d = opendir(host);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL && n < MAX_STAGED) {
    size_t l = strlen(e->d_name);
    if (strncmp(e->d_name, "split_", 6) == 0 && l > 10 && strcmp(e->d_name + l - 4, ".apk") == 0) {
      names[n++] = df_sim_strdup(e->d_name);
    }
  }
  if (d != NULL) {
    closedir(d);
  }
  qsort(names, n, sizeof(*names), cmp_name);
  for (size_t i = 0; i < n; i++) {
    df_sim_buf_printf(&sh->o->out, "package:%s/%s\n", p->code_path, names[i]);
    free(names[i]);
  }
}
