/* Base64 (RFC 4648, with padding): pure functions. */
#ifndef DF_CORE_BASE64_H
#define DF_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed for the encoding of n bytes, NUL included. */
size_t
df_base64_encoded_size(size_t n);

/* Encodes n bytes into out (NUL-terminated); returns the length written. */
size_t
df_base64_encode(const uint8_t *in, size_t n, char *out);

/* Decodes text (stops at the first NUL, space or end); returns the number of
 * bytes, or DF_ECORRUPT on a bad character or padding, DF_ETOOBIG when out is
 * too small. */
long
df_base64_decode(const char *text, size_t textlen, uint8_t *out, size_t outlen);

#endif
