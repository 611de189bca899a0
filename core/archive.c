/* The streaming archive reader: libarchive, entry by entry, with damage
 * reported as DF_ECORRUPT wherever libarchive would let it pass.
 *
 * gzip is undone here (core/gzip_stream.c: zlib's raw inflate, our header
 * and trailer checks, df_crc32) rather than by libarchive, whose gzip filter
 * never checks the trailer's CRC-32 and length (3.6: "XXX TODO: Verify the
 * length and CRC"): a flipped byte in a stored deflate block would otherwise
 * go unnoticed. A walk opened with df_archive_open_indexed also notes where
 * each entry's data lies (core/archive_index.h). And tar is read to the
 * very end of its stream
 * (read_concatenated_archives), so every compression layer reaches its own
 * end and checks it. */
#include "core/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/archive_index.h"
#include "core/archive_lib.h"
#include "core/error.h"
#include "core/gzip_stream.h"

/* 1 MiB blocks: fewer syscalls; a 1 GiB .tgz reads as fast as tar -xzO. */
#define DF_ARCHIVE_BLOCK (1u << 20)

/* Our gzip layer: the file, inflated by core/gzip_stream.c (which checks
 * every member's CRC-32 and length), handed to libarchive as an
 * uncompressed stream. */
struct df_archive_gz {
  struct df_gz *gz;
  unsigned char *out;
};

struct df_archive {
  struct archive *ar;
  struct df_archive_gz *gz; /* NULL unless the file is gzip */
  int err;              /* sticky: the first error */
  char msg[512];        /* our own words for checks libarchive lacks */
  bool in_entry;        /* df_archive_next returned 1 and data may be read */
  bool at_end;          /* df_archive_next returned 0 */
  bool check_size;      /* regular file with a size in its header */
  uint64_t expect_size;
  uint64_t entry_read;
  /* df_archive_open_indexed: where each entry's data lies */
  bool indexing;
  struct stat st;                          /* the file when it was opened */
  struct df_archive_index_entry *ix;
  size_t nix, capix;
  bool ix_pending;                         /* ix[nix - 1] awaits its end check */
  bool ix_failed;                          /* out of memory: publish nothing */
};

static int
df_archive_fail(struct df_archive *a, int err, const char *msg)
{
  a->err = err;
  a->in_entry = false;
  snprintf(a->msg, sizeof(a->msg), "%s", msg != NULL ? msg : "");
  return err;
}

/* After an ARCHIVE_FATAL (or a WARN/RETRY we refuse to accept). Damage is
 * what libarchive reports most; only memory and I/O errors are told apart. */
static int
df_archive_fail_from_libarchive(struct df_archive *a)
{
  int e = df_la.archive_errno(a->ar);
  int err;
  const char *msg = df_la.archive_error_string(a->ar);

  if (e == ENOMEM) {
    err = DF_ENOMEM;
  } else if (e == EIO) {
    err = DF_EIO;
  } else {
    err = DF_ECORRUPT;
  }
  return df_archive_fail(a, err, msg != NULL ? msg : "archive error");
}

static int
df_archive_support(struct archive *ar)
{
  /* Explicit lists: no "raw" (any file would be an archive), no "empty"
   * (a 0-byte file would be a valid empty archive), no "mtree" (it names
   * files on this host and reads them), and zip only through its central
   * directory (the streaming zip reader takes a cut zip for a short one). */
  int (*const formats[])(struct archive *) = {
    df_la.archive_read_support_format_7zip,    df_la.archive_read_support_format_ar,
    df_la.archive_read_support_format_cab,     df_la.archive_read_support_format_cpio,
    df_la.archive_read_support_format_iso9660, df_la.archive_read_support_format_lha,
    df_la.archive_read_support_format_rar,     df_la.archive_read_support_format_rar5,
    df_la.archive_read_support_format_tar,     df_la.archive_read_support_format_warc,
    df_la.archive_read_support_format_xar,     df_la.archive_read_support_format_zip_seekable,
  };
  /* Filters built into libarchive; none that would run an external program
   * picked by the input (lrzip, lzop, grzip). */
  int (*const filters[])(struct archive *) = {
    df_la.archive_read_support_filter_gzip, df_la.archive_read_support_filter_bzip2,
    df_la.archive_read_support_filter_xz,   df_la.archive_read_support_filter_lzma,
    df_la.archive_read_support_filter_lzip, df_la.archive_read_support_filter_zstd,
    df_la.archive_read_support_filter_lz4,  df_la.archive_read_support_filter_compress,
  };

  for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
    if (formats[i](ar) < ARCHIVE_WARN) return DF_ENOMEM;
  }
  /* ARCHIVE_WARN here means "through an external program": allowed only for
   * those listed, which Debian's libarchive has built in anyway. */
  for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
    if (filters[i](ar) < ARCHIVE_WARN) return DF_ENOMEM;
  }
  /* Past the end-of-archive blocks to the end of the stream: the
   * compression layers below then reach their own ends and check them
   * (xz, bzip2, zstd and our gzip verify a checksum there). */
  if (df_la.archive_read_set_format_option(ar, "tar", "read_concatenated_archives", "1") !=
      ARCHIVE_OK) {
    return DF_ENOMEM;
  }
  return DF_OK;
}

static la_ssize_t
df_archive_gz_read(struct archive *ar, void *client, const void **buf)
{
  struct df_archive_gz *g = client;
  ssize_t n = df_gz_read(g->gz, g->out, DF_ARCHIVE_BLOCK);

  if (n < 0) {
    int e = n == DF_ENOMEM ? ENOMEM : n == DF_ECORRUPT ? EILSEQ : EIO;
    df_la.archive_set_error(ar, e, "%s", df_gz_error(g->gz));
    return ARCHIVE_FATAL;
  }
  *buf = g->out;
  return (la_ssize_t)n;
}

static void
df_archive_gz_free(struct df_archive_gz *g)
{
  if (g == NULL) return;
  df_gz_free(g->gz);
  free(g->out);
  free(g);
}

/* Takes fd. DF_ENOMEM, or DF_OK with a->gz ready. */
static int
df_archive_gz_new(struct df_archive *a, int fd)
{
  struct df_archive_gz *g = calloc(1, sizeof(*g));
  int rc;

  if (g == NULL) {
    close(fd);
    return DF_ENOMEM;
  }
  rc = df_gz_new(fd, &g->gz);
  g->out = malloc(DF_ARCHIVE_BLOCK);
  if (rc != DF_OK || g->out == NULL) {
    df_archive_gz_free(g);
    return DF_ENOMEM;
  }
  /* an access point every 32 MiB: an entry read from the index never
   * inflates more than that before its first byte */
  if (a->indexing) df_gz_index_start(g->gz, 32u << 20);
  a->gz = g;
  return DF_OK;
}

/* Opens path; says whether it starts with gzip's magic and deflate. */
static int
df_archive_open_fd(const char *path, bool *is_gzip)
{
  unsigned char magic[3];
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0) return df_error_from_errno(errno);
  *is_gzip = pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) && magic[0] == 0x1f &&
             magic[1] == 0x8b && magic[2] == 8;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

static int
df_archive_open_mode(const char *path, bool indexing, struct df_archive **out)
{
  struct df_archive *a;
  struct stat st;
  bool is_gzip = false;
  int rc, fd, r;

  if (path == NULL || out == NULL) return DF_EINVAL;
  if (stat(path, &st) != 0) return df_error_from_errno(errno);
  if (S_ISDIR(st.st_mode)) return DF_EIO;
  rc = df_archive_lib_load();
  if (rc != DF_OK) return rc;
  fd = df_archive_open_fd(path, &is_gzip);
  if (fd < 0) return fd;
  a = calloc(1, sizeof(*a));
  if (a == NULL) {
    close(fd);
    return DF_ENOMEM;
  }
  a->indexing = indexing && is_gzip && fstat(fd, &a->st) == 0;
  a->ar = df_la.archive_read_new();
  if (a->ar == NULL) {
    close(fd);
    free(a);
    return DF_ENOMEM;
  }
  rc = df_archive_support(a->ar);
  if (rc == 0 && is_gzip) {
    rc = df_archive_gz_new(a, fd);
  } else {
    close(fd);
  }
  if (rc != 0) {
    df_archive_close(a);
    return rc;
  }
  if (a->gz != NULL) {
    r = df_la.archive_read_open(a->ar, a->gz, NULL, df_archive_gz_read, NULL);
  } else {
    r = df_la.archive_read_open_filename(a->ar, path, DF_ARCHIVE_BLOCK);
  }
  if (r != ARCHIVE_OK) {
    int e = df_la.archive_errno(a->ar);
    df_archive_close(a);
    if (e == ENOENT || e == EACCES || e == ENOMEM || e == EIO || e == EISDIR ||
        e == ENOTDIR || e == EPERM) {
      return df_error_from_errno(e);
    }
    /* A filter that could not start on this data: damage. */
    return DF_ECORRUPT;
  }
  *out = a;
  return DF_OK;
}

int
df_archive_open(const char *path, struct df_archive **out)
{
  return df_archive_open_mode(path, false, out);
}

int
df_archive_open_indexed(const char *path, struct df_archive **out)
{
  return df_archive_open_mode(path, true, out);
}

/* ---- the index of an indexed walk ---- */

static void
df_archive_ix_drop(struct df_archive *a)
{
  for (size_t i = 0; i < a->nix; i++) free(a->ix[i].path);
  free(a->ix);
  a->ix = NULL;
  a->nix = a->capix = 0;
  a->ix_pending = false;
}

/* The entry before ends where the stream is now (pos, once its data and
 * padding were consumed): only then is its data whole and in place at
 * data_off (a GNU sparse entry, for one, stores less than its size). */
static void
df_archive_ix_end(struct df_archive *a, int64_t pos)
{
  struct df_archive_index_entry *e;

  if (!a->ix_pending) return;
  a->ix_pending = false;
  e = &a->ix[a->nix - 1];
  if (e->usable && (uint64_t)pos != e->data_off + e->size + ((512u - e->size % 512u) % 512u))
    e->usable = 0;
}

/* Notes an entry just read (its data starts where the stream is). */
static void
df_archive_ix_add(struct df_archive *a, const struct df_archive_entry *e)
{
  struct df_archive_index_entry *x;
  char norm[4096];
  size_t n;

  if (a->ix_failed) return;
  if (a->nix == a->capix) {
    size_t cap = a->capix == 0 ? 64 : a->capix * 2;
    struct df_archive_index_entry *grown = realloc(a->ix, cap * sizeof(*grown));
    if (grown == NULL) goto oom;
    a->ix = grown;
    a->capix = cap;
  }
  n = df_archive_index_norm(e->path, norm, sizeof(norm));
  x = &a->ix[a->nix];
  x->path = strdup(n > 0 ? norm : "");
  if (x->path == NULL) goto oom;
  x->data_off = (uint64_t)df_la.archive_filter_bytes(a->ar, 0);
  x->size = e->size;
  x->usable = n > 0 && e->type == DF_ARCHIVE_FILE && e->size_known &&
              (df_la.archive_format(a->ar) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
  a->nix++;
  a->ix_pending = true;
  if (x->usable && df_gz_keep(a->gz->gz, x->data_off) != DF_OK) goto oom;
  return;
oom:
  a->ix_failed = true;
  df_archive_ix_drop(a);
}

/* The walk reached its clean end: remembered if the file is still the one
 * opened and the gzip stream was read to its last trailer. */
static void
df_archive_ix_publish(struct df_archive *a)
{
  struct stat now;
  struct df_gz_point *pts;
  size_t npts;

  if (a->ix_failed || !df_gz_at_end(a->gz->gz)) return;
  if (df_gz_stat(a->gz->gz, &now) != DF_OK || now.st_dev != a->st.st_dev ||
      now.st_ino != a->st.st_ino || now.st_size != a->st.st_size ||
      now.st_mtim.tv_sec != a->st.st_mtim.tv_sec || now.st_mtim.tv_nsec != a->st.st_mtim.tv_nsec ||
      now.st_ctim.tv_sec != a->st.st_ctim.tv_sec || now.st_ctim.tv_nsec != a->st.st_ctim.tv_nsec)
    return;
  npts = df_gz_take_points(a->gz->gz, &pts);
  (void)df_archive_index_publish(&a->st, a->ix, a->nix, pts, npts);
  a->ix = NULL;
  a->nix = a->capix = 0;
}

/* A tar stream ends with zero blocks; libarchive also takes plain EOF at a
 * block boundary as the end, which is how a tar cut between two entries
 * looks. The zero block is consumed when seen, so the end is real only if
 * the format consumed bytes in the call that reported it. */
static bool
df_archive_tar_end_missing(struct archive *ar, int64_t pos_before)
{
  if ((df_la.archive_format(ar) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR)
    return false;
  return df_la.archive_filter_bytes(ar, 0) == pos_before;
}

static bool
df_archive_warn_is_charset(struct archive *ar)
{
  const char *msg = df_la.archive_error_string(ar);

  return msg != NULL && strstr(msg, " be converted from ") != NULL;
}

static void
df_archive_fill(struct archive_entry *ent, struct df_archive_entry *e)
{
  const char *hardlink = df_la.archive_entry_hardlink(ent);
  mode_t type = df_la.archive_entry_filetype(ent);

  e->path = df_la.archive_entry_pathname(ent);
  if (e->path == NULL) e->path = df_la.archive_entry_pathname_utf8(ent);
  e->mode = (uint32_t)df_la.archive_entry_mode(ent);
  e->size_known =
    df_la.archive_entry_size_is_set(ent) != 0 && df_la.archive_entry_size(ent) >= 0;
  e->size = e->size_known ? (uint64_t)df_la.archive_entry_size(ent) : 0;
  e->link_target = NULL;
  if (hardlink != NULL) {
    e->type = DF_ARCHIVE_HARDLINK;
    e->link_target = hardlink;
  } else if (type == AE_IFREG) {
    e->type = DF_ARCHIVE_FILE;
  } else if (type == AE_IFDIR) {
    e->type = DF_ARCHIVE_DIR;
  } else if (type == AE_IFLNK) {
    e->type = DF_ARCHIVE_SYMLINK;
    e->link_target = df_la.archive_entry_symlink(ent);
    if (e->link_target == NULL) e->link_target = df_la.archive_entry_symlink_utf8(ent);
    if (e->link_target == NULL) e->link_target = "";
  } else {
    e->type = DF_ARCHIVE_OTHER;
  }
}

int
df_archive_next(struct df_archive *a, struct df_archive_entry *e)
{
  struct archive_entry *ent;
  int64_t pos_before;
  int r;

  if (a == NULL || e == NULL) return DF_EINVAL;
  if (a->err != 0) return a->err;
  if (a->at_end) return 0;
  if (a->in_entry) {
    /* Skipping a truncated entry fails here, not silently in the next
     * header read. */
    a->in_entry = false;
    if (df_la.archive_read_data_skip(a->ar) != ARCHIVE_OK)
      return df_archive_fail_from_libarchive(a);
  }
  pos_before = df_la.archive_filter_bytes(a->ar, 0);
  if (a->indexing) df_archive_ix_end(a, pos_before);
  r = df_la.archive_read_next_header(a->ar, &ent);
  if (r == ARCHIVE_EOF) {
    if (df_archive_tar_end_missing(a->ar, pos_before)) {
      return df_archive_fail(a, DF_ECORRUPT,
                             "tar archive ends without its end-of-archive blocks "
                             "(truncated)");
    }
    a->at_end = true;
    if (a->indexing) df_archive_ix_publish(a);
    return 0;
  }
  /* A WARN about a name that does not convert to the locale's charset
   * leaves the entry whole. Every other WARN from a header reader (zip's
   * "Inconsistent CRC32 values", "Truncated ZIP file header", tar's
   * malformed pax records, cpio's skipped bytes) is damage, and so is RETRY
   * (a bad tar header checksum). */
  if (r != ARCHIVE_OK && !(r == ARCHIVE_WARN && df_archive_warn_is_charset(a->ar))) {
    return df_archive_fail_from_libarchive(a);
  }
  df_archive_fill(ent, e);
  if (e->path == NULL) return df_archive_fail(a, DF_ECORRUPT, "entry without a name");
  if (a->indexing) df_archive_ix_add(a, e);
  a->in_entry = true;
  a->check_size = e->type == DF_ARCHIVE_FILE && e->size_known;
  a->expect_size = e->size;
  a->entry_read = 0;
  a->msg[0] = '\0';
  return 1;
}

ssize_t
df_archive_read(struct df_archive *a, void *buf, size_t len)
{
  la_ssize_t n;

  if (a == NULL || buf == NULL || len == 0) return DF_EINVAL;
  if (a->err != 0) return a->err;
  if (!a->in_entry) return 0;
  n = df_la.archive_read_data(a->ar, buf, len);
  if (n < 0) {
    /* WARN from the data side is a failed CRC or a size mismatch (zip):
     * the bytes already handed out were wrong. */
    return df_archive_fail_from_libarchive(a);
  }
  if (n > 0) {
    a->entry_read += (uint64_t)n;
    if (a->check_size && a->entry_read > a->expect_size) {
      return df_archive_fail(a, DF_ECORRUPT, "entry data runs past the size in its header");
    }
    return n;
  }
  if (a->check_size && a->entry_read != a->expect_size) {
    return df_archive_fail(a, DF_ECORRUPT, "entry data is shorter than the size in its header");
  }
  return 0;
}

const char *
df_archive_error_message(const struct df_archive *a)
{
  const char *msg;

  if (a == NULL) return "";
  if (a->msg[0] != '\0') return a->msg;
  msg = df_la.archive_error_string(a->ar);
  return msg != NULL ? msg : "";
}

const char *
df_archive_format_name(const struct df_archive *a)
{
  const char *name;

  if (a == NULL) return "";
  name = df_la.archive_format_name(a->ar);
  return name != NULL ? name : "";
}

void
df_archive_close(struct df_archive *a)
{
  if (a == NULL) return;
  df_la.archive_read_free(a->ar);
  df_archive_gz_free(a->gz);
  df_archive_ix_drop(a);
  free(a);
}
