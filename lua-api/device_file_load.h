/* Inside lua-api/device_file*.c: the state of loading one device file and
 * the files it extends, and how its errors are reported. Not for other
 * layers: they use lua-api/device_file.h. */
#ifndef DF_LUA_DEVICE_FILE_LOAD_H
#define DF_LUA_DEVICE_FILE_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "lua-api/device_file.h"
#include "lua-api/device_file_locator.h"
#include "lua-api/device_file_path.h"

/* One file of an extends chain. */
struct df_device_source {
  char id[DF_DEVICE_ID_MAX];
  char *display; /* devices_dir/id.lua, as messages name it */
  char *src;
  size_t len;
  struct df_locator loc;
  int ref; /* the file's table in P's registry */
};

struct df_device_mem {
  size_t used;
  size_t limit;
};

struct df_device_load {
  const char *dir;
  const char *root_id;
  struct df_device_source files[DF_DEVICE_FILE_MAX_EXTENDS]; /* [0]: root_id */
  int nfiles;
  int cur;       /* file being checked, or -1 for the merged table */
  bool abstract; /* the loaded file says abstract = true */
  char *err;
  size_t errlen;
  int rc;        /* the first error recorded */
  long instructions;
  int last_line; /* the line the running file last reached */
  struct df_device_mem mem;
  lua_State *P;  /* private to this load */
};

/* Loads id into a fresh private state ld->P and checks it; on success the
 * merged table is on the top of ld->P. Returns 0 or a negative DF_E* code
 * with err filled. Call df_device_load_free afterwards either way. */
int
df_device_load_run(struct df_device_load *ld, const char *devices_dir, const char *id, char *err,
                   size_t errlen);

void
df_device_load_free(struct df_device_load *ld);

/* Records the load's error unless one is recorded already (the first one
 * wins). */
void
df_device_load_error(struct df_device_load *ld, int rc, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Records a schema error "FILE:LINE: FIELD: problem" at path p: in the
 * file being checked, or, for the merged table, in the first file of the
 * chain (leaf first) that writes p or its nearest ancestor. Returns -1 so
 * callers can `return df_device_fail(...)`. */
int
df_device_fail(struct df_device_load *ld, const struct df_field_path *p, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* df_device_fail with "expected EXPECTED, got <the value at idx>". */
int
df_device_fail_type(struct df_device_load *ld, const struct df_field_path *p, int idx,
                    const char *expected);

/* A Lua error message "chunk:LINE: text" from running file fi becomes
 * "FILE:LINE: FIELD: text[; hint]"; line, when not 0, wins over the
 * message's. */
void
df_device_fail_lua(struct df_device_load *ld, int fi, const char *luamsg, int line,
                   const char *hint);

#endif
