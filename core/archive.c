/* The streaming archive reader: libarchive, entry by entry, with damage
 * reported as DF_ECORRUPT wherever libarchive would let it pass.
 *
 * gzip is undone here with zlib rather than by libarchive, whose gzip filter
 * never checks the trailer's CRC-32 and length (3.6: "XXX TODO: Verify the
 * length and CRC"): a flipped byte in a stored deflate block would otherwise
 * go unnoticed. And tar is read to the very end of its stream
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

#include <zlib.h>

#include "core/archive_lib.h"
#include "core/error.h"

/* 1 MiB blocks: fewer syscalls; a 1 GiB .tgz reads as fast as tar -xzO. */
#define DF_ARCHIVE_BLOCK (1u << 20)

/* Our gzip layer: the file, inflated by zlib (which checks every member's
 * CRC-32 and length), handed to libarchive as an uncompressed stream. */
struct df_archive_gz {
  int fd;
  z_stream zs;
  bool zs_ready;
  bool in_member;       /* inside a gzip member: input may not end here */
  bool in_eof;
  bool done;
  unsigned char *in;
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

  if (g->done) return 0;
  g->zs.next_out = g->out;
  g->zs.avail_out = DF_ARCHIVE_BLOCK;
  while (g->zs.avail_out == DF_ARCHIVE_BLOCK) {
    int r;

    if (g->zs.avail_in == 0 && !g->in_eof) {
      ssize_t n = read(g->fd, g->in, DF_ARCHIVE_BLOCK);
      if (n < 0) {
        if (errno == EINTR) continue;
        df_la.archive_set_error(ar, errno, "read error: %s", strerror(errno));
        return ARCHIVE_FATAL;
      }
      if (n == 0) {
        g->in_eof = true;
      } else {
        g->zs.next_in = g->in;
        g->zs.avail_in = (uInt)n;
      }
    }
    if (g->zs.avail_in == 0 && g->in_eof) {
      if (g->in_member) {
        df_la.archive_set_error(ar, EILSEQ, "truncated gzip input");
        return ARCHIVE_FATAL;
      }
      g->done = true;
      break;
    }
    if (!g->in_member) {
      /* A new member (the first, or one concatenated after another). */
      if (inflateReset(&g->zs) != Z_OK) {
        df_la.archive_set_error(ar, ENOMEM, "gzip reset failed");
        return ARCHIVE_FATAL;
      }
      g->in_member = true;
    }
    r = inflate(&g->zs, Z_NO_FLUSH);
    if (r == Z_STREAM_END) {
      g->in_member = false; /* the trailer's CRC and length matched */
    } else if (r == Z_MEM_ERROR) {
      df_la.archive_set_error(ar, ENOMEM, "out of memory in gzip");
      return ARCHIVE_FATAL;
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      df_la.archive_set_error(ar, EILSEQ, "gzip data is corrupt: %s",
                        g->zs.msg != NULL ? g->zs.msg : "inflate error");
      return ARCHIVE_FATAL;
    }
  }
  *buf = g->out;
  return (la_ssize_t)(DF_ARCHIVE_BLOCK - g->zs.avail_out);
}

static void
df_archive_gz_free(struct df_archive_gz *g)
{
  if (g == NULL) return;
  if (g->zs_ready) inflateEnd(&g->zs);
  if (g->fd >= 0) close(g->fd);
  free(g->in);
  free(g->out);
  free(g);
}

/* Takes fd. DF_ENOMEM, or DF_OK with a->gz ready. */
static int
df_archive_gz_new(struct df_archive *a, int fd)
{
  struct df_archive_gz *g = calloc(1, sizeof(*g));

  if (g == NULL) {
    close(fd);
    return DF_ENOMEM;
  }
  g->fd = fd;
  g->in = malloc(DF_ARCHIVE_BLOCK);
  g->out = malloc(DF_ARCHIVE_BLOCK);
  /* 16 + 15: gzip wrapper only, largest window. */
  if (g->in == NULL || g->out == NULL || inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
    df_archive_gz_free(g);
    return DF_ENOMEM;
  }
  g->zs_ready = true;
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

int
df_archive_open(const char *path, struct df_archive **out)
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
  r = df_la.archive_read_next_header(a->ar, &ent);
  if (r == ARCHIVE_EOF) {
    if (df_archive_tar_end_missing(a->ar, pos_before)) {
      return df_archive_fail(a, DF_ECORRUPT,
                             "tar archive ends without its end-of-archive blocks "
                             "(truncated)");
    }
    a->at_end = true;
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
  free(a);
}
