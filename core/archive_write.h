/* A streaming tar (pax) archive writer on libarchive, with no libarchive
 * type in sight, that never leaves a file looking complete when it is not:
 * everything goes to PATH.partial; only df_archive_writer_finish (after the
 * end-of-archive blocks are written and fsynced) renames it to PATH, and
 * never over an existing file. df_archive_writer_abort removes the partial.
 *
 * Entries are added one at a time: a file is a header with its size, then
 * its data in any number of chunks that must add up to exactly that size (a
 * tar header cannot be changed afterwards, so a short or long entry is
 * refused rather than padded or cut). Names are relative: an empty name, an
 * absolute one, a "." or ".." component or an empty component is refused
 * (DF_EUNSAFE), so every archive written here extracts safely.
 *
 * Blocking calls (plain file I/O): a chunk is written as it comes, memory
 * stays at libarchive's 10 KiB block. */
#ifndef DF_CORE_ARCHIVE_WRITE_H
#define DF_CORE_ARCHIVE_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct df_archive_writer;

/* Creates PATH.partial (replacing a partial left by an earlier, interrupted
 * writer) and starts a pax archive in it. DF_EEXIST when PATH itself exists
 * (a finished archive is never overwritten); DF_ENOENT, DF_EACCES, DF_ENOSPC,
 * DF_ENOMEM, DF_ETOOBIG (path too long). On success *out is owned by the
 * caller, who ends it with finish or abort. */
int
df_archive_writer_begin(const char *path, struct df_archive_writer **out);

/* The partial file being written ("PATH.partial"). */
const char *
df_archive_writer_partial_path(const struct df_archive_writer *w);

/* Starts a regular file of exactly size bytes; mode's permission bits are
 * kept (0644 when 0), mtime in seconds since the epoch. DF_EUNSAFE for a bad
 * name, DF_EMISMATCH when the previous file got fewer bytes than its size,
 * DF_EIO / DF_ENOSPC on a write error. */
int
df_archive_writer_add_file_header(struct df_archive_writer *w, const char *name, uint64_t size,
                                  uint32_t mode, int64_t mtime);

/* Data of the current file. DF_ETOOBIG when it would run past the size in
 * its header (nothing is written then), DF_EINVAL when no file is open. */
int
df_archive_writer_add_data(struct df_archive_writer *w, const void *data, size_t len);

/* A whole small file at once (header and data; mode 0644, mtime now). */
int
df_archive_writer_add_buffer(struct df_archive_writer *w, const char *name, const void *data,
                             size_t len);

/* A directory entry (name without a trailing slash). */
int
df_archive_writer_add_dir(struct df_archive_writer *w, const char *name, uint32_t mode,
                          int64_t mtime);

/* Bytes of file data written so far, over all entries. */
uint64_t
df_archive_writer_data_bytes(const struct df_archive_writer *w);

/* Writes the end-of-archive blocks, fsyncs and closes PATH.partial, which
 * is then complete but still named .partial (so a caller can read it back
 * and check it before finish). Idempotent; after an error only abort is
 * left. DF_EMISMATCH when the last file is short, DF_EIO, DF_ENOSPC. */
int
df_archive_writer_seal(struct df_archive_writer *w);

/* Seals (if not done), renames PATH.partial to PATH (DF_EEXIST if PATH
 * appeared meanwhile: the partial is kept then, nothing is overwritten) and
 * fsyncs the folder. Frees w whatever the result; on an error other than
 * DF_EEXIST the partial is removed. */
int
df_archive_writer_finish(struct df_archive_writer *w);

/* Stops writing and removes PATH.partial. Frees w. Accepts NULL. */
void
df_archive_writer_abort(struct df_archive_writer *w);

/* Whether name is acceptable as an entry name (see above): 0 or DF_EUNSAFE. */
int
df_archive_name_check(const char *name);

#endif
