/* A gzip file inflated in order, with every member's header, CRC-32 and
 * length checked (RFC 1952), and, when asked, access points from which it
 * can later be inflated again without starting at its first byte (zlib's
 * examples/zran.c idea: a deflate block boundary, the bits of the byte it
 * starts in, and the 32 KiB of output before it).
 *
 * Why not zlib's own gzip wrapper: zlib computes the CRC inside inflate
 * with its own crc32, 0.6 GB/s here, the larger half of reading a 2 GiB
 * ROM. This one inflates raw deflate and computes the CRC with df_crc32
 * (libdeflate when present). And a gzip wrapper cannot resume in the middle
 * of a member.
 *
 * Used by core/archive.c (the tar inside a .tgz) and core/archive_index.c
 * (entries read again from an access point). Blocking; not thread-safe
 * (one stream, one thread at a time). */
#ifndef DF_CORE_GZIP_STREAM_H
#define DF_CORE_GZIP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define DF_GZ_WINDOW 32768u

/* Where inflating can start again: the output offset it gives, the file
 * offset of the first whole input byte, and how many bits of the byte
 * before belong to it (0-7). window holds the wlen bytes of output just
 * before out (wlen < 32 KiB only at the start of a member). */
struct df_gz_point {
  uint64_t out;
  uint64_t in;
  int bits;
  uint32_t wlen;
  unsigned char *window; /* DF_GZ_WINDOW bytes, owned by whoever holds the point */
};

struct df_gz;

/* Takes fd (closed by df_gz_free, also on an error). DF_ENOMEM. */
int
df_gz_new(int fd, struct df_gz **out);

/* Up to len bytes of the uncompressed stream (fills len unless the end
 * comes first): > 0, 0 at the clean end of the last member (every trailer
 * checked), < 0 DF_ECORRUPT (bad header, deflate data, CRC-32, length,
 * truncated, garbage after a member), DF_EIO, DF_ENOMEM. Errors are
 * sticky. df_gz_error says what. */
ssize_t
df_gz_read(struct df_gz *g, void *buf, size_t len);

/* The last error in words ("truncated gzip input", ...), "" if none. */
const char *
df_gz_error(const struct df_gz *g);

/* fstat of the file read. */
int
df_gz_stat(const struct df_gz *g, struct stat *st);

/* Whether the last member's trailer was read and nothing follows it. */
bool
df_gz_at_end(const struct df_gz *g);

/* Bytes of uncompressed output handed out so far (from the start of the
 * stream, also after df_gz_resume). */
uint64_t
df_gz_pos(const struct df_gz *g);

/* From now on, keep an access point about every span bytes of output
 * (besides each member's start), and recent ones df_gz_keep can pick.
 * Call before the first read. DF_ENOMEM. */
int
df_gz_index_start(struct df_gz *g, uint64_t span);

/* Keeps the last access point at or before out (an entry's first byte),
 * if one is at hand; offsets must come in increasing order. DF_ENOMEM. */
int
df_gz_keep(struct df_gz *g, uint64_t out);

/* Hands over the kept access points, in increasing order (the caller frees
 * each window and the array: df_gz_points_free). */
size_t
df_gz_take_points(struct df_gz *g, struct df_gz_point **pts);

void
df_gz_points_free(struct df_gz_point *pts, size_t n);

/* Goes to p (a point kept from a stream of the same file): the next read
 * gives the output at p->out. The member p lies in is not checked against
 * its CRC-32 and length (its start was not read); members after it are.
 * DF_EIO, DF_ECORRUPT, DF_ENOMEM. */
int
df_gz_resume(struct df_gz *g, const struct df_gz_point *p);

/* Accepts NULL. */
void
df_gz_free(struct df_gz *g);

#endif
