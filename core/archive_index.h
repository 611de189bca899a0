/* Entries of a package read again without inflating everything before
 * them. A .tgz can only be read forward: flashing its images in the order
 * of a flash script meant inflating the package from its first byte for
 * every image (and once more to validate a sparse one), about a dozen
 * times the package for a Xiaomi ROM. A walk opened with
 * df_archive_open_indexed that reaches the clean end of the archive (every
 * gzip CRC-32 and length checked) leaves behind, for the rest of the
 * process, where each entry's data starts in the uncompressed stream and
 * gzip access points (core/gzip_stream.h) about every 32 MiB and just
 * before each entry; df_archive_span_open then reads an entry from there.
 *
 * The index is used only while the file is the one that was walked: same
 * device, inode, size, modification and change time (nanoseconds); any
 * difference, and the caller goes back to df_archive_open. It exists only
 * for tar in gzip (other formats: DF_ENOENT). Memory: 32 KiB an access
 * point (about 2.5 MiB for a 2 GiB ROM), at most 4 packages remembered.
 *
 * Blocking; thread-safe (the remembered indexes are shared under a lock;
 * each span belongs to one thread at a time). */
#ifndef DF_CORE_ARCHIVE_INDEX_H
#define DF_CORE_ARCHIVE_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct df_archive;
struct df_archive_span;

/* As df_archive_open (core/archive.h), and the walk, if it reaches its
 * clean end (df_archive_next returns 0), is remembered as above. */
int
df_archive_open_indexed(const char *path, struct df_archive **out);

/* The regular file entry_path (a leading "./" or "/" and a trailing "/"
 * ignored; the first entry of that name) of the package at path, read from
 * the index of an earlier walk: DF_OK with *out (df_archive_span_close)
 * and the entry's size in *size; DF_ENOENT when no index holds it (never
 * walked, the file changed, not a .tgz, no such entry, the first entry of
 * that name not a regular file whose data lies whole in the stream):
 * read it with df_archive_open then. DF_ENOMEM, or an open error. */
int
df_archive_span_open(const char *path, const char *entry_path, struct df_archive_span **out,
                     uint64_t *size);

/* Up to len bytes of the entry from the current offset: > 0, 0 at the
 * entry's end, < 0 (DF_ECORRUPT: the stream ends or fails to inflate
 * before the entry does; DF_EIO, DF_ENOMEM). */
ssize_t
df_archive_span_read(struct df_archive_span *s, void *buf, size_t len);

/* Moves to offset off of the entry (off <= size), forward or back, by the
 * nearest access point: no more than about 32 MiB is inflated and dropped. */
int
df_archive_span_seek(struct df_archive_span *s, uint64_t off);

uint64_t
df_archive_span_tell(const struct df_archive_span *s);

/* Words for the last error, "" if none. */
const char *
df_archive_span_error(const struct df_archive_span *s);

/* Accepts NULL. */
void
df_archive_span_close(struct df_archive_span *s);

/* ---- for core/archive.c only ---- */

struct df_gz_point;
struct stat;

struct df_archive_index_entry {
  char *path;           /* normalised: no leading "./" or "/", no trailing "/" */
  uint64_t data_off;    /* in the uncompressed stream */
  uint64_t size;
  int usable;           /* a regular file whose data is whole at data_off */
};

/* Remembers a walk (takes entries, their paths, points and their windows,
 * also on an error). */
int
df_archive_index_publish(const struct stat *st, struct df_archive_index_entry *entries,
                         size_t nentries, struct df_gz_point *points, size_t npoints);

/* Copies path normalised as above into out (at most len bytes with the
 * NUL): the length, or 0 if it does not fit. */
size_t
df_archive_index_norm(const char *path, char *out, size_t len);

#endif
