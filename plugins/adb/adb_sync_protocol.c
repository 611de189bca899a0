/* Sync protocol requests and the incremental reply decoder. */
#include "plugins/adb/adb_sync_protocol.h"

#include <string.h>

#include "core/error.h"

static uint32_t
df_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
df_le64(const uint8_t *p)
{
  return (uint64_t)df_le32(p) | (uint64_t)df_le32(p + 4) << 32;
}

void
df_sync_header_encode(uint8_t out[8], uint32_t id, uint32_t value)
{
  for (int i = 0; i < 4; i++) {
    out[i] = (uint8_t)(id >> (8 * i));
    out[4 + i] = (uint8_t)(value >> (8 * i));
  }
}

long
df_sync_request_encode(uint8_t *out, size_t outlen, uint32_t id, const char *path)
{
  size_t len = strlen(path);

  if (len > DF_SYNC_PATH_MAX || outlen < 8 + len) return DF_ETOOBIG;
  df_sync_header_encode(out, id, (uint32_t)len);
  memcpy(out + 8, path, len);
  return (long)(8 + len);
}

void
df_sync_decoder_expect(struct df_sync_decoder *d, enum df_sync_expect expect)
{
  memset(d, 0, sizeof(*d));
  d->expect = expect;
  d->header_need = 4; /* the id first; its size decides the rest */
}

/* Size of the fixed part of a reply with this id in this context, or 0 if
 * the id does not belong here. */
static size_t
df_sync_fixed_size(enum df_sync_expect expect, uint32_t id)
{
  switch (expect) {
  case DF_SYNC_EXPECT_STAT: return id == DF_SYNC_STAT ? 16 : 0;
  case DF_SYNC_EXPECT_STAT2: return id == DF_SYNC_STA2 || id == DF_SYNC_LST2 ? 72 : 0;
  case DF_SYNC_EXPECT_LIST: return id == DF_SYNC_DENT || id == DF_SYNC_DONE ? 20 : 0;
  case DF_SYNC_EXPECT_RECV:
    return id == DF_SYNC_DATA || id == DF_SYNC_DONE || id == DF_SYNC_FAIL ? 8 : 0;
  case DF_SYNC_EXPECT_STATUS: return id == DF_SYNC_OKAY || id == DF_SYNC_FAIL ? 8 : 0;
  }
  return 0;
}

static void
df_sync_parse_stat2(const uint8_t *h, struct df_sync_stat *st)
{
  /* id, error, dev(8), ino(8), mode, nlink, uid, gid, size(8), atime(8),
   * mtime(8), ctime(8) */
  st->error = df_le32(h + 4);
  st->mode = df_le32(h + 24);
  st->uid = df_le32(h + 32);
  st->gid = df_le32(h + 36);
  st->size = df_le64(h + 40);
  st->mtime = (int64_t)df_le64(h + 56);
  st->exists = st->error == 0;
}

/* The fixed part is complete: act on it. Returns DF_EPROTO or 0. */
static int
df_sync_on_header(struct df_sync_decoder *d, const struct df_sync_events *ev, void *ctx)
{
  const uint8_t *h = d->header;
  struct df_sync_stat st;

  memset(&st, 0, sizeof(st));
  switch (d->id) {
  case DF_SYNC_STAT:
    st.mode = df_le32(h + 4);
    st.size = df_le32(h + 8);
    st.mtime = df_le32(h + 12);
    st.exists = st.mode != 0 || st.size != 0 || st.mtime != 0;
    d->finished = true;
    ev->on_stat(ctx, &st);
    return 0;
  case DF_SYNC_STA2:
  case DF_SYNC_LST2:
    df_sync_parse_stat2(h, &st);
    d->finished = true;
    ev->on_stat(ctx, &st);
    return 0;
  case DF_SYNC_DENT:
    d->pending_dent.mode = df_le32(h + 4);
    d->pending_dent.size = df_le32(h + 8);
    d->pending_dent.mtime = df_le32(h + 12);
    d->pending_dent.exists = true;
    d->remaining = df_le32(h + 16);
    if (d->remaining > DF_SYNC_PATH_MAX) return DF_EPROTO;
    d->text_have = 0;
    return 0;
  case DF_SYNC_DONE:
    d->finished = true;
    ev->on_done(ctx);
    return 0;
  case DF_SYNC_OKAY:
    d->finished = true;
    ev->on_done(ctx);
    return 0;
  case DF_SYNC_DATA:
    d->remaining = df_le32(h + 4);
    if (d->remaining > DF_SYNC_DATA_MAX) return DF_EPROTO;
    return 0;
  case DF_SYNC_FAIL:
    d->remaining = df_le32(h + 4);
    if (d->remaining > sizeof(d->text) - 1) return DF_EPROTO;
    d->text_have = 0;
    return 0;
  default:
    return DF_EPROTO;
  }
}

/* The variable part (name, message) is complete. */
static void
df_sync_on_text(struct df_sync_decoder *d, const struct df_sync_events *ev, void *ctx)
{
  d->text[d->text_have] = '\0';
  if (d->id == DF_SYNC_DENT) {
    ev->on_dent(ctx, d->text, &d->pending_dent);
  } else {
    d->finished = true;
    ev->on_fail(ctx, d->text);
  }
}

long
df_sync_decoder_feed(struct df_sync_decoder *d, const uint8_t *data, size_t len,
                     const struct df_sync_events *ev, void *ctx)
{
  size_t used = 0;

  while (used < len && !d->finished) {
    if (d->header_have < d->header_need) {
      size_t n = d->header_need - d->header_have;
      if (n > len - used) n = len - used;
      memcpy(d->header + d->header_have, data + used, n);
      d->header_have += n;
      used += n;
      if (d->header_have < d->header_need) break;
      if (d->header_need == 4) {
        d->id = df_le32(d->header);
        d->header_need = df_sync_fixed_size(d->expect, d->id);
        if (d->header_need == 0) return DF_EPROTO;
        continue;
      }
      int rc = df_sync_on_header(d, ev, ctx);
      if (rc != 0) return rc;
      if (d->remaining == 0 && (d->id == DF_SYNC_DENT || d->id == DF_SYNC_FAIL))
        df_sync_on_text(d, ev, ctx);
      if (d->remaining == 0) d->header_have = 0, d->header_need = 4;
      continue;
    }
    size_t n = d->remaining < len - used ? d->remaining : len - used;
    if (d->id == DF_SYNC_DATA) {
      ev->on_data(ctx, data + used, n);
    } else {
      memcpy(d->text + d->text_have, data + used, n);
      d->text_have += n;
    }
    d->remaining -= (uint32_t)n;
    used += n;
    if (d->remaining == 0) {
      if (d->id != DF_SYNC_DATA) df_sync_on_text(d, ev, ctx);
      d->header_have = 0;
      d->header_need = 4;
    }
  }
  return (long)used;
}
