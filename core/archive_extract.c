/* Safe extraction: every entry is checked, written relative to a private
 * staging directory through descriptors opened with O_NOFOLLOW, and the
 * result is moved into place only when the whole archive passed. */
#include "core/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

#define DF_EXTRACT_BUF (1u << 20)
#define DF_EXTRACT_MAX_DEPTH 128
#define DF_EXTRACT_MAX_HOPS 40
#define DF_EXTRACT_STAGING_PREFIX ".df-extract-"

const struct df_extract_limits df_extract_default_limits = {
  .max_entry_size = UINT64_C(8) << 30,
  .max_total_size = UINT64_C(32) << 30,
  .max_entries = 1000000,
};

struct df_extract {
  struct df_archive *archive;
  int target_fd;
  int root_fd;                    /* the staging directory */
  char staging_name[32];
  const struct df_extract_limits *limits;
  struct df_extract_report *report;
  unsigned char *buf;
  char **symlinks;                /* normalized paths of symlinks made */
  size_t nsymlinks;
  size_t symlinks_cap;
};

/* Records why an entry is refused; returns err. */
static int
df_extract_refuse(struct df_extract *x, int err, const char *entry, const char *why)
{
  snprintf(x->report->bad_entry, sizeof(x->report->bad_entry), "%s", entry != NULL ? entry : "");
  snprintf(x->report->reason, sizeof(x->report->reason), "%s", why);
  return err;
}

static int
df_extract_errno(struct df_extract *x, const char *entry, const char *what)
{
  int err = df_error_from_errno(errno);
  char why[256];

  snprintf(why, sizeof(why), "%s: %s", what, strerror(errno));
  return df_extract_refuse(x, err, entry, why);
}

/* Joins the components of path, dropping "" and "." ones. Refuses absolute
 * paths and ".." anywhere. *depth gets the number of components. */
static int
df_extract_normalize(const char *path, char *out, size_t outlen, int *depth, const char **why)
{
  size_t n = 0;
  const char *p = path;

  *depth = 0;
  if (path[0] == '/') {
    *why = "absolute path";
    return DF_EUNSAFE;
  }
  while (*p != '\0') {
    const char *end = strchrnul(p, '/');
    size_t len = (size_t)(end - p);

    if (len == 2 && p[0] == '.' && p[1] == '.') {
      *why = "'..' component in path";
      return DF_EUNSAFE;
    }
    if (len > 0 && !(len == 1 && p[0] == '.')) {
      if (n + len + 2 > outlen || len > NAME_MAX) {
        *why = "path too long";
        return DF_EUNSAFE;
      }
      if (n > 0) out[n++] = '/';
      memcpy(out + n, p, len);
      n += len;
      (*depth)++;
    }
    p = *end == '/' ? end + 1 : end;
  }
  out[n] = '\0';
  if (*depth > DF_EXTRACT_MAX_DEPTH) {
    *why = "path nested too deep";
    return DF_EUNSAFE;
  }
  return DF_OK;
}

/* A relative path with no ".." component. */
static bool
df_extract_path_stays_inside(const char *path)
{
  const char *p = path;

  if (path[0] == '/') return false;
  while (*p != '\0') {
    const char *end = strchrnul(p, '/');
    if (end - p == 2 && p[0] == '.' && p[1] == '.') return false;
    p = *end == '/' ? end + 1 : end;
  }
  return true;
}

int
df_archive_entry_check(const struct df_archive_entry *e, const char **why)
{
  *why = "";
  if (e->path == NULL || e->path[0] == '\0') {
    *why = "empty path";
    return DF_EUNSAFE;
  }
  if (e->path[0] == '/') {
    *why = "absolute path";
    return DF_EUNSAFE;
  }
  if (!df_extract_path_stays_inside(e->path)) {
    *why = "'..' component in path";
    return DF_EUNSAFE;
  }
  if (e->type == DF_ARCHIVE_OTHER) {
    *why = "a device node, FIFO or socket";
    return DF_EUNSAFE;
  }
  if ((e->type == DF_ARCHIVE_SYMLINK || e->type == DF_ARCHIVE_HARDLINK) &&
      (e->link_target == NULL || e->link_target[0] == '\0' ||
       !df_extract_path_stays_inside(e->link_target))) {
    *why = e->type == DF_ARCHIVE_SYMLINK ? "a symbolic link leading out of the package"
                                         : "a hard link to a file outside the package";
    return DF_EUNSAFE;
  }
  return DF_OK;
}

/* Opens the directory holding the last component of rel (normalized),
 * never following a symlink; with create, missing directories are made.
 * *leaf points into rel. Returns a descriptor or a df error (with *why). */
static int
df_extract_open_parent(int root_fd, const char *rel, bool create, const char **leaf,
                       const char **why)
{
  char comp[NAME_MAX + 1];
  const char *p = rel;
  int fd = dup(root_fd);

  if (fd < 0) {
    *why = "dup";
    return df_error_from_errno(errno);
  }
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len;
    int next;

    if (slash == NULL) break;
    len = (size_t)(slash - p);
    memcpy(comp, p, len);
    comp[len] = '\0';
    next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(fd, comp, 0755) != 0 && errno != EEXIST) {
        int err = df_error_from_errno(errno);
        close(fd);
        *why = "cannot create a directory";
        return err;
      }
      next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      int e = errno;
      struct stat st;
      int err;

      if (e == ELOOP || e == ENOTDIR) {
        bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        *why = link ? "path passes through a symlink" : "path passes through a non-directory";
        err = DF_EUNSAFE;
      } else {
        *why = e == ENOENT ? "not extracted" : "cannot open a directory";
        err = df_error_from_errno(e);
      }
      close(fd);
      return err;
    }
    close(fd);
    fd = next;
    p = slash + 1;
  }
  *leaf = p;
  return fd;
}

/* Makes room for a new non-directory at dir_fd/leaf: an earlier entry of the
 * same name is unlinked (never followed); a directory there is refused. */
static int
df_extract_clear(int dir_fd, const char *leaf, const char **why)
{
  struct stat st;

  if (fstatat(dir_fd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return DF_OK;
    *why = "cannot inspect an earlier entry";
    return df_error_from_errno(errno);
  }
  if (S_ISDIR(st.st_mode)) {
    *why = "replaces a directory";
    return DF_EUNSAFE;
  }
  if (unlinkat(dir_fd, leaf, 0) != 0) {
    *why = "cannot replace an earlier entry";
    return df_error_from_errno(errno);
  }
  return DF_OK;
}

/* Pops the first component of rest into comp ("" when only slashes); false
 * when it is too long to be a name. */
static bool
df_extract_pop(char *rest, char *comp, size_t complen)
{
  size_t len = strcspn(rest, "/");
  size_t skip = len;

  if (len >= complen) return false;
  memcpy(comp, rest, len);
  comp[len] = '\0';
  while (rest[skip] == '/') skip++;
  memmove(rest, rest + skip, strlen(rest + skip) + 1);
  return true;
}

/* Follows a symlink's target from its directory the way the kernel would,
 * but over the staging tree, expanding the symlinks found there. DF_OK if
 * it stays inside; DF_EUNSAFE (with *why) if it ever climbs above the root
 * or turns absolute. Past a missing component the rest is taken
 * lexically. */
static int
df_extract_check_link(int root_fd, const char *dir, const char *target, const char **why)
{
  char cur[PATH_MAX];
  char rest[2 * PATH_MAX];
  char comp[NAME_MAX + 1];
  char link[PATH_MAX];
  bool exists = true;
  int hops = 0;

  if (target[0] == '\0') {
    *why = "symlink with an empty target";
    return DF_EUNSAFE;
  }
  if (target[0] == '/') {
    *why = "symlink target is absolute";
    return DF_EUNSAFE;
  }
  if (strlen(dir) >= sizeof(cur) || strlen(target) >= sizeof(rest)) {
    *why = "symlink target too long";
    return DF_EUNSAFE;
  }
  strcpy(cur, dir);
  strcpy(rest, target);
  while (rest[0] != '\0') {
    size_t curlen = strlen(cur);
    struct stat st;
    ssize_t n;

    if (!df_extract_pop(rest, comp, sizeof(comp))) {
      *why = "symlink target has a name too long";
      return DF_EUNSAFE;
    }
    if (comp[0] == '\0' || strcmp(comp, ".") == 0) continue;
    if (strcmp(comp, "..") == 0) {
      char *slash;

      if (curlen == 0) {
        *why = "symlink target leads outside the target directory";
        return DF_EUNSAFE;
      }
      slash = strrchr(cur, '/');
      if (slash != NULL) {
        *slash = '\0';
      } else {
        cur[0] = '\0';
      }
      continue;
    }
    if (curlen + strlen(comp) + 2 > sizeof(cur)) {
      *why = "symlink target too long";
      return DF_EUNSAFE;
    }
    if (curlen > 0) cur[curlen++] = '/';
    strcpy(cur + curlen, comp);
    if (!exists) continue;
    /* cur holds real directories only, so the kernel follows nothing here
     * but the last component, which AT_SYMLINK_NOFOLLOW keeps. */
    if (fstatat(root_fd, cur, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      exists = false;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++hops > DF_EXTRACT_MAX_HOPS) {
      *why = "symlinks loop";
      return DF_EUNSAFE;
    }
    n = readlinkat(root_fd, cur, link, sizeof(link) - 1);
    if (n < 0 || (size_t)n >= sizeof(link) - 1) {
      *why = "cannot read a symlink back";
      return DF_EUNSAFE;
    }
    link[n] = '\0';
    if (link[0] == '/') {
      *why = "symlink target leads outside the target directory";
      return DF_EUNSAFE;
    }
    if ((size_t)n + 1 + strlen(rest) + 1 > sizeof(rest)) {
      *why = "symlink target too long";
      return DF_EUNSAFE;
    }
    /* rest = link + "/" + rest; the link replaces its own component. */
    memmove(rest + n + 1, rest, strlen(rest) + 1);
    memcpy(rest, link, (size_t)n);
    rest[n] = '/';
    cur[curlen > 0 ? curlen - 1 : 0] = '\0';
  }
  return DF_OK;
}

static void
df_extract_dirname(const char *rel, char *dir, size_t dirlen)
{
  const char *slash = strrchr(rel, '/');
  size_t len = slash != NULL ? (size_t)(slash - rel) : 0;

  if (len >= dirlen) len = dirlen - 1;
  memcpy(dir, rel, len);
  dir[len] = '\0';
}

static int
df_extract_write_all(int fd, const unsigned char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return df_error_from_errno(errno);
    }
    p += n;
    len -= (size_t)n;
  }
  return DF_OK;
}

/* Copies the current entry's data into fd (or, when fd < 0, opens
 * dir_fd/leaf for writing at the first byte: a hardlink with data). Counts
 * the bytes against the limits as they come. */
static int
df_extract_copy(struct df_extract *x, const char *name, int fd, int dir_fd, const char *leaf)
{
  const struct df_extract_limits *lim = x->limits;
  uint64_t written = 0;
  bool opened = false;
  int rc = DF_OK;

  for (;;) {
    ssize_t n = df_archive_read(x->archive, x->buf, DF_EXTRACT_BUF);

    if (n == 0) break;
    if (n < 0) {
      rc = df_extract_refuse(x, (int)n, name, df_archive_error_message(x->archive));
      break;
    }
    if (lim->max_entry_size != 0 && written + (uint64_t)n > lim->max_entry_size) {
      rc = df_extract_refuse(x, DF_ETOOBIG, name, "entry larger than the size limit");
      break;
    }
    if (lim->max_total_size != 0 && x->report->bytes + (uint64_t)n > lim->max_total_size) {
      rc = df_extract_refuse(x, DF_ETOOBIG, name, "archive larger than the total size limit");
      break;
    }
    if (fd < 0) {
      fd = openat(dir_fd, leaf, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        rc = df_extract_errno(x, name, "cannot write a hardlinked file");
        break;
      }
      opened = true;
    }
    rc = df_extract_write_all(fd, x->buf, (size_t)n);
    if (rc != 0) {
      df_extract_refuse(x, rc, name, "cannot write");
      break;
    }
    written += (uint64_t)n;
    x->report->bytes += (uint64_t)n;
  }
  if (opened) close(fd);
  return rc;
}

static int
df_extract_file(struct df_extract *x, const char *name, const char *rel,
                const struct df_archive_entry *e)
{
  const struct df_extract_limits *lim = x->limits;
  const char *leaf, *why = NULL;
  int dir_fd, fd, rc;

  /* Headers that already claim too much are refused before any write. */
  if (e->size_known && lim->max_entry_size != 0 && e->size > lim->max_entry_size) {
    return df_extract_refuse(x, DF_ETOOBIG, name, "entry larger than the size limit");
  }
  if (e->size_known && lim->max_total_size != 0 &&
      e->size > lim->max_total_size - x->report->bytes) {
    return df_extract_refuse(x, DF_ETOOBIG, name, "archive larger than the total size limit");
  }
  dir_fd = df_extract_open_parent(x->root_fd, rel, true, &leaf, &why);
  if (dir_fd < 0) return df_extract_refuse(x, dir_fd, name, why);
  rc = df_extract_clear(dir_fd, leaf, &why);
  if (rc != 0) {
    close(dir_fd);
    return df_extract_refuse(x, rc, name, why);
  }
  fd = openat(dir_fd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    rc = df_extract_errno(x, name, "cannot create the file");
    close(dir_fd);
    return rc;
  }
  rc = df_extract_copy(x, name, fd, -1, NULL);
  if (rc == 0 && fchmod(fd, (e->mode & 0755) | 0400) != 0) {
    rc = df_extract_errno(x, name, "cannot set permissions");
  }
  if (close(fd) != 0 && rc == 0) rc = df_extract_errno(x, name, "cannot write");
  close(dir_fd);
  return rc;
}

static int
df_extract_dir(struct df_extract *x, const char *name, const char *rel,
               const struct df_archive_entry *e)
{
  const char *leaf, *why = NULL;
  int dir_fd, fd, rc = DF_OK;
  struct stat st;

  if (rel[0] == '\0') return DF_OK; /* "./": the root itself */
  dir_fd = df_extract_open_parent(x->root_fd, rel, true, &leaf, &why);
  if (dir_fd < 0) return df_extract_refuse(x, dir_fd, name, why);
  if (fstatat(dir_fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
    /* A directory entry replaces an earlier file or symlink of its name. */
    if (unlinkat(dir_fd, leaf, 0) != 0) {
      rc = df_extract_errno(x, name, "cannot replace an earlier entry");
      close(dir_fd);
      return rc;
    }
  }
  if (mkdirat(dir_fd, leaf, 0700) != 0 && errno != EEXIST) {
    rc = df_extract_errno(x, name, "cannot create the directory");
    close(dir_fd);
    return rc;
  }
  fd = openat(dir_fd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fchmod(fd, (e->mode & 0755) | 0700) != 0) {
    rc = df_extract_errno(x, name, "cannot set permissions");
  }
  if (fd >= 0) close(fd);
  close(dir_fd);
  return rc;
}

static int
df_extract_remember_symlink(struct df_extract *x, const char *rel)
{
  char *copy;

  if (x->nsymlinks == x->symlinks_cap) {
    size_t cap = x->symlinks_cap != 0 ? 2 * x->symlinks_cap : 16;
    char **grown = realloc(x->symlinks, cap * sizeof(*grown));
    if (grown == NULL) return DF_ENOMEM;
    x->symlinks = grown;
    x->symlinks_cap = cap;
  }
  copy = strdup(rel);
  if (copy == NULL) return DF_ENOMEM;
  x->symlinks[x->nsymlinks++] = copy;
  return DF_OK;
}

static int
df_extract_symlink(struct df_extract *x, const char *name, const char *rel,
                   const struct df_archive_entry *e)
{
  char dir[PATH_MAX];
  const char *leaf, *why = NULL;
  int dir_fd, rc;

  if (rel[0] == '\0') return df_extract_refuse(x, DF_EUNSAFE, name, "symlink replaces the root");
  /* The parent first: the check below walks it, and it must hold real
   * directories only. */
  dir_fd = df_extract_open_parent(x->root_fd, rel, true, &leaf, &why);
  if (dir_fd < 0) return df_extract_refuse(x, dir_fd, name, why);
  df_extract_dirname(rel, dir, sizeof(dir));
  rc = df_extract_check_link(x->root_fd, dir, e->link_target, &why);
  if (rc == 0) rc = df_extract_clear(dir_fd, leaf, &why);
  if (rc != 0) {
    close(dir_fd);
    return df_extract_refuse(x, rc, name, why);
  }
  if (symlinkat(e->link_target, dir_fd, leaf) != 0) {
    rc = df_extract_errno(x, name, "cannot create the symlink");
    close(dir_fd);
    return rc;
  }
  close(dir_fd);
  rc = df_extract_remember_symlink(x, rel);
  if (rc != 0) return df_extract_refuse(x, rc, name, "out of memory");
  return DF_OK;
}

static int
df_extract_hardlink(struct df_extract *x, const char *name, const char *rel,
                    const struct df_archive_entry *e)
{
  char target[PATH_MAX];
  const char *leaf, *tleaf, *why = NULL;
  int depth, tdir_fd, dir_fd, rc;
  struct stat st;

  rc = df_extract_normalize(e->link_target, target, sizeof(target), &depth, &why);
  if (rc != 0) {
    /* Name the problem as the hardlink's, not the entry path's. */
    if (e->link_target[0] == '/') why = "hardlink target is absolute";
    else if (strcmp(why, "'..' component in path") == 0) why = "hardlink target has a '..' component";
    return df_extract_refuse(x, rc, name, why);
  }
  if (target[0] == '\0' || rel[0] == '\0' || strcmp(target, rel) == 0) {
    return df_extract_refuse(x, DF_EUNSAFE, name, "hardlink to itself or to the root");
  }
  tdir_fd = df_extract_open_parent(x->root_fd, target, false, &tleaf, &why);
  if (tdir_fd < 0) {
    if (tdir_fd == DF_ENOENT) why = "hardlink target was not extracted";
    else if (tdir_fd == DF_EUNSAFE) why = "hardlink target lies behind a symlink";
    return df_extract_refuse(x, tdir_fd == DF_ENOENT ? DF_EUNSAFE : tdir_fd, name, why);
  }
  if (fstatat(tdir_fd, tleaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    close(tdir_fd);
    return df_extract_refuse(x, DF_EUNSAFE, name, "hardlink target was not extracted");
  }
  if (!S_ISREG(st.st_mode)) {
    close(tdir_fd);
    return df_extract_refuse(x, DF_EUNSAFE, name, "hardlink target is not a regular file");
  }
  dir_fd = df_extract_open_parent(x->root_fd, rel, true, &leaf, &why);
  if (dir_fd < 0) {
    close(tdir_fd);
    return df_extract_refuse(x, dir_fd, name, why);
  }
  rc = df_extract_clear(dir_fd, leaf, &why);
  if (rc != 0) {
    df_extract_refuse(x, rc, name, why);
  } else if (linkat(tdir_fd, tleaf, dir_fd, leaf, 0) != 0) {
    rc = df_extract_errno(x, name, "cannot create the hardlink");
  } else {
    /* Some tar and cpio writers put a file's data on its last link. */
    rc = df_extract_copy(x, name, -1, dir_fd, leaf);
  }
  close(dir_fd);
  close(tdir_fd);
  return rc;
}

static const char *
df_extract_other_reason(uint32_t mode)
{
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "device node";
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISSOCK(mode)) return "socket";
  return "unsupported entry type";
}

static int
df_extract_entry(struct df_extract *x, const struct df_archive_entry *e)
{
  char rel[PATH_MAX];
  const char *why = NULL;
  int depth, rc;

  if (x->limits->max_entries != 0 && x->report->entries >= x->limits->max_entries) {
    return df_extract_refuse(x, DF_ETOOBIG, e->path, "more entries than the limit");
  }
  rc = df_extract_normalize(e->path, rel, sizeof(rel), &depth, &why);
  if (rc != 0) return df_extract_refuse(x, rc, e->path, why);
  if (rel[0] == '\0' && e->type != DF_ARCHIVE_DIR) {
    return df_extract_refuse(x, DF_EUNSAFE, e->path, "empty path");
  }
  switch (e->type) {
  case DF_ARCHIVE_FILE: rc = df_extract_file(x, e->path, rel, e); break;
  case DF_ARCHIVE_DIR: rc = df_extract_dir(x, e->path, rel, e); break;
  case DF_ARCHIVE_SYMLINK: rc = df_extract_symlink(x, e->path, rel, e); break;
  case DF_ARCHIVE_HARDLINK: rc = df_extract_hardlink(x, e->path, rel, e); break;
  default:
    rc = df_extract_refuse(x, DF_EUNSAFE, e->path, df_extract_other_reason(e->mode));
    break;
  }
  if (rc == 0) x->report->entries++;
  return rc;
}

/* Once everything is out: a symlink made early may lead outside through
 * symlinks made after it. */
static int
df_extract_recheck_symlinks(struct df_extract *x)
{
  for (size_t i = 0; i < x->nsymlinks; i++) {
    char dir[PATH_MAX], target[PATH_MAX];
    const char *why = NULL;
    struct stat st;
    ssize_t n;
    int rc;

    if (fstatat(x->root_fd, x->symlinks[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISLNK(st.st_mode)) {
      continue; /* replaced by a later entry */
    }
    n = readlinkat(x->root_fd, x->symlinks[i], target, sizeof(target) - 1);
    if (n < 0) return df_extract_errno(x, x->symlinks[i], "cannot read a symlink back");
    target[n] = '\0';
    df_extract_dirname(x->symlinks[i], dir, sizeof(dir));
    rc = df_extract_check_link(x->root_fd, dir, target, &why);
    if (rc != 0) return df_extract_refuse(x, rc, x->symlinks[i], why);
  }
  return DF_OK;
}

/* Removes dir_fd/name and everything below it, following no symlink.
 * Depth is bounded by DF_EXTRACT_MAX_DEPTH, so the recursion is too. */
static void
df_extract_rmtree(int dir_fd, const char *name)
{
  int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d;
  struct dirent *de;

  if (fd < 0) {
    unlinkat(dir_fd, name, 0);
    return;
  }
  d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return;
  }
  while ((de = readdir(d)) != NULL) {
    struct stat st;

    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      df_extract_rmtree(fd, de->d_name);
    } else {
      unlinkat(fd, de->d_name, 0);
    }
  }
  closedir(d);
  unlinkat(dir_fd, name, AT_REMOVEDIR);
}

/* Moves every top-level name of the staging directory into target_dir,
 * after checking that none is taken. */
static int
df_extract_move_into_place(struct df_extract *x)
{
  int fd = dup(x->root_fd);
  DIR *d;
  struct dirent *de;
  int rc = DF_OK;

  if (fd < 0) return df_extract_errno(x, "", "dup");
  d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return df_extract_errno(x, "", "cannot list the staging directory");
  }
  for (int pass = 0; pass < 2 && rc == 0; pass++) {
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
      struct stat st;

      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      if (pass == 0) {
        if (fstatat(x->target_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
          rc = df_extract_refuse(x, DF_EEXIST, de->d_name,
                                 "already exists in the target directory");
          break;
        }
        continue;
      }
      if (renameat2(x->root_fd, de->d_name, x->target_fd, de->d_name, RENAME_NOREPLACE) != 0) {
        /* Filesystems without RENAME_NOREPLACE: pass 0 checked already. */
        if (errno != EINVAL ||
            renameat(x->root_fd, de->d_name, x->target_fd, de->d_name) != 0) {
          rc = df_extract_errno(x, de->d_name, "cannot move into the target directory");
          break;
        }
      }
    }
  }
  closedir(d);
  return rc;
}

static int
df_extract_run(struct df_extract *x, const char *archive_path, const char *target_dir)
{
  struct df_archive_entry e;
  char staging[PATH_MAX];
  int rc;

  x->target_fd = open(target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (x->target_fd < 0) return df_extract_errno(x, "", "cannot open the target directory");
  rc = df_archive_open(archive_path, &x->archive);
  if (rc != 0) return df_extract_refuse(x, rc, "", "cannot open the archive");
  x->buf = malloc(DF_EXTRACT_BUF);
  if (x->buf == NULL) return df_extract_refuse(x, DF_ENOMEM, "", "out of memory");
  if ((size_t)snprintf(staging, sizeof(staging), "%s/%sXXXXXX", target_dir,
                       DF_EXTRACT_STAGING_PREFIX) >= sizeof(staging)) {
    return df_extract_refuse(x, DF_EINVAL, "", "target directory path too long");
  }
  if (mkdtemp(staging) == NULL) return df_extract_errno(x, "", "cannot create a staging directory");
  snprintf(x->staging_name, sizeof(x->staging_name), "%s", strrchr(staging, '/') + 1);
  x->root_fd = openat(x->target_fd, x->staging_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (x->root_fd < 0) return df_extract_errno(x, "", "cannot open the staging directory");
  for (;;) {
    rc = df_archive_next(x->archive, &e);
    if (rc == 0) break;
    if (rc < 0) return df_extract_refuse(x, rc, "", df_archive_error_message(x->archive));
    rc = df_extract_entry(x, &e);
    if (rc != 0) return rc;
  }
  rc = df_extract_recheck_symlinks(x);
  if (rc != 0) return rc;
  return df_extract_move_into_place(x);
}

int
df_archive_extract_report(const char *archive_path, const char *target_dir,
                          const struct df_extract_limits *limits,
                          struct df_extract_report *report)
{
  struct df_extract x;
  int rc;

  if (report == NULL) return DF_EINVAL;
  memset(report, 0, sizeof(*report));
  if (archive_path == NULL || target_dir == NULL) return DF_EINVAL;
  memset(&x, 0, sizeof(x));
  x.target_fd = -1;
  x.root_fd = -1;
  x.report = report;
  x.limits = limits != NULL ? limits : &df_extract_default_limits;
  rc = df_extract_run(&x, archive_path, target_dir);
  if (x.root_fd >= 0) close(x.root_fd);
  /* On success only the empty staging directory is left; on failure all
   * of it goes. */
  if (x.staging_name[0] != '\0') df_extract_rmtree(x.target_fd, x.staging_name);
  if (x.target_fd >= 0) close(x.target_fd);
  df_archive_close(x.archive);
  free(x.buf);
  for (size_t i = 0; i < x.nsymlinks; i++) free(x.symlinks[i]);
  free(x.symlinks);
  if (rc == 0) report->reason[0] = '\0';
  return rc;
}

int
df_archive_extract(const char *archive_path, const char *target_dir,
                   const struct df_extract_limits *limits, char *bad_entry,
                   size_t bad_entry_len)
{
  struct df_extract_report *report = calloc(1, sizeof(*report));
  int rc;

  if (report == NULL) return DF_ENOMEM;
  rc = df_archive_extract_report(archive_path, target_dir, limits, report);
  if (bad_entry != NULL && bad_entry_len > 0) {
    snprintf(bad_entry, bad_entry_len, "%s", report->bad_entry);
  }
  free(report);
  return rc;
}
