/* The backup's growing text buffer, and quoting for the phone's shell. */
#include "plugins/adb/backup_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "plugins/adb/backup.h"

void
df_backup_buf_append(struct df_backup_buf *b, const char *data, size_t len)
{
  if (b->err != 0) return;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + len + 1) cap *= 2;
    char *n = realloc(b->data, cap);
    if (n == NULL) {
      b->err = DF_ENOMEM;
      return;
    }
    b->data = n;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void
df_backup_buf_printf(struct df_backup_buf *b, const char *fmt, ...)
{
  char small[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof(small)) {
    df_backup_buf_append(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    b->err = DF_ENOMEM;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  df_backup_buf_append(b, big, (size_t)n);
  free(big);
}

void
df_backup_buf_free(struct df_backup_buf *b)
{
  free(b->data);
  memset(b, 0, sizeof(*b));
}

size_t
df_backup_shell_quote(const char *text, char *out, size_t outlen)
{
  size_t n = 0;

#define DF_PUT(ch)                           \
  do {                                       \
    if (n + 1 < outlen) out[n] = (ch);       \
    n++;                                     \
  } while (0)
  DF_PUT('\'');
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '\'') {
      DF_PUT('\'');
      DF_PUT('\\');
      DF_PUT('\'');
      DF_PUT('\'');
    } else {
      DF_PUT(*p);
    }
  }
  DF_PUT('\'');
#undef DF_PUT
  if (outlen > 0) out[n < outlen ? n : outlen - 1] = '\0';
  return n;
}
