/* Fuzzes core/base64.h: the input decoded as text (into a buffer large
 * enough and into one that is not), and the input encoded then decoded.
 * Checked: the output never overruns its buffer (ASan); a decode that
 * succeeds gives bytes that encode to text of the same length decoding to
 * the same bytes; any bytes survive encode + decode unchanged. */
#include "tests/fuzz/fuzz_util.h"

#include "core/base64.h"
#include "core/error.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  size_t textlen = 0, cap = size / 4 * 3 + 3;
  uint8_t *out = malloc(cap), *small, *again;
  char *enc = malloc(df_base64_encoded_size(size > cap ? size : cap));
  long n, m;

  DF_FUZZ_CHECK(out != NULL && enc != NULL, "malloc");
  while (textlen < size && text[textlen] != '\0' && text[textlen] != ' ' && text[textlen] != '\n')
    textlen++;

  n = df_base64_decode(text, size, out, cap);
  DF_FUZZ_CHECK(n == DF_ECORRUPT || (n >= 0 && (size_t)n <= cap), "decode: %ld", n);
  if (n >= 0) {
    DF_FUZZ_CHECK(textlen % 4 == 0 && (size_t)n <= textlen / 4 * 3 && (size_t)n + 2 >= textlen / 4 * 3,
                  "%ld bytes from %zu characters", n, textlen);
    size_t elen = df_base64_encode(out, (size_t)n, enc);
    DF_FUZZ_CHECK(elen == textlen, "re-encoded to %zu characters, not %zu", elen, textlen);
    again = malloc(cap);
    m = df_base64_decode(enc, elen, again, cap);
    DF_FUZZ_CHECK(m == n && memcmp(again, out, (size_t)n) == 0, "re-encoding decodes otherwise");
    free(again);
    /* One byte short of the room it needs. */
    if (n > 0) {
      small = malloc((size_t)n);
      DF_FUZZ_CHECK(df_base64_decode(text, size, small, (size_t)n - 1) == DF_ETOOBIG,
                    "no DF_ETOOBIG with %ld - 1 bytes of room", n);
      free(small);
    }
  }

  /* Any bytes round-trip. */
  size_t elen = df_base64_encode(data, size, enc);
  DF_FUZZ_CHECK(elen + 1 == df_base64_encoded_size(size), "encoded size");
  again = malloc(size + 1);
  m = df_base64_decode(enc, elen, again, size);
  DF_FUZZ_CHECK(m == (long)size && (size == 0 || memcmp(again, data, size) == 0),
                "round trip of %zu bytes: %ld", size, m);
  free(again);
  free(out);
  free(enc);
  return 0;
}
