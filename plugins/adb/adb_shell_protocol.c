/* Shell v2 packet framing. */
#include "plugins/adb/adb_shell_protocol.h"

#include <string.h>

void
df_shell_header_encode(uint8_t out[DF_SHELL_HEADER_SIZE], enum df_shell_id id, uint32_t len)
{
  out[0] = (uint8_t)id;
  out[1] = (uint8_t)len;
  out[2] = (uint8_t)(len >> 8);
  out[3] = (uint8_t)(len >> 16);
  out[4] = (uint8_t)(len >> 24);
}

void
df_shell_decoder_init(struct df_shell_decoder *d)
{
  memset(d, 0, sizeof(*d));
}

int
df_shell_decoder_feed(struct df_shell_decoder *d, const uint8_t *data, size_t len,
                      df_shell_data_fn on_data, void *ctx)
{
  int rc;

  while (len > 0) {
    if (d->header_have < DF_SHELL_HEADER_SIZE) {
      size_t n = DF_SHELL_HEADER_SIZE - d->header_have;
      if (n > len) n = len;
      memcpy(d->header + d->header_have, data, n);
      d->header_have += n;
      data += n;
      len -= n;
      if (d->header_have < DF_SHELL_HEADER_SIZE) return 0;
      d->id = d->header[0];
      d->remaining = (uint32_t)d->header[1] | (uint32_t)d->header[2] << 8 |
                     (uint32_t)d->header[3] << 16 | (uint32_t)d->header[4] << 24;
      if (d->remaining == 0) {
        d->header_have = 0;
        rc = on_data(ctx, d->id, data, 0);
        if (rc != 0) return rc;
        continue;
      }
      if (len == 0) return 0;
    }
    size_t n = d->remaining < len ? d->remaining : len;
    d->remaining -= (uint32_t)n;
    if (d->remaining == 0) d->header_have = 0;
    rc = on_data(ctx, d->id, data, n);
    if (rc != 0) return rc;
    data += n;
    len -= n;
  }
  return 0;
}
