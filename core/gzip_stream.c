/* gzip members inflated raw, their headers and trailers checked here, the
 * CRC-32 computed by df_crc32; access points kept on request. */
#include "core/gzip_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "core/crc32.h"
#include "core/error.h"

#define DF_GZ_IN (1u << 20)
#define DF_GZ_RECENT 4u               /* candidate points kept for df_gz_keep */
#define DF_GZ_RECENT_SPAN (1u << 20)  /* one candidate per MiB of output */

enum df_gz_state {
  DF_GZ_BETWEEN, /* before a member (or at the clean end when the input is) */
  DF_GZ_HEADER,
  DF_GZ_BODY,
  DF_GZ_TRAILER,
  DF_GZ_DONE,
};

/* The parts of a member header, in order (RFC 1952 2.3). */
enum df_gz_hpart { DF_GZH_FIXED, DF_GZH_XLEN, DF_GZH_EXTRA, DF_GZH_NAME, DF_GZH_COMMENT, DF_GZH_HCRC };

struct df_gz {
  int fd;
  z_stream zs;
  bool zs_ready;
  enum df_gz_state state;
  int err;
  char msg[160];
  unsigned char *in;
  uint64_t in_off;    /* file offset of in[0] */
  size_t in_len;      /* bytes in `in` */
  bool in_eof;
  uint64_t out_pos;   /* uncompressed bytes handed out */
  /* the member being read */
  bool check;         /* its start was read: CRC and length can be checked */
  uint32_t crc;
  uint32_t isize;
  /* header parsing */
  enum df_gz_hpart hpart;
  unsigned char hb[12];
  unsigned hn;
  uint32_t hneed;
  uint32_t hcrc;
  unsigned char flags;
  /* trailer */
  unsigned char tb[8];
  unsigned tn;
  /* access points */
  bool indexing;
  uint64_t span;
  struct df_gz_point *pts;
  size_t npts, cap;
  uint64_t last_kept_out;       /* out of the last permanent point */
  struct df_gz_point recent[DF_GZ_RECENT];
  size_t nrecent;               /* ring entries used */
  size_t recent_next;
  uint64_t last_recent_out;
  bool any_recent;
};

static ssize_t
df_gz_fail(struct df_gz *g, int err, const char *fmt, const char *arg)
{
  g->err = err;
  snprintf(g->msg, sizeof(g->msg), fmt, arg != NULL ? arg : "");
  return err;
}

int
df_gz_new(int fd, struct df_gz **out)
{
  struct df_gz *g = calloc(1, sizeof(*g));

  if (g == NULL) {
    close(fd);
    return DF_ENOMEM;
  }
  g->fd = fd;
  g->in = malloc(DF_GZ_IN);
  /* -15: raw deflate, largest window; the gzip wrapper is ours. */
  if (g->in == NULL || inflateInit2(&g->zs, -MAX_WBITS) != Z_OK) {
    df_gz_free(g);
    return DF_ENOMEM;
  }
  g->zs_ready = true;
  *out = g;
  return DF_OK;
}

const char *
df_gz_error(const struct df_gz *g)
{
  return g->msg;
}

int
df_gz_stat(const struct df_gz *g, struct stat *st)
{
  return fstat(g->fd, st) == 0 ? DF_OK : df_error_from_errno(errno);
}

bool
df_gz_at_end(const struct df_gz *g)
{
  return g->state == DF_GZ_DONE;
}

uint64_t
df_gz_pos(const struct df_gz *g)
{
  return g->out_pos;
}

/* Makes sure input is at hand: 1, or 0 at the end of the file, < 0. */
static int
df_gz_fill(struct df_gz *g)
{
  ssize_t n;

  if (g->zs.avail_in > 0) return 1;
  if (g->in_eof) return 0;
  g->in_off += g->in_len;
  g->in_len = 0;
  do {
    n = pread(g->fd, g->in, DF_GZ_IN, (off_t)g->in_off);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (int)df_gz_fail(g, df_error_from_errno(errno), "read error: %s", strerror(errno));
  if (n == 0) {
    g->in_eof = true;
    return 0;
  }
  g->in_len = (size_t)n;
  g->zs.next_in = g->in;
  g->zs.avail_in = (uInt)n;
  return 1;
}

/* File offset of the next input byte inflate would take. */
static uint64_t
df_gz_in_pos(const struct df_gz *g)
{
  return g->in_off + (uint64_t)(g->zs.next_in - g->in);
}

static unsigned char
df_gz_take(struct df_gz *g)
{
  unsigned char c = *g->zs.next_in++;
  g->zs.avail_in--;
  return c;
}

/* Moves past the header part just finished to the next one its flags
 * ask for: 1 ("more"), or DF_OK when the header is complete. */
static int
df_gz_header_advance(struct df_gz *g, enum df_gz_hpart done)
{
  g->hn = 0;
  if (done < DF_GZH_XLEN && (g->flags & 4)) {
    g->hpart = DF_GZH_XLEN;
    return 1;
  }
  if (done < DF_GZH_NAME && (g->flags & 8)) {
    g->hpart = DF_GZH_NAME;
    return 1;
  }
  if (done < DF_GZH_COMMENT && (g->flags & 16)) {
    g->hpart = DF_GZH_COMMENT;
    return 1;
  }
  if (done < DF_GZH_HCRC && (g->flags & 2)) {
    g->hpart = DF_GZH_HCRC;
    return 1;
  }
  return DF_OK;
}

/* Header bytes, one at a time: DF_OK when the header is complete, 1 for
 * "more", < 0 on damage. */
static int
df_gz_header_byte(struct df_gz *g, unsigned char c)
{
  if (g->hpart != DF_GZH_HCRC) g->hcrc = df_crc32(g->hcrc, &c, 1);
  switch (g->hpart) {
  case DF_GZH_FIXED:
    g->hb[g->hn++] = c;
    if (g->hn < 10) return 1;
    if (g->hb[0] != 0x1f || g->hb[1] != 0x8b)
      return (int)df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s", "incorrect header check");
    if (g->hb[2] != 8)
      return (int)df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s", "unknown compression method");
    g->flags = g->hb[3];
    if (g->flags & 0xe0)
      return (int)df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s", "unknown header flags set");
    return df_gz_header_advance(g, DF_GZH_FIXED);
  case DF_GZH_XLEN:
    g->hb[g->hn++] = c;
    if (g->hn < 2) return 1;
    g->hneed = (uint32_t)g->hb[0] | (uint32_t)g->hb[1] << 8;
    g->hpart = DF_GZH_EXTRA;
    if (g->hneed > 0) return 1;
    return df_gz_header_advance(g, DF_GZH_EXTRA);
  case DF_GZH_EXTRA:
    if (--g->hneed > 0) return 1;
    return df_gz_header_advance(g, DF_GZH_EXTRA);
  case DF_GZH_NAME:
  case DF_GZH_COMMENT:
    if (c != 0) return 1;
    return df_gz_header_advance(g, g->hpart);
  case DF_GZH_HCRC:
    g->hb[g->hn++] = c;
    if (g->hn < 2) return 1;
    if (((uint32_t)g->hb[0] | (uint32_t)g->hb[1] << 8) != (g->hcrc & 0xffffu))
      return (int)df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s", "header crc mismatch");
    return DF_OK;
  }
  return DF_OK;
}

/* ---- access points ---- */

static int
df_gz_point_set(struct df_gz *g, struct df_gz_point *p)
{
  uInt wlen = 0;

  if (p->window == NULL) {
    p->window = malloc(DF_GZ_WINDOW);
    if (p->window == NULL) return DF_ENOMEM;
  }
  if (inflateGetDictionary(&g->zs, p->window, &wlen) != Z_OK) return DF_ENOMEM;
  p->out = g->out_pos;
  p->in = df_gz_in_pos(g);
  p->bits = g->zs.data_type & 7;
  p->wlen = (uint32_t)wlen;
  return DF_OK;
}

static int
df_gz_point_push(struct df_gz *g, struct df_gz_point *p)
{
  if (g->npts == g->cap) {
    size_t cap = g->cap == 0 ? 32 : g->cap * 2;
    struct df_gz_point *grown = realloc(g->pts, cap * sizeof(*grown));
    if (grown == NULL) return DF_ENOMEM;
    g->pts = grown;
    g->cap = cap;
  }
  g->pts[g->npts++] = *p;
  g->last_kept_out = p->out;
  return DF_OK;
}

/* At a block boundary (or a member's start): a permanent point every span
 * bytes, a recent one every MiB. */
static int
df_gz_at_boundary(struct df_gz *g, bool member_start)
{
  int rc;

  if (member_start || g->npts == 0 || g->out_pos - g->last_kept_out >= g->span) {
    struct df_gz_point p = {0};
    if (g->npts > 0 && g->pts[g->npts - 1].out == g->out_pos) return DF_OK;
    rc = df_gz_point_set(g, &p);
    if (rc == DF_OK) rc = df_gz_point_push(g, &p);
    if (rc != DF_OK) free(p.window);
    return rc;
  }
  if (!g->any_recent || g->out_pos - g->last_recent_out >= DF_GZ_RECENT_SPAN) {
    struct df_gz_point *p = &g->recent[g->recent_next];
    rc = df_gz_point_set(g, p);
    if (rc != DF_OK) return rc;
    g->recent_next = (g->recent_next + 1) % DF_GZ_RECENT;
    if (g->nrecent < DF_GZ_RECENT) g->nrecent++;
    g->last_recent_out = g->out_pos;
    g->any_recent = true;
  }
  return DF_OK;
}

int
df_gz_index_start(struct df_gz *g, uint64_t span)
{
  g->indexing = true;
  g->span = span > 0 ? span : 1;
  return DF_OK;
}

int
df_gz_keep(struct df_gz *g, uint64_t out)
{
  struct df_gz_point *best = NULL;
  struct df_gz_point copy;

  if (!g->indexing) return DF_OK;
  for (size_t i = 0; i < g->nrecent; i++) {
    struct df_gz_point *p = &g->recent[i];
    if (p->out <= out && p->out > g->last_kept_out && (best == NULL || p->out > best->out)) best = p;
  }
  if (best == NULL) return DF_OK; /* the last permanent point is the best at hand */
  copy = *best;
  copy.window = malloc(DF_GZ_WINDOW);
  if (copy.window == NULL) return DF_ENOMEM;
  memcpy(copy.window, best->window, copy.wlen);
  if (df_gz_point_push(g, &copy) != DF_OK) {
    free(copy.window);
    return DF_ENOMEM;
  }
  return DF_OK;
}

size_t
df_gz_take_points(struct df_gz *g, struct df_gz_point **pts)
{
  size_t n = g->npts;

  *pts = g->pts;
  g->pts = NULL;
  g->npts = g->cap = 0;
  return n;
}

void
df_gz_points_free(struct df_gz_point *pts, size_t n)
{
  if (pts == NULL) return;
  for (size_t i = 0; i < n; i++) free(pts[i].window);
  free(pts);
}

/* ---- reading ---- */

static void
df_gz_member_begin(struct df_gz *g)
{
  g->state = DF_GZ_HEADER;
  g->hpart = DF_GZH_FIXED;
  g->hn = 0;
  g->hcrc = 0;
  g->crc = 0;
  g->isize = 0;
  g->check = true;
}

ssize_t
df_gz_read(struct df_gz *g, void *buf, size_t len)
{
  unsigned char *out = buf;
  size_t done = 0;
  int r;

  if (g->err != 0) return g->err;
  while (done < len && g->state != DF_GZ_DONE) {
    r = df_gz_fill(g);
    if (r < 0) break;
    if (r == 0) {
      if (g->state != DF_GZ_BETWEEN) {
        df_gz_fail(g, DF_ECORRUPT, "%s", "truncated gzip input");
        break;
      }
      g->state = DF_GZ_DONE;
      break;
    }
    switch (g->state) {
    case DF_GZ_BETWEEN:
      df_gz_member_begin(g);
      /* fall through */
    case DF_GZ_HEADER:
      while (g->zs.avail_in > 0) {
        r = df_gz_header_byte(g, df_gz_take(g));
        if (r < 0) break;
        if (r == DF_OK) {
          if (inflateReset(&g->zs) != Z_OK) {
            df_gz_fail(g, DF_ENOMEM, "%s", "gzip reset failed");
            break;
          }
          g->state = DF_GZ_BODY;
          if (g->indexing) {
            r = df_gz_at_boundary(g, true);
            if (r != DF_OK) df_gz_fail(g, r, "%s", "out of memory in gzip");
          }
          break;
        }
      }
      break;
    case DF_GZ_BODY: {
      size_t want = len - done;
      unsigned char *start = out + done;
      g->zs.next_out = start;
      g->zs.avail_out = want > UINT32_MAX ? UINT32_MAX : (uInt)want;
      r = inflate(&g->zs, g->indexing ? Z_BLOCK : Z_NO_FLUSH);
      {
        size_t got = (size_t)(g->zs.next_out - start);
        if (got > 0) {
          if (g->check) g->crc = df_crc32(g->crc, start, got);
          g->isize += (uint32_t)got;
          g->out_pos += got;
          done += got;
        }
      }
      if (r == Z_STREAM_END) {
        g->state = DF_GZ_TRAILER;
        g->tn = 0;
      } else if (r == Z_MEM_ERROR) {
        df_gz_fail(g, DF_ENOMEM, "%s", "out of memory in gzip");
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s",
                   g->zs.msg != NULL ? g->zs.msg : "inflate error");
      } else if (g->indexing && (g->zs.data_type & 128) && !(g->zs.data_type & 64)) {
        r = df_gz_at_boundary(g, false);
        if (r != DF_OK) df_gz_fail(g, r, "%s", "out of memory in gzip");
      }
      break;
    }
    case DF_GZ_TRAILER:
      while (g->zs.avail_in > 0 && g->tn < 8) g->tb[g->tn++] = df_gz_take(g);
      if (g->tn < 8) break;
      if (g->check) {
        uint32_t crc = (uint32_t)g->tb[0] | (uint32_t)g->tb[1] << 8 | (uint32_t)g->tb[2] << 16 |
                       (uint32_t)g->tb[3] << 24;
        uint32_t isize = (uint32_t)g->tb[4] | (uint32_t)g->tb[5] << 8 |
                         (uint32_t)g->tb[6] << 16 | (uint32_t)g->tb[7] << 24;
        if (crc != g->crc) {
          df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s", "incorrect data check");
          break;
        }
        if (isize != g->isize) {
          df_gz_fail(g, DF_ECORRUPT, "gzip data is corrupt: %s", "incorrect length check");
          break;
        }
      }
      g->state = DF_GZ_BETWEEN;
      break;
    case DF_GZ_DONE:
      break;
    }
    if (g->err != 0) break;
  }
  /* What was inflated before an error is handed out first; the error (kept)
   * comes with the next call, as zlib's gzip reader did. */
  if (g->err != 0 && done == 0) return g->err;
  return (ssize_t)done;
}

int
df_gz_resume(struct df_gz *g, const struct df_gz_point *p)
{
  unsigned char c = 0;
  ssize_t n;

  g->err = 0;
  g->msg[0] = '\0';
  if (inflateReset(&g->zs) != Z_OK) return DF_ENOMEM;
  if (p->bits > 0) {
    if (p->in == 0) return DF_ECORRUPT;
    do {
      n = pread(g->fd, &c, 1, (off_t)(p->in - 1));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return df_error_from_errno(errno);
    if (n == 0) return DF_ECORRUPT;
    if (inflatePrime(&g->zs, p->bits, c >> (8 - p->bits)) != Z_OK) return DF_ECORRUPT;
  }
  if (p->wlen > 0 && inflateSetDictionary(&g->zs, p->window, p->wlen) != Z_OK) return DF_ECORRUPT;
  g->in_off = p->in;
  g->in_len = 0;
  g->in_eof = false;
  g->zs.next_in = g->in;
  g->zs.avail_in = 0;
  g->out_pos = p->out;
  g->state = DF_GZ_BODY;
  g->check = false;
  return DF_OK;
}

void
df_gz_free(struct df_gz *g)
{
  if (g == NULL) return;
  if (g->zs_ready) inflateEnd(&g->zs);
  if (g->fd >= 0) close(g->fd);
  df_gz_points_free(g->pts, g->npts);
  for (size_t i = 0; i < DF_GZ_RECENT; i++) free(g->recent[i].window);
  free(g->in);
  free(g);
}
