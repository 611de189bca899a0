/* ADB packet header, checksum, banner and the incremental packet reader. */
#include "plugins/adb/adb_packet.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

uint32_t
df_adb_checksum(const void *data, size_t len)
{
  const uint8_t *p = data;
  uint32_t sum = 0;

  for (size_t i = 0; i < len; i++) sum += p[i];
  return sum;
}

void
df_adb_header_make(struct df_adb_header *h, uint32_t command, uint32_t arg0, uint32_t arg1,
                   const void *payload, uint32_t len, bool with_checksum)
{
  h->command = command;
  h->arg0 = arg0;
  h->arg1 = arg1;
  h->data_length = len;
  h->data_check = with_checksum && len > 0 ? df_adb_checksum(payload, len) : 0;
  h->magic = command ^ 0xffffffffu;
}

static void
df_put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t
df_get_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void
df_adb_header_encode(const struct df_adb_header *h, uint8_t out[DF_ADB_HEADER_SIZE])
{
  df_put_le32(out + 0, h->command);
  df_put_le32(out + 4, h->arg0);
  df_put_le32(out + 8, h->arg1);
  df_put_le32(out + 12, h->data_length);
  df_put_le32(out + 16, h->data_check);
  df_put_le32(out + 20, h->magic);
}

const char *
df_adb_command_name(uint32_t command)
{
  switch (command) {
  case DF_ADB_CNXN: return "CNXN";
  case DF_ADB_AUTH: return "AUTH";
  case DF_ADB_OPEN: return "OPEN";
  case DF_ADB_OKAY: return "OKAY";
  case DF_ADB_WRTE: return "WRTE";
  case DF_ADB_CLSE: return "CLSE";
  case DF_ADB_STLS: return "STLS";
  default: return "????";
  }
}

int
df_adb_header_decode(const uint8_t in[DF_ADB_HEADER_SIZE], uint32_t max_payload,
                     struct df_adb_header *h)
{
  h->command = df_get_le32(in + 0);
  h->arg0 = df_get_le32(in + 4);
  h->arg1 = df_get_le32(in + 8);
  h->data_length = df_get_le32(in + 12);
  h->data_check = df_get_le32(in + 16);
  h->magic = df_get_le32(in + 20);
  if (h->magic != (h->command ^ 0xffffffffu)) return DF_EPROTO;
  if (strcmp(df_adb_command_name(h->command), "????") == 0) return DF_EPROTO;
  if (h->data_length > max_payload) return DF_EPROTO;
  return DF_OK;
}

static void
df_copy_cut(char *dst, size_t dstlen, const char *src, size_t srclen)
{
  size_t n = srclen < dstlen - 1 ? srclen : dstlen - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

int
df_adb_banner_parse(const char *data, size_t len, struct df_adb_banner *b)
{
  const char *end, *colon, *props, *p;

  memset(b, 0, sizeof(*b));
  /* A banner may carry a trailing NUL; it is not part of the text. */
  while (len > 0 && data[len - 1] == '\0') len--;
  end = data + len;
  colon = memchr(data, ':', len);
  if (colon == NULL || colon == data) return DF_EPROTO;
  df_copy_cut(b->state, sizeof(b->state), data, (size_t)(colon - data));
  props = memchr(colon + 1, ':', (size_t)(end - colon - 1));
  if (props == NULL) return DF_OK; /* old banners: "device::" may end early */
  for (p = props + 1; p < end;) {
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *stop = semi != NULL ? semi : end;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    if (eq != NULL) {
      size_t klen = (size_t)(eq - p);
      const char *v = eq + 1;
      size_t vlen = (size_t)(stop - v);
      if (klen == 15 && memcmp(p, "ro.product.name", klen) == 0)
        df_copy_cut(b->product_name, sizeof(b->product_name), v, vlen);
      else if (klen == 16 && memcmp(p, "ro.product.model", klen) == 0)
        df_copy_cut(b->model, sizeof(b->model), v, vlen);
      else if (klen == 17 && memcmp(p, "ro.product.device", klen) == 0)
        df_copy_cut(b->device, sizeof(b->device), v, vlen);
      else if (klen == 8 && memcmp(p, "features", klen) == 0)
        df_copy_cut(b->features, sizeof(b->features), v, vlen);
    }
    p = stop + 1;
  }
  return DF_OK;
}

bool
df_adb_banner_has_feature(const struct df_adb_banner *b, const char *feature)
{
  size_t flen = strlen(feature);
  const char *p = b->features;

  while (*p != '\0') {
    const char *comma = strchr(p, ',');
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (len == flen && memcmp(p, feature, flen) == 0) return true;
    if (comma == NULL) break;
    p = comma + 1;
  }
  return false;
}

int
df_adb_reader_init(struct df_adb_reader *r, uint32_t max_payload)
{
  memset(r, 0, sizeof(*r));
  r->payload = malloc(max_payload > 0 ? max_payload : 1);
  if (r->payload == NULL) return DF_ENOMEM;
  r->max_payload = max_payload;
  r->verify_checksum = true;
  return DF_OK;
}

int
df_adb_reader_set_max_payload(struct df_adb_reader *r, uint32_t max_payload)
{
  uint8_t *p;

  if (max_payload <= r->max_payload) {
    r->max_payload = max_payload;
    return DF_OK;
  }
  p = realloc(r->payload, max_payload);
  if (p == NULL) return DF_ENOMEM;
  r->payload = p;
  r->max_payload = max_payload;
  return DF_OK;
}

int
df_adb_reader_feed(struct df_adb_reader *r, const uint8_t *data, size_t len,
                   df_adb_packet_fn on_packet, void *ctx)
{
  while (len > 0) {
    if (r->header_have < DF_ADB_HEADER_SIZE) {
      size_t n = DF_ADB_HEADER_SIZE - r->header_have;
      if (n > len) n = len;
      memcpy(r->header_bytes + r->header_have, data, n);
      r->header_have += n;
      data += n;
      len -= n;
      if (r->header_have < DF_ADB_HEADER_SIZE) return DF_OK;
      int rc = df_adb_header_decode(r->header_bytes, r->max_payload, &r->header);
      if (rc != DF_OK) return rc;
      r->payload_have = 0;
    }
    if (r->payload_have < r->header.data_length) {
      size_t n = r->header.data_length - r->payload_have;
      if (n > len) n = len;
      memcpy(r->payload + r->payload_have, data, n);
      r->payload_have += n;
      data += n;
      len -= n;
      if (r->payload_have < r->header.data_length) return DF_OK;
    }
    /* A whole packet. Checksums are 0 from peers that skip them. */
    if (r->verify_checksum && r->header.data_check != 0 &&
        r->header.data_check != df_adb_checksum(r->payload, r->header.data_length))
      return DF_ECORRUPT;
    r->header_have = 0;
    r->payload_have = 0;
    int stop = on_packet(ctx, &r->header, r->payload);
    if (stop != 0) return stop;
  }
  return DF_OK;
}

void
df_adb_reader_free(struct df_adb_reader *r)
{
  free(r->payload);
  r->payload = NULL;
}
