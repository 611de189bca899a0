/* The streaming tar writer: libarchive's pax writer on a descriptor of
 * PATH.partial, entry sizes enforced here, and the rename to PATH only once
 * the end blocks are on disk. */
#include "core/archive_write.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "core/archive_lib.h"
#include "core/error.h"

struct df_archive_writer {
  struct archive *ar;
  int fd;
  bool sealed;
  bool failed;        /* a write failed: only abort is left */
  bool in_file;       /* a file header is out and its data is due */
  uint64_t remaining; /* bytes of the current file still due */
  uint64_t data_bytes;
  char path[4096];
  char partial[4200];
};

int
df_archive_name_check(const char *name)
{
  const char *p = name;

  if (name == NULL || name[0] == '\0' || name[0] == '/') return DF_EUNSAFE;
  while (*p != '\0') {
    const char *slash = strchr(p, '/');
    size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len == 0) return DF_EUNSAFE; /* "a//b" or a trailing slash */
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return DF_EUNSAFE;
    if (slash == NULL) break;
    p = slash + 1;
    if (*p == '\0') return DF_EUNSAFE;
  }
  return DF_OK;
}

static int
df_archive_writer_error(struct df_archive_writer *w)
{
  int e = df_la.archive_errno(w->ar);

  w->failed = true;
  if (e == ENOSPC) return DF_ENOSPC;
  if (e == ENOMEM) return DF_ENOMEM;
  return DF_EIO;
}

int
df_archive_writer_begin(const char *path, struct df_archive_writer **out)
{
  struct df_archive_writer *w;
  struct stat st;
  int rc;

  if (path == NULL || path[0] == '\0') return DF_EINVAL;
  if (strlen(path) >= sizeof(w->path)) return DF_ETOOBIG;
  if (lstat(path, &st) == 0) return DF_EEXIST;
  rc = df_archive_lib_load();
  if (rc != DF_OK) return rc;
  w = calloc(1, sizeof(*w));
  if (w == NULL) return DF_ENOMEM;
  snprintf(w->path, sizeof(w->path), "%s", path);
  snprintf(w->partial, sizeof(w->partial), "%s.partial", path);
  w->fd = open(w->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (w->fd < 0) {
    int err = df_error_from_errno(errno);
    free(w);
    return err;
  }
  w->ar = df_la.archive_write_new();
  if (w->ar == NULL || df_la.archive_write_set_format_pax_restricted(w->ar) != ARCHIVE_OK ||
      df_la.archive_write_open_fd(w->ar, w->fd) != ARCHIVE_OK) {
    int err = w->ar != NULL ? df_archive_writer_error(w) : DF_ENOMEM;
    df_archive_writer_abort(w);
    return err;
  }
  *out = w;
  return DF_OK;
}

const char *
df_archive_writer_partial_path(const struct df_archive_writer *w)
{
  return w->partial;
}

uint64_t
df_archive_writer_data_bytes(const struct df_archive_writer *w)
{
  return w->data_bytes;
}

/* Common start of an entry: the state allows one and the name is good. */
static int
df_archive_writer_ready(struct df_archive_writer *w, const char *name)
{
  if (w->sealed || w->failed) return DF_EINVAL;
  if (w->in_file && w->remaining > 0) return DF_EMISMATCH;
  w->in_file = false;
  return df_archive_name_check(name);
}

static int
df_archive_writer_header(struct df_archive_writer *w, const char *name, unsigned type,
                         uint64_t size, uint32_t mode, int64_t mtime)
{
  struct archive_entry *e = df_la.archive_entry_new();
  int rc;

  if (e == NULL) return DF_ENOMEM;
  df_la.archive_entry_set_pathname(e, name);
  df_la.archive_entry_set_filetype(e, type);
  df_la.archive_entry_set_perm(e, mode & 07777);
  df_la.archive_entry_set_size(e, (la_int64_t)size);
  df_la.archive_entry_set_mtime(e, (time_t)mtime, 0);
  rc = df_la.archive_write_header(w->ar, e);
  df_la.archive_entry_free(e);
  if (rc != ARCHIVE_OK) return df_archive_writer_error(w);
  return DF_OK;
}

int
df_archive_writer_add_file_header(struct df_archive_writer *w, const char *name, uint64_t size,
                                  uint32_t mode, int64_t mtime)
{
  int rc = df_archive_writer_ready(w, name);

  if (rc != DF_OK) return rc;
  if (size > (uint64_t)INT64_MAX) return DF_ETOOBIG;
  rc = df_archive_writer_header(w, name, AE_IFREG, size, (mode & 07777) ? mode : 0644, mtime);
  if (rc != DF_OK) return rc;
  w->in_file = true;
  w->remaining = size;
  return DF_OK;
}

int
df_archive_writer_add_data(struct df_archive_writer *w, const void *data, size_t len)
{
  const char *p = data;

  if (w->sealed || w->failed || !w->in_file) return DF_EINVAL;
  if ((uint64_t)len > w->remaining) return DF_ETOOBIG;
  while (len > 0) {
    la_ssize_t n = df_la.archive_write_data(w->ar, p, len);
    if (n <= 0) return df_archive_writer_error(w);
    p += n;
    len -= (size_t)n;
    w->remaining -= (uint64_t)n;
    w->data_bytes += (uint64_t)n;
  }
  return DF_OK;
}

int
df_archive_writer_add_buffer(struct df_archive_writer *w, const char *name, const void *data,
                             size_t len)
{
  int rc = df_archive_writer_add_file_header(w, name, len, 0644, (int64_t)time(NULL));

  if (rc == DF_OK && len > 0) rc = df_archive_writer_add_data(w, data, len);
  return rc;
}

int
df_archive_writer_add_dir(struct df_archive_writer *w, const char *name, uint32_t mode,
                          int64_t mtime)
{
  int rc = df_archive_writer_ready(w, name);

  if (rc != DF_OK) return rc;
  return df_archive_writer_header(w, name, AE_IFDIR, 0, (mode & 07777) ? mode : 0755, mtime);
}

int
df_archive_writer_seal(struct df_archive_writer *w)
{
  if (w->sealed) return DF_OK;
  if (w->failed) return DF_EINVAL;
  if (w->in_file && w->remaining > 0) return DF_EMISMATCH;
  if (df_la.archive_write_close(w->ar) != ARCHIVE_OK) return df_archive_writer_error(w);
  if (fsync(w->fd) != 0 || close(w->fd) != 0) {
    int err = df_error_from_errno(errno);
    w->fd = -1;
    w->failed = true;
    return err;
  }
  w->fd = -1;
  w->sealed = true;
  return DF_OK;
}

/* The rename is made durable by syncing the folder that holds both names. */
static void
df_archive_writer_sync_dir(const char *path)
{
  char copy[4096];
  int fd;

  snprintf(copy, sizeof(copy), "%s", path);
  fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

/* rename without ever replacing PATH: renameat2(RENAME_NOREPLACE), or on a
 * file system without it a hard link (which fails on an existing name) and
 * an unlink. */
static int
df_archive_writer_rename(const char *from, const char *to)
{
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return DF_OK;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return df_error_from_errno(errno);
  if (link(from, to) != 0) return df_error_from_errno(errno);
  unlink(from);
  return DF_OK;
}

int
df_archive_writer_finish(struct df_archive_writer *w)
{
  int rc = df_archive_writer_seal(w);

  if (rc == DF_OK) rc = df_archive_writer_rename(w->partial, w->path);
  if (rc == DF_OK) {
    df_archive_writer_sync_dir(w->path);
  } else if (rc != DF_EEXIST) {
    unlink(w->partial);
  }
  if (w->ar != NULL) df_la.archive_write_free(w->ar);
  if (w->fd >= 0) close(w->fd);
  free(w);
  return rc;
}

void
df_archive_writer_abort(struct df_archive_writer *w)
{
  if (w == NULL) return;
  /* Unlinked first: df_la.archive_write_free still writes the end blocks, into a
   * file that no longer has a name. */
  unlink(w->partial);
  if (w->ar != NULL) df_la.archive_write_free(w->ar);
  if (w->fd >= 0) close(w->fd);
  free(w);
}
