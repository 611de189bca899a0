/* The phone's file system: phone paths map to real files under
 * STATE_DIR/fs; owners and modes live in the state's meta map (or, for
 * shared storage, are fixed as Android's FUSE view shows them). Permission
 * checks are the classic Unix ones for uid 2000 (shell) with its groups. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

#define SDCARD "/storage/emulated/0"
#define AID_SDCARD_RW 1015

/* Supplementary groups of the shell user (AOSP system/core
 * rootdir/init.rc and adbd's drop_privileges: input, log, adb, sdcard_rw,
 * sdcard_r, net_bt_admin, net_bt, inet, net_bw_stats, readproc, uhid,
 * everybody). */
static const uint32_t shell_groups[] = {2000, 1004, 1007, 1011, 1015, 1028, 3001,
                                        3002, 3003, 3006, 3009, 3011, 9997};

static bool
shell_in_group(uint32_t gid)
{
  for (size_t i = 0; i < sizeof(shell_groups) / sizeof(shell_groups[0]); i++) {
    if (shell_groups[i] == gid) {
      return true;
    }
  }
  return false;
}

void
df_sim_vfs_parent(const char *canon, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s", canon);
  char *slash = strrchr(out, '/');
  if (slash == out) {
    out[1] = '\0';
  } else if (slash != NULL) {
    *slash = '\0';
  }
}

void
df_sim_vfs_canon(const char *path, char *out, size_t outlen)
{
  char tmp[PATH_MAX];
  /* adb shell and adbd start in "/": a relative path is relative to it. */
  snprintf(tmp, sizeof(tmp), "/%s", path);
  char *parts[256];
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(tmp, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    if (strcmp(tok, ".") == 0) {
      continue;
    }
    if (strcmp(tok, "..") == 0) {
      if (n > 0) {
        n--;
      }
      continue;
    }
    if (n < 256) {
      parts[n++] = tok;
    }
  }
  char joined[PATH_MAX] = "";
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    int w = snprintf(joined + used, sizeof(joined) - used, "/%s", parts[i]);
    if (w < 0 || (size_t)w >= sizeof(joined) - used) {
      out[0] = '\0';
      return;
    }
    used += (size_t)w;
  }
  if (used == 0) {
    snprintf(joined, sizeof(joined), "/");
  }
  /* The links a phone has: /sdcard -> /storage/self/primary ->
   * /storage/emulated/0, and /data/user/0 -> /data/data. */
  static const char *const links[][2] = {
    {"/sdcard", SDCARD},
    {"/storage/self/primary", SDCARD},
    {"/mnt/sdcard", SDCARD},
    {"/data/user/0", "/data/data"},
  };
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
    size_t l = strlen(links[i][0]);
    if (strncmp(joined, links[i][0], l) == 0 && (joined[l] == '\0' || joined[l] == '/')) {
      snprintf(out, outlen, "%s%s", links[i][1], joined + l);
      return;
    }
  }
  snprintf(out, outlen, "%s", joined);
}

void
df_sim_vfs_host(const struct df_sim_phone *phone, const char *canon, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s/fs%s", phone->state_dir, strcmp(canon, "/") == 0 ? "" : canon);
}

static bool
in_sdcard(const char *canon)
{
  size_t l = strlen(SDCARD);
  return strncmp(canon, SDCARD, l) == 0 && (canon[l] == '\0' || canon[l] == '/');
}

static bool
host_is_dir(const struct df_sim_phone *phone, const char *canon)
{
  char host[PATH_MAX];
  struct stat st;
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  return stat(host, &st) == 0 && S_ISDIR(st.st_mode);
}

void
df_sim_vfs_meta_get(const struct df_sim_phone *phone, const char *canon, uint32_t *uid,
                    uint32_t *gid, uint32_t *perm)
{
  bool dir = host_is_dir(phone, canon);
  if (in_sdcard(canon) && strcmp(canon, SDCARD) != 0) {
    /* Shared storage through FUSE: one owner and group for everything. */
    *uid = 0;
    *gid = AID_SDCARD_RW;
    *perm = dir ? 0771 : 0660;
    return;
  }
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s", canon);
  bool own = true;
  for (;;) {
    const char *m = df_sim_kvs_get(&phone->meta, p);
    if (m) {
      unsigned u = 0, g = 0, pm = 0;
      if (sscanf(m, "%u %u %o", &u, &g, &pm) == 3) {
        *uid = u;
        *gid = g;
        /* A node without its own entry has its folder's owner; a file
         * gets the folder's bits without execute. */
        *perm = (own || dir) ? pm : (pm & 0666);
        return;
      }
    }
    own = false;
    if (strcmp(p, "/") == 0) {
      break;
    }
    char *slash = strrchr(p, '/');
    if (slash == p) {
      p[1] = '\0';
    } else {
      *slash = '\0';
    }
  }
  *uid = 0;
  *gid = 0;
  *perm = dir ? 0755 : 0644;
}

void
df_sim_vfs_meta_set(struct df_sim_phone *phone, const char *canon, uint32_t uid, uint32_t gid,
                    uint32_t perm)
{
  if (in_sdcard(canon) && strcmp(canon, SDCARD) != 0) {
    return;
  }
  char v[64];
  snprintf(v, sizeof(v), "%u %u %04o", uid, gid, perm & 07777);
  df_sim_kvs_set(&phone->meta, canon, v);
}

static bool
allowed(uint32_t uid, uint32_t gid, uint32_t perm, int want)
{
  uint32_t bits;
  if (uid == 2000) {
    bits = (perm >> 6) & 7;
  } else if (shell_in_group(gid)) {
    bits = (perm >> 3) & 7;
  } else {
    bits = perm & 7;
  }
  return ((uint32_t)want & bits) == (uint32_t)want;
}

int
df_sim_vfs_access(const struct df_sim_phone *phone, const char *canon, bool as_root, int want)
{
  char host[PATH_MAX];
  struct stat st;
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  /* Search permission on every folder above, then the node's own bits. */
  if (!as_root) {
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s", canon);
    char *slash;
    while ((slash = strrchr(p, '/')) != NULL && slash != p) {
      *slash = '\0';
      uint32_t u, g, pm;
      df_sim_vfs_meta_get(phone, p, &u, &g, &pm);
      if (!allowed(u, g, pm, 1)) {
        return DF_EACCES;
      }
    }
    if (strcmp(canon, "/") != 0) {
      uint32_t u, g, pm;
      df_sim_vfs_meta_get(phone, "/", &u, &g, &pm);
      if (!allowed(u, g, pm, 1)) {
        return DF_EACCES;
      }
    }
  }
  if (lstat(host, &st) < 0) {
    return DF_ENOENT;
  }
  if (!as_root && want) {
    uint32_t u, g, pm;
    df_sim_vfs_meta_get(phone, canon, &u, &g, &pm);
    if (!allowed(u, g, pm, want)) {
      return DF_EACCES;
    }
  }
  return 0;
}

bool
df_sim_vfs_exists(const struct df_sim_phone *phone, const char *canon)
{
  char host[PATH_MAX];
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  return access(host, F_OK) == 0;
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
df_sim_vfs_mkdir_p(struct df_sim_phone *phone, const char *canon, uint32_t uid, uint32_t gid,
                   uint32_t perm)
{
  char host[PATH_MAX];
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  if (strcmp(canon, "/") == 0) {
    if (mkdir(host, 0755) < 0 && errno != EEXIST) {
      return df_error_from_errno(errno);
    }
    return 0;
  }
  struct stat st;
  if (stat(host, &st) == 0) {
    return S_ISDIR(st.st_mode) ? 0 : DF_EEXIST;
  }
  char parent[PATH_MAX];
  parent_of(canon, parent, sizeof(parent));
  int r = df_sim_vfs_mkdir_p(phone, parent, uid, gid, perm);
  if (r < 0) {
    return r;
  }
  if (mkdir(host, 0755) < 0 && errno != EEXIST) {
    return df_error_from_errno(errno);
  }
  df_sim_vfs_meta_set(phone, canon, uid, gid, perm);
  return 0;
}

int
df_sim_vfs_write_file(struct df_sim_phone *phone, const char *canon, const void *data,
                      size_t len, uint32_t uid, uint32_t gid, uint32_t perm, bool append)
{
  char parent[PATH_MAX], host[PATH_MAX];
  parent_of(canon, parent, sizeof(parent));
  int r = df_sim_vfs_mkdir_p(phone, parent, uid, gid, (perm & 0777) | 0711);
  if (r < 0) {
    return r;
  }
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  bool existed = access(host, F_OK) == 0;
  int fd = open(host, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) {
    return df_error_from_errno(errno);
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      r = df_error_from_errno(errno);
      close(fd);
      return r;
    }
    p += w;
    left -= (size_t)w;
  }
  close(fd);
  if (!existed) {
    df_sim_vfs_meta_set(phone, canon, uid, gid, perm);
  }
  return 0;
}

int
df_sim_vfs_read_file(const struct df_sim_phone *phone, const char *canon, char **data,
                     size_t *len)
{
  char host[PATH_MAX];
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  FILE *f = fopen(host, "rb");
  if (f == NULL) {
    return df_error_from_errno(errno);
  }
  size_t cap = 4096, n = 0, got;
  char *buf = df_sim_xrealloc(NULL, cap + 1);
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = df_sim_xrealloc(buf, cap + 1);
    }
  }
  fclose(f);
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return 0;
}

static int
remove_host_tree(const char *host)
{
  struct stat st;
  if (lstat(host, &st) < 0) {
    return errno == ENOENT ? 0 : df_error_from_errno(errno);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(host);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
          continue;
        }
        char child[PATH_MAX];
        snprintf(child, sizeof(child), "%s/%s", host, e->d_name);
        remove_host_tree(child);
      }
      closedir(d);
    }
    if (rmdir(host) < 0) {
      return df_error_from_errno(errno);
    }
    return 0;
  }
  if (unlink(host) < 0) {
    return df_error_from_errno(errno);
  }
  return 0;
}

int
df_sim_vfs_remove_tree(struct df_sim_phone *phone, const char *canon)
{
  char host[PATH_MAX];
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  int r = remove_host_tree(host);
  /* Drop the metadata of the node and everything below it. */
  size_t l = strlen(canon);
  for (size_t i = phone->meta.n; i-- > 0;) {
    const char *k = phone->meta.v[i].key;
    if (strncmp(k, canon, l) == 0 && (k[l] == '\0' || k[l] == '/' || strcmp(canon, "/") == 0)) {
      df_sim_kvs_del(&phone->meta, k);
    }
  }
  return r;
}

static uint64_t
host_tree_size(const char *host)
{
  struct stat st;
  if (lstat(host, &st) < 0) {
    return 0;
  }
  if (!S_ISDIR(st.st_mode)) {
    return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
  }
  uint64_t total = 0;
  DIR *d = opendir(host);
  if (d == NULL) {
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    char child[PATH_MAX];
    snprintf(child, sizeof(child), "%s/%s", host, e->d_name);
    total += host_tree_size(child);
  }
  closedir(d);
  return total;
}

uint64_t
df_sim_vfs_tree_size(const struct df_sim_phone *phone, const char *canon)
{
  char host[PATH_MAX];
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  return host_tree_size(host);
}

int
df_sim_vfs_init_skeleton(struct df_sim_phone *phone)
{
  /* Owners and modes as a production Android 14 phone shows them to
   * `ls -ld` (AOSP system/core rootdir/init.rc mkdir lines). */
  static const struct {
    const char *path;
    uint32_t uid, gid, perm;
  } dirs[] = {
    {"/", 0, 0, 0755},
    {"/system", 0, 0, 0755},
    {"/vendor", 0, 2000, 0755},
    {"/product", 0, 0, 0755},
    {"/data", 1000, 1000, 0771},
    {"/data/data", 1000, 1000, 0771},
    {"/data/app", 1000, 1000, 0771},
    {"/data/local", 0, 0, 0751},
    {"/data/local/tmp", 2000, 2000, 0771},
    {"/data/system", 1000, 1000, 0775},
    {"/data/system/dropbox", 1000, 1000, 0700},
    {"/data/media", 1023, 1023, 0770},
    {"/storage", 0, 0, 0755},
    {"/storage/emulated", 0, 0, 0755},
    {SDCARD, 0, AID_SDCARD_RW, 0771},
    {"/efs", 1001, 1000, 0770},
    {"/proc", 0, 0, 0555},
    {"/dev", 0, 0, 0755},
  };
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    int r = df_sim_vfs_mkdir_p(phone, dirs[i].path, dirs[i].uid, dirs[i].gid, dirs[i].perm);
    if (r < 0) {
      return r;
    }
    df_sim_vfs_meta_set(phone, dirs[i].path, dirs[i].uid, dirs[i].gid, dirs[i].perm);
  }
  static const char *const sd_dirs[] = {"Alarms", "Android", "Audiobooks", "DCIM", "Documents",
                                        "Download", "Movies", "Music", "Notifications",
                                        "Pictures", "Podcasts", "Recordings", "Ringtones"};
  for (size_t i = 0; i < sizeof(sd_dirs) / sizeof(sd_dirs[0]); i++) {
    char canon[PATH_MAX];
    snprintf(canon, sizeof(canon), SDCARD "/%s", sd_dirs[i]);
    df_sim_vfs_mkdir_p(phone, canon, 0, AID_SDCARD_RW, 0771);
  }
  return 0;
}

/* ---- what adb sync sees ---- */

static void
fill_stat(const struct df_sim_phone *phone, const char *canon, const struct stat *hs,
          struct df_sim_stat *st)
{
  uint32_t u, g, pm;
  df_sim_vfs_meta_get(phone, canon, &u, &g, &pm);
  st->mode = (S_ISDIR(hs->st_mode) ? S_IFDIR : S_IFREG) | pm;
  st->size = S_ISDIR(hs->st_mode) ? 3452 : (uint64_t)hs->st_size;
  st->mtime = (int64_t)hs->st_mtime + phone->clock_offset_s;
  st->uid = u;
  st->gid = g;
}

int
df_sim_vfs_stat(struct df_sim_phone *phone, const char *path, bool as_root,
                struct df_sim_stat *st)
{
  char canon[PATH_MAX], host[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  int r = df_sim_vfs_access(phone, canon, as_root, 0);
  if (r < 0) {
    return r;
  }
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  struct stat hs;
  if (stat(host, &hs) < 0) {
    return DF_ENOENT;
  }
  fill_stat(phone, canon, &hs, st);
  return 0;
}

int
df_sim_vfs_list(struct df_sim_phone *phone, const char *path, bool as_root,
                df_sim_vfs_entry_fn fn, void *ctx)
{
  char canon[PATH_MAX], host[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  int r = df_sim_vfs_access(phone, canon, as_root, 4 | 1);
  if (r < 0) {
    return r;
  }
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  DIR *d = opendir(host);
  if (d == NULL) {
    return df_error_from_errno(errno);
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char child[PATH_MAX + 256], chost[PATH_MAX + 256];
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    snprintf(child, sizeof(child), "%s/%s", strcmp(canon, "/") == 0 ? "" : canon, e->d_name);
    snprintf(chost, sizeof(chost), "%s/%s", host, e->d_name);
    struct stat hs;
    if (stat(chost, &hs) < 0) {
      continue;
    }
    struct df_sim_stat st;
    fill_stat(phone, child, &hs, &st);
    fn(ctx, e->d_name, &st);
  }
  closedir(d);
  return 0;
}

int
df_sim_vfs_open_read(struct df_sim_phone *phone, const char *path, bool as_root, int *fd)
{
  char canon[PATH_MAX], host[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  int r = df_sim_vfs_access(phone, canon, as_root, 4);
  if (r < 0) {
    return r;
  }
  df_sim_vfs_host(phone, canon, host, sizeof(host));
  struct stat hs;
  if (stat(host, &hs) < 0) {
    return DF_ENOENT;
  }
  if (S_ISDIR(hs.st_mode)) {
    return DF_EINVAL;
  }
  *fd = open(host, O_RDONLY | O_CLOEXEC);
  return *fd < 0 ? df_error_from_errno(errno) : 0;
}

struct df_sim_vfs_write {
  char canon[PATH_MAX];
  char tmp[PATH_MAX];
  uint32_t mode;
  bool as_root;
};

/* The deepest folder on the path that exists: a push may create folders
 * only where the caller may write. */
static void
existing_ancestor(const struct df_sim_phone *phone, const char *canon, char *out, size_t outlen)
{
  parent_of(canon, out, outlen);
  while (!df_sim_vfs_exists(phone, out) && strcmp(out, "/") != 0) {
    char up[PATH_MAX];
    parent_of(out, up, sizeof(up));
    snprintf(out, outlen, "%s", up);
  }
}

int
df_sim_vfs_write_begin(struct df_sim_phone *phone, const char *path, uint32_t mode,
                       bool as_root, struct df_sim_vfs_write **w, int *fd)
{
  char canon[PATH_MAX], anc[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  if (strcmp(canon, "/") == 0 || canon[0] == '\0') {
    return DF_EINVAL;
  }
  existing_ancestor(phone, canon, anc, sizeof(anc));
  if (!host_is_dir(phone, anc)) {
    return DF_EEXIST; /* a file where a folder should be */
  }
  int r = df_sim_vfs_access(phone, anc, as_root, 2 | 1);
  if (r < 0) {
    return r;
  }
  if (df_sim_vfs_exists(phone, canon)) {
    if (host_is_dir(phone, canon)) {
      return DF_EEXIST;
    }
    r = df_sim_vfs_access(phone, canon, as_root, 2);
    if (r < 0) {
      return r;
    }
  }
  struct df_sim_vfs_write *wr = calloc(1, sizeof(*wr));
  if (wr == NULL) {
    return DF_ENOMEM;
  }
  snprintf(wr->canon, sizeof(wr->canon), "%s", canon);
  wr->mode = mode;
  wr->as_root = as_root;
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/tmp", phone->state_dir);
  mkdir(dir, 0755);
  snprintf(wr->tmp, sizeof(wr->tmp), "%s/push-XXXXXX", dir);
  *fd = mkostemp(wr->tmp, O_CLOEXEC);
  if (*fd < 0) {
    r = df_error_from_errno(errno);
    free(wr);
    return r;
  }
  *w = wr;
  return 0;
}

int
df_sim_vfs_write_finish(struct df_sim_phone *phone, struct df_sim_vfs_write *w, bool ok,
                        int64_t mtime)
{
  int r = 0;
  if (!ok) {
    unlink(w->tmp);
    free(w);
    return 0;
  }
  char parent[PATH_MAX], host[PATH_MAX];
  parent_of(w->canon, parent, sizeof(parent));
  /* fixed_push_mkdir: missing folders are made as the pushing user. */
  uint32_t uid = w->as_root ? 0 : 2000, gid = uid;
  r = df_sim_vfs_mkdir_p(phone, parent, uid, gid, 0771);
  if (r == 0) {
    df_sim_vfs_host(phone, w->canon, host, sizeof(host));
    if (rename(w->tmp, host) < 0) {
      r = df_error_from_errno(errno);
      unlink(w->tmp);
    }
  } else {
    unlink(w->tmp);
  }
  if (r == 0) {
    if (!df_sim_kvs_get(&phone->meta, w->canon)) {
      df_sim_vfs_meta_set(phone, w->canon, uid, gid, (w->mode & 0777) ? (w->mode & 0777) : 0644);
    }
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(mtime - phone->clock_offset_s);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    utimensat(AT_FDCWD, host, ts, 0);
    df_sim_phone_changed(phone);
  }
  free(w);
  return r;
}
