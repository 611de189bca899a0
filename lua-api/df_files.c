/* df.hash.file, df.archive.list, df.archive.read_text and
 * df.firmware.inspect: local files read on the libuv thread pool (the loop
 * is shared by every phone), results pushed on the loop thread. Nothing
 * here writes, and nothing in an archive is ever run. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "core/archive.h"
#include "core/archive_index.h"
#include "core/error.h"
#include "core/flash_script.h"
#include "core/hash.h"
#include "lua-api/bridge.h"
#include "lua-api/df_device.h"

#define DF_FILES_MAX_TEXT (1024 * 1024)
#define DF_FILES_MAX_LIST 200000
#define DF_FILES_MAX_SCRIPTS 16

/* ---- df.hash.file ---- */

struct df_hash_op {
  struct df_bridge_task *task; /* as struct df_files_head */
  bool canceled;
  int status;
  char hex[DF_HASH_HEX_MAX];
};

static int
df_hash_push(lua_State *L, void *ctx)
{
  struct df_hash_op *op = ctx;
  if (op->status != 0) return df_bridge_push_error(L, op->status, NULL);
  lua_pushstring(L, op->hex);
  return 1;
}

static void
df_hash_done(void *data, int status, const char *hex)
{
  struct df_hash_op *op = data;

  if (!op->canceled) {
    op->status = status;
    if (status == 0) snprintf(op->hex, sizeof(op->hex), "%s", hex);
    df_bridge_complete(op->task, df_hash_push, op);
  }
  free(op);
}

/* Both ops start with these two fields: a cancel only marks the op, and
 * its late completion frees it. */
struct df_files_head {
  struct df_bridge_task *task;
  bool canceled;
};

static void
df_files_cancel_flag(void *p)
{
  ((struct df_files_head *)p)->canceled = true;
}

static int
df_lua_hash_file(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  const char *algo_name = luaL_optstring(L, 2, "sha256");
  enum df_hash_algo algo;
  struct df_bridge_task *task;
  struct df_hash_op *op;
  int rc;

  luaL_argcheck(L, df_hash_algo_parse(algo_name, &algo) == 0, 2, "algo: sha256, sha1 or md5");
  task = df_bridge_begin(L, "df.hash.file");
  op = calloc(1, sizeof(*op));
  if (op == NULL) return df_bridge_fail(L, task, DF_ENOMEM);
  op->task = task;
  rc = df_hash_file(df_bridge_loop(task), path, algo, df_hash_done, op);
  if (rc != 0) {
    free(op);
    return df_bridge_fail(L, task, rc);
  }
  df_bridge_set_cancel(task, df_files_cancel_flag, op);
  return df_bridge_wait(L, task);
}

/* ---- archives: one op, three kinds of walk ---- */

enum df_walk_kind { DF_WALK_LIST, DF_WALK_READ, DF_WALK_FIRMWARE };

struct df_walk_entry {
  char *path;
  uint64_t size;
  enum df_archive_entry_type type;
};

struct df_walk_script {
  char *name;
  struct df_flash_script *parsed;
  int parse_err;
};

struct df_walk_op {
  struct df_bridge_task *task; /* as struct df_files_head */
  bool canceled;
  uv_work_t work;
  enum df_walk_kind kind;
  char *path, *entry;
  size_t max_bytes;
  int status;
  char message[512];
  struct df_walk_entry *entries;
  size_t n, cap;
  struct df_walk_entry *files; /* DF_WALK_FIRMWARE: every entry, as listed */
  size_t nfiles, capfiles;
  char *text;
  size_t text_len;
  struct df_walk_script scripts[DF_FILES_MAX_SCRIPTS];
  size_t nscripts;
  long anti;
};

static void
df_walk_free(struct df_walk_op *op)
{
  for (size_t i = 0; i < op->n; i++) free(op->entries[i].path);
  free(op->entries);
  for (size_t i = 0; i < op->nfiles; i++) free(op->files[i].path);
  free(op->files);
  for (size_t i = 0; i < op->nscripts; i++) {
    free(op->scripts[i].name);
    df_flash_script_free(op->scripts[i].parsed);
  }
  free(op->text);
  free(op->path);
  free(op->entry);
  free(op);
}

static const char *
df_walk_type_name(enum df_archive_entry_type t)
{
  switch (t) {
  case DF_ARCHIVE_FILE: return "file";
  case DF_ARCHIVE_DIR: return "dir";
  case DF_ARCHIVE_SYMLINK:
  case DF_ARCHIVE_HARDLINK: return "link";
  default: return "other";
  }
}

static int
df_walk_add_to(struct df_walk_entry **list, size_t *n, size_t *cap, const char *path,
               const struct df_archive_entry *e)
{
  if (*n >= DF_FILES_MAX_LIST) return DF_ETOOBIG;
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    struct df_walk_entry *p = realloc(*list, ncap * sizeof(*p));
    if (p == NULL) return DF_ENOMEM;
    *list = p;
    *cap = ncap;
  }
  (*list)[*n].path = strdup(path);
  if ((*list)[*n].path == NULL) return DF_ENOMEM;
  (*list)[*n].size = e->size;
  (*list)[*n].type = e->type;
  (*n)++;
  return 0;
}

static int
df_walk_add(struct df_walk_op *op, const char *path, const struct df_archive_entry *e)
{
  return df_walk_add_to(&op->entries, &op->n, &op->cap, path, e);
}

/* Reads the current entry's data into a new buffer (at most max bytes:
 * DF_ETOOBIG beyond). */
static int
df_walk_read_all(struct df_archive *a, size_t max, char **out, size_t *len)
{
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  ssize_t r;

  if (buf == NULL) return DF_ENOMEM;
  for (;;) {
    if (n == cap) {
      if (cap > max) break;
      char *p = realloc(buf, cap * 2 + 1);
      if (p == NULL) {
        free(buf);
        return DF_ENOMEM;
      }
      buf = p;
      cap *= 2;
    }
    r = df_archive_read(a, buf + n, cap - n);
    if (r < 0) {
      free(buf);
      return (int)r;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  if (n > max) {
    free(buf);
    return DF_ETOOBIG;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

static bool
df_walk_is_script(const char *rel)
{
  size_t n = strlen(rel);
  return strchr(rel, '/') == NULL && strncmp(rel, "flash_all", 9) == 0 &&
         ((n > 3 && strcmp(rel + n - 3, ".sh") == 0) ||
          (n > 4 && strcmp(rel + n - 4, ".bat") == 0));
}

static void
df_walk_work(uv_work_t *w)
{
  struct df_walk_op *op = w->data;
  struct df_archive *a = NULL;
  struct df_archive_entry e;
  struct stat st;
  uint64_t file_size = 0, declared = 0;
  const char *why;
  int rc, found = 0;

  op->anti = -1;
  if (op->kind == DF_WALK_FIRMWARE && stat(op->path, &st) == 0) file_size = (uint64_t)st.st_size;
  /* A whole walk (list, firmware) is remembered: dev:flash_entry then
   * reads each image from where it starts (core/archive_index.h). */
  if (op->kind == DF_WALK_READ)
    rc = df_archive_open(op->path, &a);
  else
    rc = df_archive_open_indexed(op->path, &a);
  while (rc == 0 && (rc = df_archive_next(a, &e)) == 1) {
    const char *p = e.path, *rel;
    rc = 0;
    while (strncmp(p, "./", 2) == 0) p += 2;
    switch (op->kind) {
    case DF_WALK_LIST:
      rc = df_walk_add(op, p, &e);
      break;
    case DF_WALK_READ:
      if (found || strcmp(p, op->entry) != 0) break;
      found = 1;
      if (e.type != DF_ARCHIVE_FILE) {
        rc = DF_EINVAL;
        snprintf(op->message, sizeof(op->message), "'%s' in the archive is not a file", op->entry);
        break;
      }
      rc = df_walk_read_all(a, op->max_bytes, &op->text, &op->text_len);
      if (rc == DF_ETOOBIG)
        snprintf(op->message, sizeof(op->message), "'%s' is larger than %zu bytes", op->entry,
                 op->max_bytes);
      break;
    case DF_WALK_FIRMWARE:
      /* A way out of the folder it would be unpacked into, a device node,
       * or data that expands a hundredfold: made to harm, not a ROM. */
      if (df_archive_entry_check(&e, &why) != 0) {
        rc = DF_EUNSAFE;
        snprintf(op->message, sizeof(op->message), "unsafe entry %s: %s", e.path, why);
        break;
      }
      rc = df_walk_add_to(&op->files, &op->nfiles, &op->capfiles, p, &e);
      if (rc != 0) break;
      declared += e.size_known ? e.size : 0;
      if (declared > (64u << 20) && declared / 100 > file_size) {
        rc = DF_ETOOBIG;
        snprintf(op->message, sizeof(op->message),
                 "at %s its data expands to more than 100 times the package's size: a "
                 "decompression bomb", e.path);
        break;
      }
      /* the package folder is the first component unless images/ is at the root */
      rel = p;
      if (strncmp(p, "images/", 7) != 0 && strchr(p, '/') != NULL) rel = strchr(p, '/') + 1;
      if (e.type != DF_ARCHIVE_FILE) break;
      if (strncmp(rel, "images/", 7) == 0) {
        rc = df_walk_add(op, rel + 7, &e);
        if (rc == 0 && strcmp(rel, "images/anti_version.txt") == 0) {
          char *t = NULL;
          size_t len;
          if (df_walk_read_all(a, 64, &t, &len) == 0) {
            char *end;
            long v = strtol(t, &end, 10);
            while (*end == '\n' || *end == '\r' || *end == ' ') end++;
            if (end != t && *end == '\0' && v >= 0) op->anti = v;
          }
          free(t);
        }
      } else if (df_walk_is_script(rel) && op->nscripts < DF_FILES_MAX_SCRIPTS) {
        struct df_walk_script *s = &op->scripts[op->nscripts];
        char *t = NULL;
        size_t len = 0;
        s->name = strdup(rel);
        if (s->name == NULL) {
          rc = DF_ENOMEM;
          break;
        }
        op->nscripts++;
        s->parse_err = df_walk_read_all(a, 4 * 1024 * 1024, &t, &len);
        if (s->parse_err == 0) s->parse_err = df_flash_script_parse(t, len, &s->parsed);
        free(t);
      }
      break;
    }
    if (rc != 0) break;
    if (op->kind == DF_WALK_READ && found) break;
  }
  if (rc < 0 && op->message[0] == '\0' && a != NULL && df_archive_error_message(a)[0])
    snprintf(op->message, sizeof(op->message), "%s: %s", op->path, df_archive_error_message(a));
  if (rc >= 0 && op->kind == DF_WALK_READ && !found) {
    rc = DF_ENOENT;
    snprintf(op->message, sizeof(op->message), "no entry '%s' in %s", op->entry, op->path);
  }
  df_archive_close(a);
  op->status = rc < 0 ? rc : 0;
}

static void
df_walk_push_steps(lua_State *L, const struct df_flash_script *s)
{
  lua_createtable(L, (int)s->step_count, 0);
  for (size_t i = 0; i < s->step_count; i++) {
    const struct df_flash_step *st = &s->steps[i];
    lua_createtable(L, 0, 6);
    lua_pushstring(L, df_flash_step_type_name(st->type));
    lua_setfield(L, -2, "command");
    lua_pushinteger(L, st->line);
    lua_setfield(L, -2, "line");
    if (st->partition != NULL) {
      lua_pushstring(L, st->partition);
      lua_setfield(L, -2, "partition");
    }
    if (st->file != NULL) {
      lua_pushstring(L, st->file);
      lua_setfield(L, -2, "image");
    }
    if (st->argument != NULL) {
      lua_pushstring(L, st->argument);
      lua_setfield(L, -2, "argument");
    }
    if (st->both_slots) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "both_slots");
    }
    if (st->conditional) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "conditional");
    }
    if (st->type == DF_FLASH_STEP_UNKNOWN) {
      lua_pushstring(L, st->text != NULL ? st->text : "");
      lua_setfield(L, -2, "text");
      lua_pushstring(L, st->reason != NULL ? st->reason : "");
      lua_setfield(L, -2, "reason");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static void
df_walk_push_list(lua_State *L, const struct df_walk_entry *list, size_t n)
{
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, list[i].path);
    lua_setfield(L, -2, "path");
    lua_pushinteger(L, (lua_Integer)list[i].size);
    lua_setfield(L, -2, "size");
    lua_pushstring(L, df_walk_type_name(list[i].type));
    lua_setfield(L, -2, "type");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int
df_walk_push(lua_State *L, void *ctx)
{
  struct df_walk_op *op = ctx;

  if (op->status != 0) return df_bridge_push_error(L, op->status, op->message[0] ? op->message : NULL);
  switch (op->kind) {
  case DF_WALK_LIST:
    df_walk_push_list(L, op->entries, op->n);
    return 1;
  case DF_WALK_READ:
    lua_pushlstring(L, op->text, op->text_len);
    return 1;
  case DF_WALK_FIRMWARE: {
    int codenames, n = 0;
    lua_newtable(L);
    lua_newtable(L);
    codenames = lua_gettop(L);
    for (size_t i = 0; i < op->nscripts; i++) {
      const struct df_flash_script *s = op->scripts[i].parsed;
      for (size_t j = 0; s != NULL && j < s->codename_count; j++) {
        bool dup = false;
        for (int k = 1; k <= n && !dup; k++) {
          lua_rawgeti(L, codenames, k);
          dup = strcmp(lua_tostring(L, -1), s->codenames[j]) == 0;
          lua_pop(L, 1);
        }
        if (!dup) {
          lua_pushstring(L, s->codenames[j]);
          lua_rawseti(L, codenames, ++n);
        }
      }
    }
    if (n > 0) {
      lua_rawgeti(L, codenames, 1);
      lua_setfield(L, -3, "codename");
    }
    lua_setfield(L, -2, "codenames");
    if (op->anti >= 0) {
      lua_pushinteger(L, op->anti);
      lua_setfield(L, -2, "anti_version");
    }
    lua_newtable(L);
    for (size_t i = 0; i < op->nscripts; i++) {
      const struct df_walk_script *s = &op->scripts[i];
      lua_newtable(L);
      if (s->parsed != NULL) {
        df_walk_push_steps(L, s->parsed);
        lua_setfield(L, -2, "steps");
        lua_pushboolean(L, s->parsed->touches_userdata);
        lua_setfield(L, -2, "touches_userdata");
        lua_pushboolean(L, s->parsed->locks_bootloader);
        lua_setfield(L, -2, "locks_bootloader");
        lua_pushinteger(L, (lua_Integer)s->parsed->unknown_count);
        lua_setfield(L, -2, "unknown");
      } else {
        lua_pushstring(L, df_strerror(s->parse_err));
        lua_setfield(L, -2, "error");
      }
      lua_setfield(L, -2, s->name);
    }
    lua_setfield(L, -2, "scripts");
    lua_createtable(L, (int)op->n, 0);
    for (size_t i = 0; i < op->n; i++) {
      lua_pushstring(L, op->entries[i].path);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "images");
    /* every entry, as df.archive.list gives them: one walk does both */
    df_walk_push_list(L, op->files, op->nfiles);
    lua_setfield(L, -2, "files");
    return 1;
  }
  }
  return 0;
}

static void
df_walk_after(uv_work_t *w, int status)
{
  struct df_walk_op *op = w->data;

  if (!op->canceled) {
    if (status != 0) op->status = df_error_from_uv(status);
    df_bridge_complete(op->task, df_walk_push, op);
  }
  df_walk_free(op);
}

static int
df_walk_start(lua_State *L, const char *what, enum df_walk_kind kind, const char *path,
              const char *entry, size_t max_bytes)
{
  struct df_bridge_task *task = df_bridge_begin(L, what);
  struct df_walk_op *op = calloc(1, sizeof(*op));
  int rc;

  if (op == NULL) return df_bridge_fail(L, task, DF_ENOMEM);
  op->task = task;
  op->kind = kind;
  op->max_bytes = max_bytes;
  op->path = strdup(path);
  op->entry = entry != NULL ? strdup(entry) : NULL;
  if (op->path == NULL || (entry != NULL && op->entry == NULL)) {
    df_walk_free(op);
    return df_bridge_fail(L, task, DF_ENOMEM);
  }
  op->work.data = op;
  rc = uv_queue_work(&df_bridge_loop(task)->uv, &op->work, df_walk_work, df_walk_after);
  if (rc != 0) {
    df_walk_free(op);
    return df_bridge_fail(L, task, df_error_from_uv(rc));
  }
  df_bridge_set_cancel(task, df_files_cancel_flag, op);
  return df_bridge_wait(L, task);
}

static int
df_lua_archive_list(lua_State *L)
{
  return df_walk_start(L, "df.archive.list", DF_WALK_LIST, luaL_checkstring(L, 1), NULL, 0);
}

static int
df_lua_archive_read_text(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  const char *entry = luaL_checkstring(L, 2);
  lua_Integer max = luaL_optinteger(L, 3, DF_FILES_MAX_TEXT);

  luaL_argcheck(L, max > 0 && max <= DF_FILES_MAX_TEXT, 3, "max_bytes: 1 .. 1048576");
  if (strncmp(entry, "./", 2) == 0) entry += 2;
  return df_walk_start(L, "df.archive.read_text", DF_WALK_READ, path, entry, (size_t)max);
}

static int
df_lua_firmware_inspect(lua_State *L)
{
  return df_walk_start(L, "df.firmware.inspect", DF_WALK_FIRMWARE, luaL_checkstring(L, 1), NULL,
                       0);
}

void
df_files_register(lua_State *L)
{
  lua_newtable(L);
  lua_pushcfunction(L, df_lua_hash_file);
  lua_setfield(L, -2, "file");
  lua_setfield(L, -2, "hash");
  lua_newtable(L);
  lua_pushcfunction(L, df_lua_archive_list);
  lua_setfield(L, -2, "list");
  lua_pushcfunction(L, df_lua_archive_read_text);
  lua_setfield(L, -2, "read_text");
  lua_setfield(L, -2, "archive");
  lua_newtable(L);
  lua_pushcfunction(L, df_lua_firmware_inspect);
  lua_setfield(L, -2, "inspect");
  lua_setfield(L, -2, "firmware");
}
