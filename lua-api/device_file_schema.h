/* Inside lua-api/device_file*.c: the schema of a device file as data. A
 * value's type is one descriptor (a kind plus its limits); a table of named
 * fields is a list of field descriptors. One function validates each kind
 * of value (device_file_validate.c) and the schema (device_file_schema.c)
 * is the tree of descriptors, with the few checks no kind expresses (the
 * button steps a person can follow, partitions listed once, ...). What a
 * model needs as a whole, once extends is merged, is device_file_model.c. */
#ifndef DF_LUA_DEVICE_FILE_SCHEMA_H
#define DF_LUA_DEVICE_FILE_SCHEMA_H

#include <stdbool.h>

#include <lua.h>

#include "lua-api/device_file_load.h"
#include "lua-api/device_file_path.h"

/* A check of the value at idx, reported at path p; 0 or -1 (with the error
 * recorded through df_device_fail). */
typedef int (*df_value_check_fn)(struct df_device_load *ld, struct df_field_path *p, int idx);

enum df_value_kind {
  DF_VALUE_STRING,  /* a non-empty string of at most `max` bytes */
  DF_VALUE_BOOL,    /* true or false */
  DF_VALUE_INTEGER, /* an integer from min to max */
  DF_VALUE_ENUM,    /* one of `names` */
  DF_VALUE_LIST,    /* a list of min..max `item`s */
  DF_VALUE_RECORD,  /* a table of the named `fields` */
  DF_VALUE_MAP,     /* a table of names (each checked by `key`) to `item`s */
  DF_VALUE_CUSTOM   /* only `check` says */
};

struct df_value_type;

/* Run on a record field whose presence depends on the record (a step's
 * keys depend on its action): p is the record's path, record its index,
 * present whether the field is written. */
typedef int (*df_presence_fn)(struct df_device_load *ld, struct df_field_path *p, int record,
                              bool present);

struct df_field {
  const char *key; /* NULL ends a list of fields */
  const struct df_value_type *type;
  const char *missing;     /* the message when it is absent; NULL: optional */
  df_presence_fn presence; /* or a rule of its own */
  const char *model_needs; /* a merged model must have it, because...; or NULL */
};

struct df_value_type {
  enum df_value_kind kind;
  /* What messages call it: the expected value ("a size in bytes"), a
   * list's name ("steps"), a table's shape ("{ vid = 0x..., ... }"). */
  const char *what;
  /* A record's or map's name in "unknown key in NAME" ("a USB entry"). */
  const char *name;
  long long min, max; /* integer range; string length (max); list items */
  const char *const *names;            /* enum: the values, NULL-ended */
  const struct df_value_type *item;    /* list items, map values */
  const struct df_field *fields;       /* record */
  bool missing_first;                  /* record: report absent fields first */
  df_value_check_fn key;               /* map: each key (at idx) */
  df_value_check_fn check;             /* after the kind's own checks */
};

/* The whole file (device_file_schema.c) and the parts a model is checked
 * against once merged. */
extern const struct df_value_type df_schema_file;
extern const struct df_value_type df_schema_soc;
extern const struct df_value_type df_schema_modes;
extern const struct df_value_type df_schema_flashing;

/* Validates the value at idx against type t (device_file_validate.c). */
int
df_schema_validate(struct df_device_load *ld, struct df_field_path *p, int idx,
                   const struct df_value_type *t);

/* The file's table at idx: data only (no functions, keys that are names
 * or list positions, bounded depth), then df_schema_file. 0 or -1. */
int
df_schema_check_file(struct df_device_load *ld, int idx);

/* The merged table at idx, as a model (or, when ld->abstract, a vendor
 * base): required fields, self-match, flashing facts that agree
 * (device_file_model.c). 0 or -1. */
int
df_schema_check_model(struct df_device_load *ld, int idx);

/* Is s one of the strings in the list at t[key]? (true if there is no such
 * list: a model that gives no rule of that kind is not ruled out by it) */
bool
df_device_lists(lua_State *P, int t, const char *key, const char *s);

/* True when the table at idx has keys exactly 1..n (an empty table too). */
bool
df_lua_is_list(lua_State *P, int idx);

/* Index of s in a NULL-ended list of names, or -1. */
int
df_schema_name_index(const char *const *names, const char *s);

/* Every character of s is [a-z0-9], [A-Z] when upper, or in extra. */
bool
df_schema_chars_ok(const char *s, const char *extra, bool upper);

/* "xiaomi/redmi-k70": lowercase segments of [a-z0-9_-] joined by '/'. */
bool
df_device_id_valid(const char *id);

#endif
