/* Inside lua-api/device_file*.c: every device file's id under a devices
 * folder, sorted (what df_device_file_list walks and the matcher loads). */
#ifndef DF_LUA_DEVICE_FILE_IDS_H
#define DF_LUA_DEVICE_FILE_IDS_H

#include <stddef.h>

struct df_device_ids {
  char **ids;
  size_t n;
  size_t cap;
};

/* Fills l with the ids under devices_dir (recursively; hidden files and
 * folders skipped), sorted. Returns 0, or a negative DF_E* code with l
 * empty. Free it with df_device_ids_free. */
int
df_device_ids_load(struct df_device_ids *l, const char *devices_dir);

void
df_device_ids_free(struct df_device_ids *l);

#endif
