/* Archives through libarchive, with no libarchive type in sight: a streaming
 * reader (entry by entry, data read in pieces, nothing written to disk) for
 * tar (plain, gz, bz2, xz, zstd, lz4, ...), zip, 7z, cpio, ar, iso9660, rar,
 * xar, cab, lha and warc; and a safe extractor built on it.
 *
 * A damaged archive is an error, never a shorter listing: truncation,
 * garbage, bad checksums and data that disagrees with its header all come
 * back as DF_ECORRUPT, from df_archive_next or df_archive_read, by the end of
 * the walk. Two checks go beyond libarchive's own:
 *   - a tar stream that ends without its end-of-archive blocks (cut at an
 *     entry boundary) is DF_ECORRUPT at the end of the listing;
 *   - zip is read through its central directory only, so a zip that lost its
 *     tail (central directory) is refused rather than walked as far as it
 *     goes. Zip data is checked against the central directory's size and CRC
 *     when an entry is read to its end.
 * An empty (0-byte) file, mtree manifests (which name files on the host) and
 * raw streams are not archives here (DF_ECORRUPT).
 *
 * Blocking calls: use them off the loop thread (the thread pool). */
#ifndef DF_CORE_ARCHIVE_H
#define DF_CORE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum df_archive_entry_type {
  DF_ARCHIVE_FILE,
  DF_ARCHIVE_DIR,
  DF_ARCHIVE_SYMLINK,
  DF_ARCHIVE_HARDLINK,
  DF_ARCHIVE_OTHER, /* device node, FIFO, socket */
};

struct df_archive_entry {
  const char *path;        /* as stored (may start with "./" or "/") */
  uint64_t size;           /* bytes of data, when size_known */
  bool size_known;
  enum df_archive_entry_type type;
  uint32_t mode;           /* st_mode: file type bits and permissions */
  const char *link_target; /* SYMLINK and HARDLINK; NULL otherwise */
};

struct df_archive;

/* Opens an archive file for reading. DF_ENOENT, DF_EACCES, DF_EIO (a
 * directory, a read error), DF_ENOMEM, DF_ECORRUPT (a compressed stream
 * already broken in its first block); a file that is not an archive is
 * reported by the first df_archive_next (DF_ECORRUPT). On success *out is
 * owned by the caller: df_archive_close. */
int
df_archive_open(const char *path, struct df_archive **out);

/* 1 = an entry is in *e (its strings valid until the next call), 0 = end of
 * the archive, < 0 = error (DF_ECORRUPT, DF_EIO, DF_ENOMEM). Skips whatever
 * data of the previous entry was not read. Errors are sticky: once a call
 * failed every later call fails the same way. */
int
df_archive_next(struct df_archive *a, struct df_archive_entry *e);

/* Reads the current entry's data: bytes read (> 0), 0 at its end, < 0 on an
 * error (DF_ECORRUPT when the data is truncated, fails its checksum, or runs
 * longer or shorter than the header said).
 * Bytes handed out are not proven good until the walk ends cleanly: a .tgz
 * has one CRC for the whole stream, checked after its last entry, so damage
 * in an early entry may only be reported by a later df_archive_next. Zip
 * entries are checked each at their own end. */
ssize_t
df_archive_read(struct df_archive *a, void *buf, size_t len);

/* libarchive's own words for the last error, or our own for the checks it
 * does not make; "" when there was none. Valid until the next call on a. */
const char *
df_archive_error_message(const struct df_archive *a);

/* Format of the archive as libarchive names it ("GNU tar format", "ZIP 2.0
 * (deflation)", ...), once df_archive_next has run; "" before. */
const char *
df_archive_format_name(const struct df_archive *a);

/* Accepts NULL. */
void
df_archive_close(struct df_archive *a);

/* Whether an entry is one no honest package holds, for readers that walk a
 * package without extracting it (firmware inspect, df.firmware.inspect):
 * an empty or absolute path, a ".." component, a symlink or hardlink whose
 * target is absolute or has a ".." component (such links cannot lead out,
 * even chained), a device node, FIFO or socket. DF_OK, or DF_EUNSAFE with
 * *why a static string ("absolute path", ...). Pure: looks at e only. */
int
df_archive_entry_check(const struct df_archive_entry *e, const char **why);

/* ---- Safe extraction ----------------------------------------------------
 *
 * df_archive_extract writes an archive's files under target_dir, which must
 * exist. Refused with DF_EUNSAFE, naming the entry in bad_entry:
 *   - absolute paths, any ".." component, an empty path;
 *   - symlinks whose target is absolute or leads outside target_dir, directly
 *     or through other symlinks of the archive (checked when the link is made
 *     and again once every entry is out, so a chain cannot be assembled);
 *   - hardlinks whose target is absolute, has "..", is not a regular file
 *     extracted earlier from the same archive, or lies behind a symlink;
 *   - device nodes, FIFOs, sockets;
 *   - an entry whose path passes through a symlink (the extractor never
 *     follows a symlink: every path component is opened with O_NOFOLLOW,
 *     files are created with O_EXCL | O_NOFOLLOW, and an entry that replaces
 *     an earlier one unlinks it first, so nothing is written through a link).
 * Refused with DF_ETOOBIG, naming the entry: an entry larger than
 * limits->max_entry_size, a total beyond limits->max_total_size, more entries
 * than limits->max_entries. Sizes count the bytes actually written, not what
 * the headers claim (a header that claims less than its data is DF_ECORRUPT
 * as soon as the data runs past it); a header that already claims too much is
 * refused before anything is written.
 *
 * All or nothing: entries are extracted into a fresh staging directory inside
 * target_dir (".df-extract-XXXXXX", mode 0700); only when the whole archive
 * passed are its top-level names moved into target_dir (renameat2 with
 * RENAME_NOREPLACE; a name that already exists there is DF_EEXIST, named in
 * bad_entry, checked for every name before any is moved). On any error the
 * staging directory is removed and target_dir is left as it was.
 *
 * What is kept: permission bits without setuid, setgid, sticky and group or
 * other write (mode & 0755); files also get u+r, directories u+rwx. Owners and times
 * are not restored. Paths deeper than 128 components are refused
 * (DF_EUNSAFE). */
struct df_extract_limits {
  uint64_t max_entry_size;  /* 0: no limit */
  uint64_t max_total_size;  /* 0: no limit */
  uint64_t max_entries;     /* 0: no limit */
};

/* What a NULL limits means: 8 GiB an entry, 32 GiB in all, 1,000,000
 * entries. */
extern const struct df_extract_limits df_extract_default_limits;

struct df_extract_report {
  char bad_entry[1024];   /* the entry refused or failing, "" if none */
  char reason[256];       /* why: "absolute path", libarchive's words for
                           * damage, ...; "" on success */
  uint64_t entries;       /* entries extracted */
  uint64_t bytes;         /* bytes of file data written */
};

/* 0 on success; DF_EUNSAFE, DF_ETOOBIG, DF_EEXIST (see above), DF_ECORRUPT,
 * DF_ENOENT (archive or target_dir missing), DF_EACCES, DF_ENOSPC, DF_EIO.
 * bad_entry (may be NULL) receives the entry's name, truncated to fit, or ""
 * when no entry is to blame. */
int
df_archive_extract(const char *archive_path, const char *target_dir,
                   const struct df_extract_limits *limits, char *bad_entry,
                   size_t bad_entry_len);

/* The same, with the reason and counts; report may not be NULL. */
int
df_archive_extract_report(const char *archive_path, const char *target_dir,
                          const struct df_extract_limits *limits,
                          struct df_extract_report *report);

#endif
