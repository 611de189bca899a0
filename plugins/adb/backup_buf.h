/* A growing text buffer for the backup's small texts (manifest, meta files):
 * private to plugins/adb/backup*.c. */
#ifndef DF_ADB_BACKUP_BUF_H
#define DF_ADB_BACKUP_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct df_backup_buf {
  char *data; /* NUL-terminated when not NULL */
  size_t len;
  size_t cap;
  int err;    /* sticky DF_ENOMEM */
};

void
df_backup_buf_append(struct df_backup_buf *b, const char *data, size_t len);

void
df_backup_buf_printf(struct df_backup_buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

void
df_backup_buf_free(struct df_backup_buf *b);

#endif
