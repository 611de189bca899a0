/* Base64 encoding and decoding. */
#include "core/base64.h"

#include "core/error.h"

static const char df_base64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
df_base64_encoded_size(size_t n)
{
  return (n + 2) / 3 * 4 + 1;
}

size_t
df_base64_encode(const uint8_t *in, size_t n, char *out)
{
  size_t o = 0;

  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = df_base64_alphabet[(v >> 18) & 63];
    out[o++] = df_base64_alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < n ? df_base64_alphabet[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? df_base64_alphabet[v & 63] : '=';
  }
  out[o] = '\0';
  return o;
}

static int
df_base64_value(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long
df_base64_decode(const char *text, size_t textlen, uint8_t *out, size_t outlen)
{
  size_t len = 0, o = 0;

  while (len < textlen && text[len] != '\0' && text[len] != ' ' && text[len] != '\n')
    len++;
  if (len % 4 != 0) return DF_ECORRUPT;
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      char c = text[i + k];
      if (c == '=' && i + 4 == len && k >= 2) {
        v[k] = 0;
        pad++;
      } else if (pad > 0 || (v[k] = df_base64_value(c)) < 0) {
        return DF_ECORRUPT;
      }
    }
    uint32_t word = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    int bytes = 3 - pad;
    if (o + (size_t)bytes > outlen) return DF_ETOOBIG;
    out[o++] = (uint8_t)(word >> 16);
    if (bytes > 1) out[o++] = (uint8_t)(word >> 8);
    if (bytes > 2) out[o++] = (uint8_t)word;
  }
  return (long)o;
}
