/* Field paths of a device file, spelled as messages write them:
 * modes.fastboot.steps[2].keys[1], match["ro.product.device"]. A path
 * being walked remembers where each segment starts, so that the nearest
 * written ancestor of a field can be looked up. */
#ifndef DF_LUA_DEVICE_FILE_PATH_H
#define DF_LUA_DEVICE_FILE_PATH_H

#include <stddef.h>

#define DF_FIELD_PATH_MAX 512
/* How deep a device file's tables may nest. */
#define DF_FIELD_DEPTH_MAX 16

struct df_field_path {
  char s[DF_FIELD_PATH_MAX];
  size_t len;
  size_t marks[DF_FIELD_DEPTH_MAX + 8]; /* len before each segment */
  int depth;
};

/* Appends one key to the path in buf (len long, cap bytes) as .name,
 * ["odd-name"] or [3]. Returns the new length; unchanged (and buf as it
 * was) when the segment does not fit. */
size_t
df_field_path_append_key(char *buf, size_t cap, size_t len, const char *key);
size_t
df_field_path_append_index(char *buf, size_t cap, size_t len, long long i);

void
df_field_path_init(struct df_field_path *p);
void
df_field_path_push_key(struct df_field_path *p, const char *key);
void
df_field_path_push_index(struct df_field_path *p, long long i);
void
df_field_path_pop(struct df_field_path *p);

#endif
