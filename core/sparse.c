/* Android sparse image parsing and the streaming decoder (see sparse.h).
 * Validation follows libsparse's sparse_read.cpp, made stricter where it is
 * lenient: chunk sizes must agree with their type, blocks may never run past
 * total_blks, the chunk count must be exact and nothing may follow the last
 * chunk. CRC32 chunks are checked for shape only, not against the data
 * (libsparse verifies them only when asked to). */
#include "core/sparse.h"

#include <string.h>

#include "core/error.h"

enum {
  ST_FILE_HEADER = 0,
  ST_FILE_HEADER_EXTRA,
  ST_CHUNK_HEADER,
  ST_CHUNK_HEADER_EXTRA,
  ST_RAW_DATA,
  ST_FILL_VALUE,
  ST_CRC_VALUE,
  ST_DONE,
};

static uint16_t
get_le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

bool
df_sparse_is_sparse(const void *first_bytes, size_t n)
{
  return first_bytes != NULL && n >= 4 && get_le32(first_bytes) == DF_SPARSE_MAGIC;
}

int
df_sparse_header_parse(const void *buf, size_t len, struct df_sparse_header *out)
{
  const uint8_t *p = buf;
  struct df_sparse_header h;

  if (buf == NULL || out == NULL || len < DF_SPARSE_HEADER_SIZE)
    return DF_EINVAL;
  if (get_le32(p) != DF_SPARSE_MAGIC)
    return DF_ECORRUPT;
  h.major_version = get_le16(p + 4);
  h.minor_version = get_le16(p + 6);
  h.file_hdr_sz = get_le16(p + 8);
  h.chunk_hdr_sz = get_le16(p + 10);
  h.blk_sz = get_le32(p + 12);
  h.total_blks = get_le32(p + 16);
  h.total_chunks = get_le32(p + 20);
  h.image_checksum = get_le32(p + 24);

  if (h.major_version != 1)
    return DF_ECORRUPT;
  if (h.file_hdr_sz < DF_SPARSE_HEADER_SIZE || h.chunk_hdr_sz < DF_SPARSE_CHUNK_HEADER_SIZE)
    return DF_ECORRUPT;
  if (h.blk_sz == 0 || h.blk_sz % 4 != 0)
    return DF_ECORRUPT;
  *out = h;
  return 0;
}

uint64_t
df_sparse_image_size(const struct df_sparse_header *h)
{
  return (uint64_t)h->total_blks * h->blk_sz;
}

uint64_t
df_sparse_chunk_data_size(const struct df_sparse_header *h,
                          const struct df_sparse_chunk_header *c)
{
  return (uint64_t)c->total_sz - h->chunk_hdr_sz;
}

int
df_sparse_chunk_parse(const void *buf, size_t len, const struct df_sparse_header *h,
                      uint64_t blocks_before, struct df_sparse_chunk_header *out)
{
  const uint8_t *p = buf;
  struct df_sparse_chunk_header c;
  uint64_t data_sz;

  if (buf == NULL || h == NULL || out == NULL || len < DF_SPARSE_CHUNK_HEADER_SIZE)
    return DF_EINVAL;
  c.type = get_le16(p);
  c.reserved = get_le16(p + 2);
  c.chunk_sz = get_le32(p + 4);
  c.total_sz = get_le32(p + 8);

  if (c.total_sz < h->chunk_hdr_sz)
    return DF_ECORRUPT;
  data_sz = (uint64_t)c.total_sz - h->chunk_hdr_sz;
  switch (c.type) {
  case DF_SPARSE_CHUNK_RAW:
    /* Both factors are 32-bit: the product fits in 64 bits. */
    if (data_sz != (uint64_t)c.chunk_sz * h->blk_sz)
      return DF_ECORRUPT;
    break;
  case DF_SPARSE_CHUNK_FILL:
    if (data_sz != 4)
      return DF_ECORRUPT;
    break;
  case DF_SPARSE_CHUNK_DONT_CARE:
    if (data_sz != 0)
      return DF_ECORRUPT;
    break;
  case DF_SPARSE_CHUNK_CRC32:
    if (data_sz != 4 || c.chunk_sz != 0)
      return DF_ECORRUPT;
    break;
  default:
    return DF_ECORRUPT;
  }
  if (blocks_before > h->total_blks || c.chunk_sz > h->total_blks - blocks_before)
    return DF_ECORRUPT;
  *out = c;
  return 0;
}

void
df_sparse_decoder_init(struct df_sparse_decoder *d, const struct df_sparse_sink *sink,
                       void *ctx)
{
  memset(d, 0, sizeof(*d));
  d->sink = sink;
  d->ctx = ctx;
  d->state = ST_FILE_HEADER;
}

const struct df_sparse_header *
df_sparse_decoder_header(const struct df_sparse_decoder *d)
{
  return d->state > ST_FILE_HEADER ? &d->header : NULL;
}

/* Moves to the next chunk header, or to DONE after the last chunk, where the
 * block count must come out exact. */
static int
next_chunk(struct df_sparse_decoder *d)
{
  d->small_len = 0;
  if (d->chunks_done == d->header.total_chunks) {
    if (d->blocks_done != d->header.total_blks)
      return DF_ECORRUPT;
    d->state = ST_DONE;
    return 0;
  }
  d->state = ST_CHUNK_HEADER;
  return 0;
}

/* Copies up to need - small_len bytes into the small buffer; true when full. */
static bool
gather(struct df_sparse_decoder *d, const uint8_t **p, size_t *len, size_t need)
{
  size_t take = need - d->small_len;

  if (take > *len)
    take = *len;
  memcpy(d->small + d->small_len, *p, take);
  d->small_len += take;
  *p += take;
  *len -= take;
  return d->small_len == need;
}

static int
end_chunk(struct df_sparse_decoder *d)
{
  d->blocks_done += d->chunk.chunk_sz;
  d->out_offset = d->blocks_done * d->header.blk_sz;
  d->chunks_done++;
  return next_chunk(d);
}

static int
start_chunk_data(struct df_sparse_decoder *d)
{
  const struct df_sparse_sink *s = d->sink;
  uint64_t len = (uint64_t)d->chunk.chunk_sz * d->header.blk_sz;
  int err;

  d->small_len = 0;
  switch (d->chunk.type) {
  case DF_SPARSE_CHUNK_RAW:
    d->data_left = len;
    d->state = ST_RAW_DATA;
    if (len == 0)
      return end_chunk(d);
    return 0;
  case DF_SPARSE_CHUNK_FILL:
    d->state = ST_FILL_VALUE;
    return 0;
  case DF_SPARSE_CHUNK_CRC32:
    d->state = ST_CRC_VALUE;
    return 0;
  default: /* DONT_CARE: validated by df_sparse_chunk_parse */
    if (len > 0 && s->skip != NULL) {
      err = s->skip(d->ctx, d->out_offset, len);
      if (err != 0)
        return err;
    }
    return end_chunk(d);
  }
}

static int
step(struct df_sparse_decoder *d, const uint8_t **p, size_t *len)
{
  const struct df_sparse_sink *s = d->sink;
  size_t take;
  int err;

  switch (d->state) {
  case ST_FILE_HEADER:
    if (!gather(d, p, len, DF_SPARSE_HEADER_SIZE))
      return 0;
    err = df_sparse_header_parse(d->small, d->small_len, &d->header);
    if (err != 0)
      return err;
    if (s->header != NULL) {
      err = s->header(d->ctx, &d->header);
      if (err != 0)
        return err;
    }
    d->skip_left = d->header.file_hdr_sz - DF_SPARSE_HEADER_SIZE;
    d->state = ST_FILE_HEADER_EXTRA;
    return 0;
  case ST_FILE_HEADER_EXTRA:
  case ST_CHUNK_HEADER_EXTRA:
    take = *len < d->skip_left ? *len : (size_t)d->skip_left;
    *p += take;
    *len -= take;
    d->skip_left -= take;
    if (d->skip_left > 0)
      return 0;
    if (d->state == ST_FILE_HEADER_EXTRA)
      return next_chunk(d);
    return start_chunk_data(d);
  case ST_CHUNK_HEADER:
    if (!gather(d, p, len, DF_SPARSE_CHUNK_HEADER_SIZE))
      return 0;
    err = df_sparse_chunk_parse(d->small, d->small_len, &d->header, d->blocks_done,
                                &d->chunk);
    if (err != 0)
      return err;
    d->skip_left = d->header.chunk_hdr_sz - DF_SPARSE_CHUNK_HEADER_SIZE;
    d->state = ST_CHUNK_HEADER_EXTRA;
    return 0;
  case ST_RAW_DATA:
    take = *len < d->data_left ? *len : (size_t)d->data_left;
    if (take > 0 && s->write != NULL) {
      err = s->write(d->ctx, d->out_offset, *p, take);
      if (err != 0)
        return err;
    }
    *p += take;
    *len -= take;
    d->data_left -= take;
    d->out_offset += take;
    if (d->data_left == 0)
      return end_chunk(d);
    return 0;
  case ST_FILL_VALUE:
    if (!gather(d, p, len, 4))
      return 0;
    if (d->chunk.chunk_sz > 0 && s->fill != NULL) {
      err = s->fill(d->ctx, d->out_offset, (uint64_t)d->chunk.chunk_sz * d->header.blk_sz,
                    get_le32(d->small));
      if (err != 0)
        return err;
    }
    return end_chunk(d);
  case ST_CRC_VALUE:
    if (!gather(d, p, len, 4))
      return 0;
    return end_chunk(d);
  default: /* ST_DONE: anything more is not part of the image */
    return DF_ECORRUPT;
  }
}

int
df_sparse_decoder_feed(struct df_sparse_decoder *d, const void *data, size_t len)
{
  const uint8_t *p = data;
  const uint8_t *start = data;
  int err;

  if (d->error != 0)
    return d->error;
  if (len > 0 && data == NULL)
    return DF_EINVAL;
  /* A state change with no input left (a zero-length RAW chunk, the last
   * header) is taken by the loop too, so DONE is reached without more bytes. */
  while (len > 0 || d->state == ST_FILE_HEADER_EXTRA || d->state == ST_CHUNK_HEADER_EXTRA) {
    int before = d->state;
    size_t len_before = len;

    err = step(d, &p, &len);
    if (err != 0) {
      d->error = err;
      d->bytes_in += (uint64_t)(p - start);
      return err;
    }
    if (len == len_before && d->state == before)
      break; /* waiting for input */
  }
  d->bytes_in += (uint64_t)(p - start);
  return 0;
}

int
df_sparse_decoder_finish(const struct df_sparse_decoder *d)
{
  if (d->error != 0)
    return d->error;
  return d->state == ST_DONE ? 0 : DF_ECORRUPT;
}
