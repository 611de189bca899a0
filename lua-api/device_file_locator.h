/* Where each field of a device file is written. Lua forgets where a table
 * field came from, so the source is also read by a small parser of the one
 * `return { ... }` table constructor (over device_file_lex.h), which
 * records, for every field path ("modes.fastboot.steps[2].keys[1]"), the
 * line its key (or, for a list item, its value) starts on and the line its
 * value ends on. Messages then name FILE:LINE: FIELD. */
#ifndef DF_LUA_DEVICE_FILE_LOCATOR_H
#define DF_LUA_DEVICE_FILE_LOCATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "lua-api/device_file_path.h"

struct df_locator_entry {
  char *path;
  int line;     /* the key's line (a list item: its value's first line) */
  int end_line; /* the value's last line */
};

struct df_locator {
  struct df_locator_entry *e;
  size_t n;
  size_t cap;
  bool shape_ok;   /* the file is one `return { ... }` */
  int return_line; /* 1 when not found */
};

/* Builds the locator of one source text. Never fails hard: on text it
 * cannot follow (or out of memory) it keeps what it found, and shape_ok
 * stays false. Free it with df_locator_free. */
void
df_locator_build(struct df_locator *loc, const char *src, size_t len);

void
df_locator_free(struct df_locator *loc);

/* The line of path, or of its nearest written ancestor; 0 if none. */
int
df_locator_find(const struct df_locator *loc, const struct df_field_path *p);

/* The line of exactly this path; 0 if it is not written. */
int
df_locator_line_of(const struct df_locator *loc, const char *path);

/* The innermost field written across line, or NULL. */
const char *
df_locator_field_at(const struct df_locator *loc, int line);

#endif
