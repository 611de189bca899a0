/* Android sparse images (libsparse's format): header and chunk parsing with
 * validation, and a streaming decoder that turns a sparse image fed in
 * arbitrary pieces into "write / fill / skip this range" events without ever
 * holding a whole chunk in memory.
 *
 * Layout facts (AOSP libsparse/sparse_format.h, sparse_read.cpp): all fields
 * little-endian. File header 28 bytes: u32 magic 0xed26ff3a, u16 major (1),
 * u16 minor, u16 file_hdr_sz (>= 28; extra bytes skipped), u16 chunk_hdr_sz
 * (>= 12; extra bytes skipped), u32 blk_sz, u32 total_blks, u32 total_chunks,
 * u32 image_checksum. Chunk header 12 bytes: u16 type, u16 reserved,
 * u32 chunk_sz (blocks), u32 total_sz (bytes, header included). */
#ifndef DF_CORE_SPARSE_H
#define DF_CORE_SPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DF_SPARSE_MAGIC 0xed26ff3au
#define DF_SPARSE_HEADER_SIZE 28u
#define DF_SPARSE_CHUNK_HEADER_SIZE 12u

enum df_sparse_chunk_type {
  DF_SPARSE_CHUNK_RAW = 0xcac1,
  DF_SPARSE_CHUNK_FILL = 0xcac2,
  DF_SPARSE_CHUNK_DONT_CARE = 0xcac3,
  DF_SPARSE_CHUNK_CRC32 = 0xcac4,
};

struct df_sparse_header {
  uint16_t major_version;
  uint16_t minor_version;
  uint16_t file_hdr_sz;
  uint16_t chunk_hdr_sz;
  uint32_t blk_sz;
  uint32_t total_blks;
  uint32_t total_chunks;
  uint32_t image_checksum;
};

struct df_sparse_chunk_header {
  uint16_t type;
  uint16_t reserved;
  uint32_t chunk_sz; /* blocks of output */
  uint32_t total_sz; /* bytes of input, chunk header included */
};

/* True if the first bytes start with the sparse magic (n >= 4). */
bool
df_sparse_is_sparse(const void *first_bytes, size_t n);

/* Parses and validates the 28-byte file header at buf (len >= 28; extra
 * header bytes beyond 28 are the caller's to skip). DF_ECORRUPT for a bad
 * magic, a major version other than 1, header sizes below 28/12, a block
 * size of 0 or not a multiple of 4; DF_EINVAL if len < 28. */
int
df_sparse_header_parse(const void *buf, size_t len, struct df_sparse_header *out);

/* Size of the unsparsed image in bytes: total_blks * blk_sz. */
uint64_t
df_sparse_image_size(const struct df_sparse_header *h);

/* Parses the 12-byte chunk header at buf (len >= 12) and checks it against
 * the file header: the data size (total_sz - chunk_hdr_sz) must match the
 * type (RAW chunk_sz*blk_sz, FILL 4, DONT_CARE 0, CRC32 4 with chunk_sz 0),
 * and blocks_before + chunk_sz must not pass total_blks. DF_ECORRUPT
 * otherwise (also for an unknown type); DF_EINVAL if len < 12. */
int
df_sparse_chunk_parse(const void *buf, size_t len, const struct df_sparse_header *h,
                      uint64_t blocks_before, struct df_sparse_chunk_header *out);

/* Bytes of chunk data that follow a valid chunk header. */
uint64_t
df_sparse_chunk_data_size(const struct df_sparse_header *h,
                          const struct df_sparse_chunk_header *c);

/* What the decoder reports, in image order. Offsets and lengths are bytes of
 * the unsparsed image. Each callback returns 0 to go on or a negative df
 * error, which stops decoding and is returned by df_sparse_decoder_feed.
 * header (optional) comes once, before any other event; write's data is only
 * valid during the call; write may come several times for one RAW chunk
 * (one per piece fed), with increasing offsets. skip is a DONT_CARE range:
 * the content there is whatever the target held before. */
struct df_sparse_sink {
  int (*header)(void *ctx, const struct df_sparse_header *h);
  int (*write)(void *ctx, uint64_t offset, const void *data, size_t len);
  int (*fill)(void *ctx, uint64_t offset, uint64_t len, uint32_t pattern);
  int (*skip)(void *ctx, uint64_t offset, uint64_t len);
};

/* Streaming decoder state. Embed it; no allocation. The fields are private. */
struct df_sparse_decoder {
  const struct df_sparse_sink *sink;
  void *ctx;
  int state;
  int error;                     /* sticky: once set, feed returns it */
  struct df_sparse_header header;
  struct df_sparse_chunk_header chunk;
  uint8_t small[DF_SPARSE_HEADER_SIZE]; /* header / chunk header / 4-byte values */
  size_t small_len;
  uint64_t skip_left;            /* extra header bytes still to skip */
  uint64_t data_left;            /* RAW bytes still to come in this chunk */
  uint64_t out_offset;           /* byte offset in the unsparsed image */
  uint64_t blocks_done;
  uint32_t chunks_done;
  uint64_t bytes_in;             /* total input consumed (for error reports) */
};

void
df_sparse_decoder_init(struct df_sparse_decoder *d, const struct df_sparse_sink *sink,
                       void *ctx);

/* Feeds the next len bytes of the image (any split, even 1 byte at a time).
 * Returns 0, DF_ECORRUPT for an invalid image (including bytes after the
 * last chunk), or the error a sink callback returned. Errors are sticky. */
int
df_sparse_decoder_feed(struct df_sparse_decoder *d, const void *data, size_t len);

/* Call at the end of input: 0 if the image was complete, DF_ECORRUPT if it
 * was cut short, or the sticky error. */
int
df_sparse_decoder_finish(const struct df_sparse_decoder *d);

/* The header, once the decoder has read it (NULL before). */
const struct df_sparse_header *
df_sparse_decoder_header(const struct df_sparse_decoder *d);

#endif
