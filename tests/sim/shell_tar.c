/* toybox `tar` on the simulated phone, as far as a backup with root needs
 * it: -c and -x, -f FILE ("-": stdout), -C DIR, -v ignored; ustar headers
 * with numeric owners, pax "path" records for long names. It reads and
 * writes through the sim's permission checks, so only root reaches
 * /data/data. Also `restorecon`, which only checks its paths exist (the sim
 * has no SELinux labels to restore).
 *
 * One thing no phone has: the sim keeps most of an app's data as a byte
 * count (data_bytes) rather than as files, so an archive of /data/data/PKG
 * carries that count in a pax record "DFSIM.data_bytes" on the folder's
 * entry, and extracting it as root gives it back. A real tar carries those
 * bytes as files instead; GNU tar ignores the unknown record. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

#define VIRTUAL_KEY "DFSIM.data_bytes"

/* ---- writing ---- */

static void
octal(char *field, size_t width, uint64_t v)
{
  char tmp[32];
  snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)width - 1, v);
  memcpy(field, tmp, width - 1);
  field[width - 1] = '\0';
}

static void
header(struct df_sim_buf *out, const char *name, char type, uint64_t size, uint32_t mode,
       uint32_t uid, uint32_t gid, int64_t mtime)
{
  char h[512];
  memset(h, 0, sizeof(h));
  snprintf(h, 100, "%s", name);
  octal(h + 100, 8, mode & 07777);
  octal(h + 108, 8, uid);
  octal(h + 116, 8, gid);
  octal(h + 124, 12, size);
  octal(h + 136, 12, (uint64_t)(mtime > 0 ? mtime : 0));
  h[156] = type;
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) {
    sum += (unsigned char)h[i];
  }
  snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  df_sim_buf_append(out, h, sizeof(h));
}

static void
pad(struct df_sim_buf *out, uint64_t size)
{
  static const char zeros[512];
  if (size % 512) {
    df_sim_buf_append(out, zeros, 512 - size % 512);
  }
}

static void
pax_record(struct df_sim_buf *recs, const char *key, const char *value)
{
  size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
  size_t len = body + 1;
  for (;;) {
    char digits[32];
    size_t total = body + (size_t)snprintf(digits, sizeof(digits), "%zu", len);
    if (total == len) {
      break;
    }
    len = total;
  }
  df_sim_buf_printf(recs, "%zu %s=%s\n", len, key, value);
}

struct tar_out {
  struct df_sim_sh *sh;
  struct df_sim_buf data;
  int code;
};

static void
entry(struct tar_out *t, const char *name, char type, const char *body, uint64_t size,
      uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime, const struct df_sim_buf *extra)
{
  struct df_sim_buf recs = {0};
  if (strlen(name) > 99) {
    pax_record(&recs, "path", name);
  }
  if (extra && extra->len) {
    df_sim_buf_append(&recs, extra->data, extra->len);
  }
  if (recs.len) {
    header(&t->data, "PaxHeaders/entry", 'x', recs.len, 0644, 0, 0, mtime);
    df_sim_buf_append(&t->data, recs.data, recs.len);
    pad(&t->data, recs.len);
  }
  df_sim_buf_free(&recs);
  header(&t->data, name, type, size, mode, uid, gid, mtime);
  if (size) {
    df_sim_buf_append(&t->data, body, size);
    pad(&t->data, size);
  }
}

static int
cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_tree(struct tar_out *t, const char *canon, const char *name)
{
  struct df_sim_phone *phone = t->sh->phone;
  char host[PATH_MAX];
  struct stat st;
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  int r = df_sim_vfs_access(phone, canon, t->sh->root, 0);
  if (r == 0 && lstat(host, &st) < 0) {
    r = DF_ENOENT;
  }
  if (r == 0) {
    r = df_sim_vfs_access(phone, canon, t->sh->root, S_ISDIR(st.st_mode) ? 5 : 4);
  }
  if (r < 0) {
    df_sim_buf_printf(&t->sh->o->err, "tar: %s: %s\n", name,
                      r == DF_EACCES ? "Permission denied" : "No such file or directory");
    t->code = 1;
    return;
  }
  uint32_t uid, gid, perm;
  df_sim_vfs_meta_get(phone, canon, &uid, &gid, &perm);
  if (S_ISREG(st.st_mode)) {
    char *data = NULL;
    size_t len = 0;
    if (df_sim_vfs_read_file(phone, canon, &data, &len) < 0) {
      df_sim_buf_printf(&t->sh->o->err, "tar: %s: read error\n", name);
      t->code = 1;
      return;
    }
    entry(t, name, '0', data, len, perm, uid, gid, st.st_mtime, NULL);
    free(data);
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    return; /* links and the like are not in app data in the sim */
  }
  struct df_sim_buf extra = {0};
  if (strncmp(canon, "/data/data/", 11) == 0 && strchr(canon + 11, '/') == NULL) {
    const struct df_sim_package *p = df_sim_pkg_find(phone, canon + 11);
    if (p != NULL && p->data_bytes > 0) {
      char v[32];
      snprintf(v, sizeof(v), "%" PRIu64, p->data_bytes);
      pax_record(&extra, VIRTUAL_KEY, v);
    }
  }
  char dname[PATH_MAX + 1];
  snprintf(dname, sizeof(dname), "%s/", name);
  entry(t, dname, '5', NULL, 0, perm, uid, gid, st.st_mtime, &extra);
  df_sim_buf_free(&extra);
  DIR *d = opendir(host);
  if (d == NULL) {
    return;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      names = df_sim_xrealloc(names, (n + 1) * sizeof(*names));
      names[n++] = df_sim_strdup(e->d_name);
    }
  }
  closedir(d);
  if (n > 1) {
    qsort(names, n, sizeof(*names), cmp_names);
  }
  for (size_t i = 0; i < n; i++) {
    char cc[PATH_MAX], nc[PATH_MAX];
    snprintf(cc, sizeof(cc), "%s/%s", strcmp(canon, "/") == 0 ? "" : canon, names[i]);
    snprintf(nc, sizeof(nc), "%s/%s", name, names[i]);
    add_tree(t, cc, nc);
    free(names[i]);
  }
  free(names);
}

/* Writes a whole output file the way the caller may (parent writable). */
static int
write_out(struct df_sim_sh *sh, const char *path, const void *data, size_t len)
{
  char canon[PATH_MAX], parent[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  df_sim_vfs_parent(canon, parent, sizeof(parent));
  int r = df_sim_vfs_access(sh->phone, parent, sh->root, 3);
  if (r < 0) {
    return r;
  }
  uint32_t who = sh->root ? 0 : 2000;
  r = df_sim_vfs_write_file(sh->phone, canon, data, len, who, who, 0644, false);
  if (r == 0) {
    df_sim_vfs_meta_set(sh->phone, canon, who, who, 0644);
    df_sim_phone_changed(sh->phone);
  }
  return r;
}

/* ---- reading ---- */

static uint64_t
parse_octal(const char *f, size_t width)
{
  uint64_t v = 0;
  for (size_t i = 0; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
    v = v * 8 + (uint64_t)(f[i] - '0');
  }
  return v;
}

static bool
safe_name(const char *name)
{
  if (name[0] == '/') {
    return false;
  }
  for (const char *p = name; (p = strstr(p, "..")) != NULL; p += 2) {
    if ((p == name || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) {
      return false;
    }
  }
  return true;
}

static int
extract(struct df_sim_sh *sh, const char *data, size_t len, const char *dir)
{
  struct df_sim_phone *phone = sh->phone;
  char pax_path[PATH_MAX] = "";
  int64_t pax_virtual = -1;
  size_t off = 0;
  int code = 0;
  while (off + 512 <= len) {
    const char *h = data + off;
    bool zero = true;
    for (int i = 0; i < 512 && zero; i++) {
      zero = h[i] == 0;
    }
    if (zero) {
      return code;
    }
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
    }
    if (parse_octal(h + 148, 8) != sum) {
      df_sim_buf_printf(&sh->o->err, "tar: bad header checksum\n");
      return 1;
    }
    uint64_t size = parse_octal(h + 124, 12);
    char type = h[156];
    const char *body = h + 512;
    if (off + 512 + size > len) {
      df_sim_buf_printf(&sh->o->err, "tar: short file\n");
      return 1;
    }
    off += 512 + (size + 511) / 512 * 512;
    if (type == 'x') {
      /* "LEN key=value\n" records */
      size_t p = 0;
      while (p < size) {
        size_t rl = (size_t)strtoul(body + p, NULL, 10);
        const char *sp = memchr(body + p, ' ', size - p);
        if (rl == 0 || sp == NULL || p + rl > size) {
          break;
        }
        const char *kv = sp + 1;
        size_t kvlen = (size_t)(body + p + rl - 1 - kv);
        if (kvlen > 5 && strncmp(kv, "path=", 5) == 0) {
          snprintf(pax_path, sizeof(pax_path), "%.*s", (int)(kvlen - 5), kv + 5);
        } else if (kvlen > strlen(VIRTUAL_KEY) + 1 &&
                   strncmp(kv, VIRTUAL_KEY "=", strlen(VIRTUAL_KEY) + 1) == 0) {
          pax_virtual = strtoll(kv + strlen(VIRTUAL_KEY) + 1, NULL, 10);
        }
        p += rl;
      }
      continue;
    }
    char name[PATH_MAX];
    if (pax_path[0]) {
      snprintf(name, sizeof(name), "%s", pax_path);
    } else {
      snprintf(name, sizeof(name), "%.100s", h);
    }
    int64_t virt = pax_virtual;
    pax_path[0] = '\0';
    pax_virtual = -1;
    size_t nl = strlen(name);
    while (nl > 1 && name[nl - 1] == '/') {
      name[--nl] = '\0';
    }
    if (!safe_name(name)) {
      df_sim_buf_printf(&sh->o->err, "tar: %s: unsafe name, skipped\n", name);
      code = 1;
      continue;
    }
    char path[PATH_MAX * 2], canon[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    df_sim_vfs_canon(path, canon, sizeof(canon));
    uint32_t mode = (uint32_t)parse_octal(h + 100, 8) & 07777;
    uint32_t uid = sh->root ? (uint32_t)parse_octal(h + 108, 8) : 2000;
    uint32_t gid = sh->root ? (uint32_t)parse_octal(h + 116, 8) : 2000;
    char parent[PATH_MAX];
    df_sim_vfs_parent(canon, parent, sizeof(parent));
    bool exists = df_sim_vfs_exists(phone, canon);
    int r = exists ? df_sim_vfs_access(phone, canon, sh->root, 2)
                   : df_sim_vfs_access(phone, parent, sh->root, 3);
    if (r == DF_ENOENT && !exists && sh->root) {
      r = 0; /* root: missing parents are made */
    }
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "tar: %s: %s\n", name,
                        r == DF_EACCES ? "Permission denied" : "No such file or directory");
      code = 1;
      continue;
    }
    if (type == '5') {
      df_sim_vfs_mkdir_p(phone, canon, uid, gid, mode);
      df_sim_vfs_meta_set(phone, canon, uid, gid, mode);
      if (virt >= 0 && sh->root && strncmp(canon, "/data/data/", 11) == 0 &&
          strchr(canon + 11, '/') == NULL) {
        struct df_sim_package *p = df_sim_pkg_find(phone, canon + 11);
        if (p != NULL) {
          p->data_bytes = (uint64_t)virt;
        }
      }
    } else if (type == '0' || type == '\0') {
      r = df_sim_vfs_write_file(phone, canon, body, (size_t)size, uid, gid, mode, false);
      if (r < 0) {
        df_sim_buf_printf(&sh->o->err, "tar: %s: write error\n", name);
        code = 1;
        continue;
      }
      df_sim_vfs_meta_set(phone, canon, uid, gid, mode);
    } else {
      df_sim_buf_printf(&sh->o->err, "tar: %s: unsupported type '%c', skipped\n", name, type);
      code = 1;
    }
  }
  return code;
}

/* ---- the command ---- */

int
df_sim_cmd_tar(struct df_sim_sh *sh, int argc, char **argv)
{
  char mode = 0;
  const char *file = NULL, *dir = NULL;
  int i = 1;
  char **paths = calloc((size_t)argc + 1, sizeof(*paths));
  size_t npaths = 0;
  for (; i < argc; i++) {
    const char *a = argv[i];
    bool flags = a[0] == '-' ? a[1] != '-' && a[1] != '\0' : i == 1;
    if (strcmp(a, "--") == 0) {
      continue;
    }
    if (!flags) {
      paths[npaths++] = argv[i];
      continue;
    }
    for (const char *f = a + (a[0] == '-'); *f; f++) {
      if (*f == 'c' || *f == 'x' || *f == 't') {
        mode = *f;
      } else if (*f == 'f' || *f == 'C') {
        if (i + 1 >= argc) {
          df_sim_buf_printf(&sh->o->err, "tar: Needs argument for -%c\n", *f);
          free(paths);
          return 1;
        }
        (*f == 'f' ? &file : &dir)[0] = argv[++i];
      } else if (*f == 'v' || *f == 'p' || *f == 'o') {
        /* listing and owners: nothing to change here */
      } else {
        df_sim_buf_printf(&sh->o->err, "tar: Unknown option '%c' (the sim knows c x f C v p o)\n", *f);
        free(paths);
        return 1;
      }
    }
  }
  if (mode != 'c' && mode != 'x') {
    df_sim_buf_printf(&sh->o->err, "tar: Need one of -c or -x (the sim does not list)\n");
    free(paths);
    return 1;
  }
  char base[PATH_MAX];
  df_sim_vfs_canon(dir ? dir : "/", base, sizeof(base));
  if (dir && df_sim_vfs_access(sh->phone, base, sh->root, 1) < 0) {
    df_sim_buf_printf(&sh->o->err, "tar: chdir '%s': No such file or directory\n", dir);
    free(paths);
    return 1;
  }
  int code = 0;
  if (mode == 'c') {
    if (npaths == 0) {
      df_sim_buf_printf(&sh->o->err, "tar: Cowardly refusing to create an empty archive\n");
      free(paths);
      return 1;
    }
    struct tar_out t = {.sh = sh};
    for (size_t k = 0; k < npaths; k++) {
      char path[PATH_MAX * 2], canon[PATH_MAX], name[PATH_MAX];
      snprintf(path, sizeof(path), "%s/%s", strcmp(base, "/") == 0 ? "" : base, paths[k]);
      df_sim_vfs_canon(paths[k][0] == '/' ? paths[k] : path, canon, sizeof(canon));
      snprintf(name, sizeof(name), "%s", paths[k][0] == '/' ? paths[k] + 1 : paths[k]);
      size_t nl = strlen(name);
      while (nl > 1 && name[nl - 1] == '/') {
        name[--nl] = '\0';
      }
      add_tree(&t, canon, name);
    }
    static const char end[1024];
    df_sim_buf_append(&t.data, end, sizeof(end));
    code = t.code;
    if (file == NULL || strcmp(file, "-") == 0) {
      df_sim_buf_append(&sh->o->out, t.data.data, t.data.len);
    } else {
      int r = write_out(sh, file, t.data.data, t.data.len);
      if (r < 0) {
        df_sim_buf_printf(&sh->o->err, "tar: %s: %s\n", file,
                          r == DF_EACCES ? "Permission denied" : "No such file or directory");
        code = 1;
      }
    }
    df_sim_buf_free(&t.data);
  } else {
    char *data = NULL;
    size_t len = 0;
    if (file == NULL || strcmp(file, "-") == 0) {
      data = df_sim_strndup(sh->in ? sh->in : "", sh->in ? sh->inlen : 0);
      len = sh->in ? sh->inlen : 0;
    } else {
      char canon[PATH_MAX];
      df_sim_vfs_canon(file, canon, sizeof(canon));
      int r = df_sim_vfs_access(sh->phone, canon, sh->root, 4);
      if (r == 0) {
        r = df_sim_vfs_read_file(sh->phone, canon, &data, &len);
      }
      if (r < 0) {
        df_sim_buf_printf(&sh->o->err, "tar: %s: %s\n", file,
                          r == DF_EACCES ? "Permission denied" : "No such file or directory");
        free(paths);
        return 1;
      }
    }
    code = extract(sh, data, len, base);
    free(data);
    df_sim_phone_changed(sh->phone);
  }
  free(paths);
  return code;
}

int
df_sim_cmd_restorecon(struct df_sim_sh *sh, int argc, char **argv)
{
  int code = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      continue;
    }
    char canon[PATH_MAX];
    df_sim_vfs_canon(argv[i], canon, sizeof(canon));
    int r = df_sim_vfs_access(sh->phone, canon, sh->root, 0);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "restorecon: %s: %s\n", argv[i],
                        r == DF_EACCES ? "Permission denied" : "No such file or directory");
      code = 1;
    } else if (!sh->root) {
      df_sim_buf_printf(&sh->o->err, "SELinux: Could not set context for %s: Operation not permitted\n",
                        argv[i]);
      code = 1;
    }
  }
  return code;
}
