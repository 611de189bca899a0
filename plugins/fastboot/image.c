/* Images to flash: validation, the plan of downloads, and piece sources. */
#include "plugins/fastboot/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

/* A run of blocks of the image as the input describes it. */
struct df_image_chunk {
  uint16_t type;           /* RAW, FILL or DONT_CARE (CRC32 chunks dropped) */
  uint32_t blocks;
  uint64_t block_start;
  uint64_t data_offset;    /* RAW: where its bytes start in the file */
  uint32_t fill;
};

/* Piece i carries the blocks from (chunk c0, block b0) up to (c1, b1). */
struct df_image_piece {
  size_t c0, c1;
  uint32_t b0, b1;
};

enum df_segment_kind { DF_SEG_MEM, DF_SEG_FILE, DF_SEG_ZERO };

struct df_image_segment {
  enum df_segment_kind kind;
  uint64_t len;
  uint64_t file_offset;
  uint8_t mem[28];
};

struct df_image {
  int fd;                  /* a file's, or -1 for an image from a reader */
  struct df_image_reader reader; /* where the bytes come from */
  uint64_t file_size;
  bool sparse;
  uint32_t blk_sz;
  uint32_t total_blks;
  struct df_image_chunk *chunks;
  size_t nchunks;
  struct df_image_piece *pieces;
  size_t npieces;
  bool whole_file;         /* the file goes as it is */
  /* the piece being read */
  struct df_image_segment *segs;
  size_t nsegs;
  size_t seg;
  uint64_t seg_off;
};

static int
df_image_add_chunk(struct df_image *img, const struct df_image_chunk *c)
{
  if ((img->nchunks & (img->nchunks - 1)) == 0) { /* grow at powers of two */
    size_t cap = img->nchunks == 0 ? 16 : img->nchunks * 2;
    struct df_image_chunk *grown = realloc(img->chunks, cap * sizeof(*grown));
    if (grown == NULL) return DF_ENOMEM;
    img->chunks = grown;
  }
  img->chunks[img->nchunks++] = *c;
  return DF_OK;
}

/* The reader of an image opened from a file. */
static long
df_image_file_read_at(void *ctx, void *buf, size_t len, uint64_t offset)
{
  struct df_image *img = ctx;

  for (;;) {
    ssize_t n = pread(img->fd, buf, len, (off_t)offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return df_error_from_errno(errno);
    return (long)n;
  }
}

static int
df_image_pread_all(struct df_image *img, void *buf, size_t len, uint64_t offset)
{
  size_t have = 0;

  while (have < len) {
    long n = img->reader.read_at(img->reader.ctx, (uint8_t *)buf + have, len - have, offset + have);
    if (n < 0) return (int)n;
    if (n == 0) return DF_ECORRUPT; /* shorter than its headers say */
    have += (size_t)n;
  }
  return DF_OK;
}

/* Reads every chunk header of a sparse image and checks they add up. */
static int
df_image_scan_sparse(struct df_image *img)
{
  uint8_t buf[DF_SPARSE_HEADER_SIZE];
  struct df_sparse_header h;
  uint64_t pos, blocks = 0;
  int rc;

  rc = df_image_pread_all(img, buf, sizeof(buf), 0);
  if (rc == DF_OK) rc = df_sparse_header_parse(buf, sizeof(buf), &h);
  if (rc != DF_OK) return rc;
  img->blk_sz = h.blk_sz;
  img->total_blks = h.total_blks;
  pos = h.file_hdr_sz;
  for (uint32_t i = 0; i < h.total_chunks; i++) {
    struct df_sparse_chunk_header ch;
    struct df_image_chunk c = {0};
    uint8_t cb[DF_SPARSE_CHUNK_HEADER_SIZE + 4];

    rc = df_image_pread_all(img, cb, DF_SPARSE_CHUNK_HEADER_SIZE, pos);
    if (rc == DF_OK) rc = df_sparse_chunk_parse(cb, DF_SPARSE_CHUNK_HEADER_SIZE, &h, blocks, &ch);
    if (rc != DF_OK) return rc;
    c.type = ch.type;
    c.blocks = ch.chunk_sz;
    c.block_start = blocks;
    c.data_offset = pos + h.chunk_hdr_sz;
    if (ch.type == DF_SPARSE_CHUNK_FILL) {
      rc = df_image_pread_all(img, cb, 4, c.data_offset);
      if (rc != DF_OK) return rc;
      c.fill = (uint32_t)cb[0] | (uint32_t)cb[1] << 8 | (uint32_t)cb[2] << 16 | (uint32_t)cb[3] << 24;
    }
    pos += ch.total_sz;
    if (pos > img->file_size) return DF_ECORRUPT;
    if (ch.type != DF_SPARSE_CHUNK_CRC32 && ch.chunk_sz > 0) {
      rc = df_image_add_chunk(img, &c);
      if (rc != DF_OK) return rc;
    }
    blocks += ch.chunk_sz;
  }
  if (blocks != h.total_blks || pos != img->file_size) return DF_ECORRUPT;
  return DF_OK;
}

/* Tells a sparse image from a raw one and lists its chunks (a raw image is
 * one RAW chunk of 4 KiB blocks). */
static int
df_image_scan(struct df_image *img)
{
  uint8_t magic[4];

  img->sparse = img->file_size >= 4 &&
                df_image_pread_all(img, magic, 4, 0) == DF_OK && df_sparse_is_sparse(magic, 4);
  if (img->sparse) return df_image_scan_sparse(img);

  struct df_image_chunk c = {.type = DF_SPARSE_CHUNK_RAW, .data_offset = 0};
  img->blk_sz = DF_IMAGE_BLOCK_SIZE;
  if (img->file_size > (uint64_t)UINT32_MAX * DF_IMAGE_BLOCK_SIZE) return DF_ETOOBIG;
  img->total_blks = (uint32_t)((img->file_size + DF_IMAGE_BLOCK_SIZE - 1) / DF_IMAGE_BLOCK_SIZE);
  c.blocks = img->total_blks;
  return df_image_add_chunk(img, &c);
}

int
df_image_open(const char *path, struct df_image **out)
{
  struct df_image *img;
  struct stat st;
  int rc;

  img = calloc(1, sizeof(*img));
  if (img == NULL) return DF_ENOMEM;
  img->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (img->fd < 0) {
    rc = df_error_from_errno(errno);
    free(img);
    return rc;
  }
  if (fstat(img->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    close(img->fd);
    free(img);
    return DF_EINVAL;
  }
  img->file_size = (uint64_t)st.st_size;
  img->reader.read_at = df_image_file_read_at;
  img->reader.ctx = img;
  img->reader.size = img->file_size;
  rc = df_image_scan(img);
  if (rc != DF_OK) {
    df_image_free(img);
    return rc;
  }
  posix_fadvise(img->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  *out = img;
  return DF_OK;
}

int
df_image_open_reader(const struct df_image_reader *reader, struct df_image **out)
{
  struct df_image *img;
  int rc;

  if (reader == NULL || reader->read_at == NULL || reader->size == 0) return DF_EINVAL;
  img = calloc(1, sizeof(*img));
  if (img == NULL) return DF_ENOMEM;
  img->fd = -1;
  img->reader = *reader;
  img->file_size = reader->size;
  rc = df_image_scan(img);
  if (rc != DF_OK) {
    img->reader.close = NULL; /* on an error the reader stays the caller's */
    df_image_free(img);
    return rc;
  }
  *out = img;
  return DF_OK;
}

void
df_image_free(struct df_image *img)
{
  if (img == NULL) return;
  if (img->fd >= 0) close(img->fd);
  if (img->fd < 0 && img->reader.close != NULL) img->reader.close(img->reader.ctx);
  free(img->chunks);
  free(img->pieces);
  free(img->segs);
  free(img);
}

bool
df_image_is_sparse(const struct df_image *img)
{
  return img->sparse;
}

uint64_t
df_image_file_size(const struct df_image *img)
{
  return img->file_size;
}

uint64_t
df_image_expanded_size(const struct df_image *img)
{
  return img->sparse ? (uint64_t)img->total_blks * img->blk_sz : img->file_size;
}

/* ---- the plan ---- */

static int
df_image_add_piece(struct df_image *img, const struct df_image_piece *p)
{
  struct df_image_piece *grown = realloc(img->pieces, (img->npieces + 1) * sizeof(*grown));
  if (grown == NULL) return DF_ENOMEM;
  img->pieces = grown;
  img->pieces[img->npieces++] = *p;
  return DF_OK;
}

long
df_image_plan(struct df_image *img, uint64_t max_download)
{
  /* header + a leading and a trailing DONT_CARE, reserved in every piece */
  const uint64_t overhead = DF_SPARSE_HEADER_SIZE + 2 * DF_SPARSE_CHUNK_HEADER_SIZE;
  uint64_t limit = max_download < DF_IMAGE_PIECE_LIMIT ? max_download : DF_IMAGE_PIECE_LIMIT;
  struct df_image_piece cur = {0};
  uint64_t size = overhead;
  bool empty = true;
  int rc;

  free(img->pieces);
  img->pieces = NULL;
  img->npieces = 0;
  img->whole_file = img->file_size <= max_download;
  if (img->whole_file) return 1;
  if (limit < overhead + DF_SPARSE_CHUNK_HEADER_SIZE + img->blk_sz) return DF_ETOOBIG;

  for (size_t c = 0; c < img->nchunks;) {
    const struct df_image_chunk *ch = &img->chunks[c];
    uint32_t left = ch->blocks - (c == cur.c1 ? cur.b1 : 0);
    uint64_t cost;
    uint32_t take = left;

    if (ch->type == DF_SPARSE_CHUNK_RAW) {
      uint64_t room = limit > size + DF_SPARSE_CHUNK_HEADER_SIZE
                        ? (limit - size - DF_SPARSE_CHUNK_HEADER_SIZE) / img->blk_sz : 0;
      if (room < take) take = (uint32_t)room;
      cost = DF_SPARSE_CHUNK_HEADER_SIZE + (uint64_t)take * img->blk_sz;
    } else {
      cost = DF_SPARSE_CHUNK_HEADER_SIZE + (ch->type == DF_SPARSE_CHUNK_FILL ? 4 : 0);
      if (size + cost > limit) take = 0;
    }
    if (take == 0) {
      /* This piece is full: close it and start the next where it stopped. */
      if (empty) return DF_ETOOBIG;
      rc = df_image_add_piece(img, &cur);
      if (rc != DF_OK) return rc;
      cur.c0 = cur.c1;
      cur.b0 = cur.b1;
      size = overhead;
      empty = true;
      continue;
    }
    size += cost;
    empty = false;
    cur.b1 = (c == cur.c1 ? cur.b1 : 0) + take;
    cur.c1 = c;
    if (cur.b1 == ch->blocks) {
      c++;
      cur.c1 = c;
      cur.b1 = 0;
    }
  }
  if (!empty) {
    rc = df_image_add_piece(img, &cur);
    if (rc != DF_OK) return rc;
  }
  return (long)img->npieces;
}

/* ---- reading a piece ---- */

static void
df_le16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
df_le32(uint8_t *p, uint32_t v)
{
  df_le16(p, (uint16_t)v);
  df_le16(p + 2, (uint16_t)(v >> 16));
}

static struct df_image_segment *
df_image_seg(struct df_image *img, size_t *cap)
{
  if (img->nsegs == *cap) {
    size_t ncap = *cap == 0 ? 16 : *cap * 2;
    struct df_image_segment *grown = realloc(img->segs, ncap * sizeof(*grown));
    if (grown == NULL) return NULL;
    img->segs = grown;
    *cap = ncap;
  }
  struct df_image_segment *s = &img->segs[img->nsegs++];
  memset(s, 0, sizeof(*s));
  return s;
}

static struct df_image_segment *
df_image_chunk_header_seg(struct df_image *img, size_t *cap, uint16_t type, uint32_t blocks,
                          uint32_t data_len)
{
  struct df_image_segment *s = df_image_seg(img, cap);
  if (s == NULL) return NULL;
  s->kind = DF_SEG_MEM;
  s->len = DF_SPARSE_CHUNK_HEADER_SIZE;
  df_le16(s->mem, type);
  df_le32(s->mem + 4, blocks);
  df_le32(s->mem + 8, DF_SPARSE_CHUNK_HEADER_SIZE + data_len);
  return s;
}

/* Lays out piece i as segments: the sparse header, chunk headers from
 * memory, RAW data from the file (zeros past its end for a raw image's
 * last partial block). */
static int
df_image_layout(struct df_image *img, const struct df_image_piece *p)
{
  size_t cap = 0;
  uint32_t count = 0;
  uint64_t first, last;
  struct df_image_segment *hdr;

  img->nsegs = 0;
  free(img->segs);
  img->segs = NULL;
  hdr = df_image_seg(img, &cap);
  if (hdr == NULL) return DF_ENOMEM;
  first = img->chunks[p->c0].block_start + p->b0;
  last = p->c1 < img->nchunks ? img->chunks[p->c1].block_start + p->b1 : img->total_blks;
  if (first > 0) {
    if (df_image_chunk_header_seg(img, &cap, DF_SPARSE_CHUNK_DONT_CARE, (uint32_t)first, 0) == NULL)
      return DF_ENOMEM;
    count++;
  }
  for (size_t c = p->c0; c <= p->c1 && c < img->nchunks; c++) {
    const struct df_image_chunk *ch = &img->chunks[c];
    uint32_t from = c == p->c0 ? p->b0 : 0;
    uint32_t to = c == p->c1 ? p->b1 : ch->blocks;
    uint32_t blocks = to - from;
    if (blocks == 0) continue;
    count++;
    if (ch->type == DF_SPARSE_CHUNK_RAW) {
      uint64_t bytes = (uint64_t)blocks * img->blk_sz;
      uint64_t off = ch->data_offset + (uint64_t)from * img->blk_sz;
      uint64_t in_file = off < img->file_size ? img->file_size - off : 0;
      if (in_file > bytes) in_file = bytes;
      if (df_image_chunk_header_seg(img, &cap, DF_SPARSE_CHUNK_RAW, blocks, (uint32_t)bytes) == NULL)
        return DF_ENOMEM;
      struct df_image_segment *s = df_image_seg(img, &cap);
      if (s == NULL) return DF_ENOMEM;
      s->kind = DF_SEG_FILE;
      s->file_offset = off;
      s->len = in_file;
      if (in_file < bytes) {
        s = df_image_seg(img, &cap);
        if (s == NULL) return DF_ENOMEM;
        s->kind = DF_SEG_ZERO;
        s->len = bytes - in_file;
      }
    } else if (ch->type == DF_SPARSE_CHUNK_FILL) {
      struct df_image_segment *s = df_image_chunk_header_seg(img, &cap, DF_SPARSE_CHUNK_FILL, blocks, 4);
      if (s == NULL) return DF_ENOMEM;
      df_le32(s->mem + 12, ch->fill);
      s->len += 4;
    } else {
      if (df_image_chunk_header_seg(img, &cap, DF_SPARSE_CHUNK_DONT_CARE, blocks, 0) == NULL)
        return DF_ENOMEM;
    }
  }
  if (last < img->total_blks) {
    if (df_image_chunk_header_seg(img, &cap, DF_SPARSE_CHUNK_DONT_CARE,
                                  (uint32_t)(img->total_blks - last), 0) == NULL)
      return DF_ENOMEM;
    count++;
  }
  hdr = &img->segs[0]; /* the array may have moved */
  hdr->kind = DF_SEG_MEM;
  hdr->len = DF_SPARSE_HEADER_SIZE;
  df_le32(hdr->mem, DF_SPARSE_MAGIC);
  df_le16(hdr->mem + 4, 1);
  df_le16(hdr->mem + 6, 0);
  df_le16(hdr->mem + 8, DF_SPARSE_HEADER_SIZE);
  df_le16(hdr->mem + 10, DF_SPARSE_CHUNK_HEADER_SIZE);
  df_le32(hdr->mem + 12, img->blk_sz);
  df_le32(hdr->mem + 16, img->total_blks);
  df_le32(hdr->mem + 20, count);
  df_le32(hdr->mem + 24, 0);
  return DF_OK;
}

static long
df_image_read(void *ctx, uint8_t *buf, size_t len)
{
  struct df_image *img = ctx;
  size_t done = 0;

  while (done < len && img->seg < img->nsegs) {
    struct df_image_segment *s = &img->segs[img->seg];
    uint64_t left = s->len - img->seg_off;
    size_t n = left < len - done ? (size_t)left : len - done;
    if (s->kind == DF_SEG_MEM) {
      memcpy(buf + done, s->mem + img->seg_off, n);
    } else if (s->kind == DF_SEG_ZERO) {
      memset(buf + done, 0, n);
    } else {
      long r = img->reader.read_at(img->reader.ctx, buf + done, n, s->file_offset + img->seg_off);
      if (r < 0) return r;
      if (r == 0) return DF_ECORRUPT; /* the file shrank under us */
      n = (size_t)r;
    }
    done += n;
    img->seg_off += n;
    if (img->seg_off == s->len) {
      img->seg++;
      img->seg_off = 0;
    }
  }
  return (long)done;
}

int
df_image_piece_source(struct df_image *img, size_t i, struct df_fastboot_source *src)
{
  uint64_t total = 0;
  int rc;

  if (img->whole_file) {
    if (i != 0) return DF_EINVAL;
    free(img->segs);
    img->segs = calloc(1, sizeof(*img->segs));
    if (img->segs == NULL) return DF_ENOMEM;
    img->segs[0].kind = DF_SEG_FILE;
    img->segs[0].len = img->file_size;
    img->nsegs = 1;
  } else {
    if (i >= img->npieces) return DF_EINVAL;
    rc = df_image_layout(img, &img->pieces[i]);
    if (rc != DF_OK) return rc;
  }
  for (size_t s = 0; s < img->nsegs; s++) total += img->segs[s].len;
  img->seg = 0;
  img->seg_off = 0;
  src->read = df_image_read;
  src->ctx = img;
  src->size = total;
  return DF_OK;
}
