/* `pm install [options] PATH` on the simulated phone, as PackageManager's
 * shell command does it for one APK file: the file must be readable by the
 * caller and parse as an APK (here: the sim's stand-in, phone_appdata.c),
 * a lower versionCode than the installed one is refused without -d, and a
 * new app gets a fresh uid (the first free one from 10000 up, as
 * PackageManager hands out app ids), a code path /data/app/~~X==/PKG-Y==
 * with base.apk, and an empty data folder owned by that uid. Prints
 * "Success", or "Failure [INSTALL_...: why]" with exit code 1. Split APKs
 * (install-create/-write/-commit) are not simulated. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

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
failure(struct df_sim_sh *sh, const char *code, const char *why)
{
  df_sim_buf_printf(&sh->o->err, "Failure [%s: %s]\n", code, why);
  return 1;
}

int
df_sim_pm_install(struct df_sim_sh *sh, int argc, char **argv, int i)
{
  bool downgrade = false;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *o = argv[i];
    if (strcmp(o, "-d") == 0) {
      downgrade = true;
    } else if (strcmp(o, "-i") == 0 || strcmp(o, "--user") == 0 ||
               strcmp(o, "--install-location") == 0 || strcmp(o, "-S") == 0) {
      i++; /* takes a value */
    } else if (strcmp(o, "-r") != 0 && strcmp(o, "-t") != 0 && strcmp(o, "-g") != 0 &&
               strcmp(o, "--dont-kill") != 0 && strcmp(o, "--full") != 0) {
      df_sim_buf_printf(&sh->o->err, "Error: Unknown option: %s\n", o);
      return 1;
    }
  }
  if (i >= argc) {
    df_sim_buf_printf(&sh->o->err, "Error: APK content must be streamed\n");
    return 1;
  }
  if (i + 1 < argc) {
    return failure(sh, "INSTALL_FAILED_INVALID_APK",
                   "several APKs need install-create/install-write/install-commit, which the sim "
                   "does not simulate");
  }
  const char *path = argv[i];
  char canon[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  char *data = NULL;
  size_t len = 0;
  int r = df_sim_vfs_access(sh->phone, canon, sh->root, 4);
  if (r == 0) {
    r = df_sim_vfs_read_file(sh->phone, canon, &data, &len);
  }
  if (r < 0) {
    df_sim_buf_printf(&sh->o->err, "Error: Can't open file: %s\n", path);
    df_sim_buf_printf(&sh->o->err, "Exception occurred while executing 'install':\n"
                                   "java.lang.IllegalArgumentException: Error: Can't open file: %s\n",
                      path);
    return 255;
  }
  char name[256], version_name[256];
  int64_t version_code;
  int target_sdk;
  r = df_sim_apk_parse(data, len, name, sizeof(name), &version_code, version_name,
                       sizeof(version_name), &target_sdk);
  free(data);
  if (r < 0) {
    char why[PATH_MAX + 64];
    snprintf(why, sizeof(why), "Failed to parse %s: not an APK", path);
    return failure(sh, "INSTALL_PARSE_FAILED_NOT_APK", why);
  }
  struct df_sim_phone *phone = sh->phone;
  struct df_sim_package *p = df_sim_pkg_find(phone, name);
  if (p != NULL && version_code < p->version_code && !downgrade) {
    char why[512];
    snprintf(why, sizeof(why), "Downgrade detected: Update version code %" PRId64
             " is older than current %" PRId64, version_code, p->version_code);
    return failure(sh, "INSTALL_FAILED_VERSION_DOWNGRADE", why);
  }
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
    df_sim_apk_write(phone, p);
  }
  char dcanon[PATH_MAX];
  snprintf(dcanon, sizeof(dcanon), "/data/data/%s", name);
  if (!df_sim_vfs_exists(phone, dcanon)) {
    df_sim_vfs_mkdir_p(phone, dcanon, (uint32_t)p->uid, (uint32_t)p->uid, 0700);
    df_sim_vfs_meta_set(phone, dcanon, (uint32_t)p->uid, (uint32_t)p->uid, 0700);
  }
  df_sim_phone_changed(phone);
  df_sim_buf_printf(&sh->o->out, "Success\n");
  return 0;
}
