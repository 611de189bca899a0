/* File commands on the phone's file system as toybox prints them: ls, cat,
 * rm, mkdir, chmod, chown, touch, sha256sum/md5sum. Errors read
 * "TOOL: PATH: Permission denied" (toybox lib perror_msg). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

static const char *
err_text(int r)
{
  switch (r) {
  case DF_EACCES: return "Permission denied";
  case DF_ENOENT: return "No such file or directory";
  case DF_EEXIST: return "File exists";
  case DF_EPERM: return "Operation not permitted";
  default: return df_strerror(r);
  }
}

/* Android's user names (system/core libcutils android_filesystem_config.h;
 * apps are u0_aN for uid 10000+N, their cache groups u0_aN_cache). */
static void
user_name(uint32_t id, char *out, size_t outlen)
{
  static const struct {
    uint32_t id;
    const char *name;
  } names[] = {{0, "root"},        {1000, "system"},   {1001, "radio"},   {1004, "input"},
               {1007, "log"},      {1015, "sdcard_rw"}, {1023, "media_rw"}, {1028, "sdcard_r"},
               {2000, "shell"},    {9997, "everybody"}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (names[i].id == id) {
      snprintf(out, outlen, "%s", names[i].name);
      return;
    }
  }
  if (id >= 10000 && id < 20000) {
    snprintf(out, outlen, "u0_a%u", id - 10000);
  } else if (id >= 20000 && id < 30000) {
    /* bionic's name for an app's cache GID (AID_CACHE_GID_START). */
    snprintf(out, outlen, "u0_a%u_cache", id - 20000);
  } else {
    snprintf(out, outlen, "%u", id);
  }
}

static bool
parse_id(const char *s, uint32_t *id)
{
  static const char *const known[][2] = {{"root", "0"},      {"system", "1000"}, {"radio", "1001"},
                                         {"shell", "2000"},  {"sdcard_rw", "1015"},
                                         {"media_rw", "1023"}, {"everybody", "9997"}};
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
    if (strcmp(s, known[i][0]) == 0) {
      *id = (uint32_t)atoi(known[i][1]);
      return true;
    }
  }
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end) {
    return false;
  }
  *id = (uint32_t)v;
  return true;
}

static void
mode_string(uint32_t mode, bool dir, char out[11])
{
  out[0] = dir ? 'd' : '-';
  const char *rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; i++) {
    out[1 + i] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
  }
  if (mode & 02000) { /* setgid: s over group x, S without it */
    out[6] = (mode & 010) ? 's' : 'S';
  }
  out[10] = '\0';
}

struct ls_entry {
  char name[256];
  struct df_sim_stat st;
};

struct ls_ctx {
  struct ls_entry *v;
  size_t n, cap;
};

static void
ls_collect(void *ctx, const char *name, const struct df_sim_stat *st)
{
  struct ls_ctx *c = ctx;
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 32;
    c->v = df_sim_xrealloc(c->v, c->cap * sizeof(*c->v));
  }
  snprintf(c->v[c->n].name, sizeof(c->v[c->n].name), "%s", name);
  c->v[c->n].st = *st;
  c->n++;
}

static int
cmp_entry(const void *a, const void *b)
{
  return strcmp(((const struct ls_entry *)a)->name, ((const struct ls_entry *)b)->name);
}

static void
ls_line(struct df_sim_sh *sh, const char *name, const struct df_sim_stat *st, bool longf)
{
  if (!longf) {
    df_sim_buf_printf(&sh->o->out, "%s\n", name);
    return;
  }
  char m[11], u[32], g[32], when[32];
  mode_string(st->mode, (st->mode & S_IFMT) == S_IFDIR, m);
  user_name(st->uid, u, sizeof(u));
  user_name(st->gid, g, sizeof(g));
  time_t t = (time_t)st->mtime;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
  /* toybox ls -l: mode, links, user, group, size, date, name. */
  df_sim_buf_printf(&sh->o->out, "%s %d %-8s %-8s %8llu %s %s\n", m,
                    (st->mode & S_IFMT) == S_IFDIR ? 2 : 1, u, g, (unsigned long long)st->size,
                    when, name);
}

int
df_sim_cmd_ls(struct df_sim_sh *sh, int argc, char **argv)
{
  bool longf = false, all = false, dironly = false;
  int first = argc;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1]) {
      for (const char *f = argv[i] + 1; *f; f++) {
        if (*f == 'l') {
          longf = true;
        } else if (*f == 'a') {
          all = true;
        } else if (*f == 'd') {
          dironly = true;
        }
      }
    } else if (first == argc) {
      first = i;
    }
  }
  int code = 0;
  int npaths = 0;
  for (int i = first; i < argc; i++) {
    if (argv[i][0] != '-') {
      npaths++;
    }
  }
  char *dflt[] = {"/"};
  char **paths = npaths ? argv + first : dflt;
  int count = npaths ? argc - first : 1;
  for (int i = 0; i < count; i++) {
    const char *path = paths[i];
    if (npaths && path[0] == '-') {
      continue;
    }
    struct df_sim_stat st;
    int r = df_sim_vfs_stat(sh->phone, path, sh->root, &st);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "ls: %s: %s\n", path, err_text(r));
      code = 1;
      continue;
    }
    if ((st.mode & S_IFMT) != S_IFDIR || dironly) {
      ls_line(sh, path, &st, longf);
      continue;
    }
    struct ls_ctx c = {0};
    r = df_sim_vfs_list(sh->phone, path, sh->root, ls_collect, &c);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "ls: %s: %s\n", path, err_text(r));
      code = 1;
      free(c.v);
      continue;
    }
    if (npaths > 1) {
      df_sim_buf_printf(&sh->o->out, "%s%s:\n", i ? "\n" : "", path);
    }
    if (c.n) {
      qsort(c.v, c.n, sizeof(*c.v), cmp_entry);
    }
    if (longf) {
      uint64_t blocks = 0;
      for (size_t k = 0; k < c.n; k++) {
        blocks += (c.v[k].st.size + 4095) / 4096 * 4;
      }
      df_sim_buf_printf(&sh->o->out, "total %llu\n", (unsigned long long)blocks);
    }
    if (all) {
      ls_line(sh, ".", &st, longf);
      ls_line(sh, "..", &st, longf);
    }
    for (size_t k = 0; k < c.n; k++) {
      if (!all && c.v[k].name[0] == '.') {
        continue;
      }
      ls_line(sh, c.v[k].name, &c.v[k].st, longf);
    }
    free(c.v);
  }
  return code;
}

int
df_sim_cmd_cat(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc < 2) {
    if (sh->in) {
      df_sim_buf_append(&sh->o->out, sh->in, sh->inlen);
    }
    return 0;
  }
  int code = 0;
  for (int i = 1; i < argc; i++) {
    int fd;
    int r = df_sim_vfs_open_read(sh->phone, argv[i], sh->root, &fd);
    if (r == DF_EINVAL) {
      df_sim_buf_printf(&sh->o->err, "cat: %s: Is a directory\n", argv[i]);
      code = 1;
      continue;
    }
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "cat: %s: %s\n", argv[i], err_text(r));
      code = 1;
      continue;
    }
    FILE *f = fdopen(fd, "rb");
    char buf[8192];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
      df_sim_buf_append(&sh->o->out, buf, n);
    }
    if (f) {
      fclose(f);
    }
  }
  return code;
}

static void
parent_of(const char *canon, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s", canon);
  char *slash = strrchr(out, '/');
  if (slash == out) {
    out[1] = '\0';
  } else if (slash) {
    *slash = '\0';
  }
}

int
df_sim_cmd_rm(struct df_sim_sh *sh, int argc, char **argv)
{
  bool recursive = false, force = false;
  int code = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1]) {
      recursive = recursive || strpbrk(argv[i], "rR") != NULL;
      force = force || strchr(argv[i], 'f') != NULL;
    }
  }
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1]) {
      continue;
    }
    char canon[PATH_MAX], parent[PATH_MAX];
    df_sim_vfs_canon(argv[i], canon, sizeof(canon));
    parent_of(canon, parent, sizeof(parent));
    struct df_sim_stat st;
    int r = df_sim_vfs_stat(sh->phone, canon, sh->root, &st);
    if (r == 0 && strcmp(canon, "/") == 0) {
      r = DF_EPERM;
    }
    if (r == 0) {
      r = df_sim_vfs_access(sh->phone, parent, sh->root, 2 | 1);
    }
    if (r == 0 && (st.mode & S_IFMT) == S_IFDIR && !recursive) {
      df_sim_buf_printf(&sh->o->err, "rm: %s: is a directory\n", argv[i]);
      code = 1;
      continue;
    }
    if (r < 0) {
      if (!(force && r == DF_ENOENT)) {
        df_sim_buf_printf(&sh->o->err, "rm: %s: %s\n", argv[i], err_text(r));
        code = 1;
      }
      continue;
    }
    df_sim_vfs_remove_tree(sh->phone, canon);
  }
  df_sim_phone_changed(sh->phone);
  return code;
}

int
df_sim_cmd_mkdir(struct df_sim_sh *sh, int argc, char **argv)
{
  bool parents = false;
  uint32_t perm = 0771;
  int code = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-p") == 0) {
      parents = true;
    } else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
      perm = (uint32_t)strtoul(argv[++i], NULL, 8);
    }
  }
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      if (strcmp(argv[i], "-m") == 0) {
        i++;
      }
      continue;
    }
    char canon[PATH_MAX], anc[PATH_MAX];
    df_sim_vfs_canon(argv[i], canon, sizeof(canon));
    if (df_sim_vfs_exists(sh->phone, canon)) {
      if (!parents) {
        df_sim_buf_printf(&sh->o->err, "mkdir: '%s': File exists\n", argv[i]);
        code = 1;
      }
      continue;
    }
    parent_of(canon, anc, sizeof(anc));
    if (!parents && !df_sim_vfs_exists(sh->phone, anc)) {
      df_sim_buf_printf(&sh->o->err, "mkdir: '%s': No such file or directory\n", argv[i]);
      code = 1;
      continue;
    }
    while (!df_sim_vfs_exists(sh->phone, anc)) {
      char up[PATH_MAX];
      parent_of(anc, up, sizeof(up));
      snprintf(anc, sizeof(anc), "%s", up);
    }
    int r = df_sim_vfs_access(sh->phone, anc, sh->root, 2 | 1);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "mkdir: '%s': %s\n", argv[i], err_text(r));
      code = 1;
      continue;
    }
    uint32_t uid = sh->root ? 0 : 2000;
    df_sim_vfs_mkdir_p(sh->phone, canon, uid, uid, perm);
  }
  df_sim_phone_changed(sh->phone);
  return code;
}

/* Only the owner (or root) may change a node's mode; only root its owner. */
static int
may_change(struct df_sim_sh *sh, const char *path, char *canon, size_t canonlen, bool owner_change)
{
  df_sim_vfs_canon(path, canon, canonlen);
  struct df_sim_stat st;
  int r = df_sim_vfs_stat(sh->phone, canon, sh->root, &st);
  if (r < 0) {
    return r;
  }
  if (sh->root) {
    return 0;
  }
  if (owner_change || st.uid != 2000 || strncmp(canon, "/storage/emulated/0/", 20) == 0) {
    return DF_EPERM;
  }
  return 0;
}

int
df_sim_cmd_chmod(struct df_sim_sh *sh, int argc, char **argv)
{
  int i = 1;
  if (i < argc && strcmp(argv[i], "-R") == 0) {
    i++;
  }
  if (argc - i < 2) {
    df_sim_buf_printf(&sh->o->err, "chmod: Need 2 arguments\n");
    return 1;
  }
  const char *mode = argv[i++];
  char *end;
  unsigned long perm = strtoul(mode, &end, 8);
  if (*end || end == mode || perm > 07777) {
    df_sim_buf_printf(&sh->o->err, "chmod: bad mode '%s'\n", mode);
    return 1;
  }
  int code = 0;
  for (; i < argc; i++) {
    char canon[PATH_MAX];
    int r = may_change(sh, argv[i], canon, sizeof(canon), false);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "chmod: chmod '%s' to %s: %s\n", argv[i], mode, err_text(r));
      code = 1;
      continue;
    }
    uint32_t u, g, p;
    df_sim_vfs_meta_get(sh->phone, canon, &u, &g, &p);
    df_sim_vfs_meta_set(sh->phone, canon, u, g, (uint32_t)perm);
  }
  df_sim_phone_changed(sh->phone);
  return code;
}

int
df_sim_cmd_chown(struct df_sim_sh *sh, int argc, char **argv)
{
  int i = 1;
  bool recursive = false;
  if (i < argc && strcmp(argv[i], "-R") == 0) {
    recursive = true;
    i++;
  }
  if (argc - i < 2) {
    df_sim_buf_printf(&sh->o->err, "chown: Need 2 arguments\n");
    return 1;
  }
  char spec[128];
  snprintf(spec, sizeof(spec), "%s", argv[i++]);
  char *sep = strpbrk(spec, ".:");
  const char *gname = NULL;
  if (sep) {
    *sep = '\0';
    gname = sep + 1;
  }
  uint32_t uid = 0, gid = 0;
  bool has_uid = spec[0] != '\0';
  if ((has_uid && !parse_id(spec, &uid)) || (gname && !parse_id(gname, &gid))) {
    df_sim_buf_printf(&sh->o->err, "chown: bad user '%s'\n", argv[i - 1]);
    return 1;
  }
  int code = 0;
  for (; i < argc; i++) {
    char canon[PATH_MAX];
    int r = may_change(sh, argv[i], canon, sizeof(canon), true);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "chown: %s: %s\n", argv[i], err_text(r));
      code = 1;
      continue;
    }
    uint32_t u, g, p;
    df_sim_vfs_meta_get(sh->phone, canon, &u, &g, &p);
    df_sim_vfs_meta_set(sh->phone, canon, has_uid ? uid : u, gname ? gid : g, p);
    if (recursive) {
      df_sim_vfs_chown_tree(sh->phone, canon, uid, gid, has_uid, gname != NULL);
    }
  }
  df_sim_phone_changed(sh->phone);
  return code;
}

int
df_sim_cmd_touch(struct df_sim_sh *sh, int argc, char **argv)
{
  int code = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      continue;
    }
    char canon[PATH_MAX];
    df_sim_vfs_canon(argv[i], canon, sizeof(canon));
    if (df_sim_vfs_exists(sh->phone, canon)) {
      continue;
    }
    if (df_sim_sh_redirect(sh, argv[i], "", 0, true) != 0) {
      code = 1;
    }
  }
  return code;
}

int
df_sim_cmd_hashsum(struct df_sim_sh *sh, int argc, char **argv)
{
  const char *tool = argv[0];
  const EVP_MD *md = strstr(tool, "md5") ? EVP_md5() : EVP_sha256();
  int code = 0;
  for (int i = 1; i < argc; i++) {
    int fd;
    int r = df_sim_vfs_open_read(sh->phone, argv[i], sh->root, &fd);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "%s: %s: %s\n", tool, argv[i], err_text(r));
      code = 1;
      continue;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md, NULL);
    FILE *f = fdopen(fd, "rb");
    char buf[65536];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
      EVP_DigestUpdate(ctx, buf, n);
    }
    if (f) {
      fclose(f);
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_DigestFinal_ex(ctx, d, &dl);
    EVP_MD_CTX_free(ctx);
    for (unsigned k = 0; k < dl; k++) {
      df_sim_buf_printf(&sh->o->out, "%02x", d[k]);
    }
    df_sim_buf_printf(&sh->o->out, "  %s\n", argv[i]);
  }
  return code;
}
