/* A small streaming JSON writer for every --json output: commas, nesting
 * and string escaping are its business, so verbs only name keys and values.
 * Strings are escaped as JSON requires (quote, backslash, control bytes as
 * \n or \u00XX); bytes that are not valid UTF-8 become U+FFFD, so the output
 * is always valid JSON even for file names from a hostile archive. The
 * top-level value ends with a newline. */
#ifndef DF_CORE_JSON_H
#define DF_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DF_JSON_MAX_DEPTH 32

struct df_json {
  FILE *out;
  unsigned depth;
  bool has_items[DF_JSON_MAX_DEPTH]; /* a value was written at this depth */
  bool after_key;
};

void
df_json_init(struct df_json *j, FILE *out);

void
df_json_object_begin(struct df_json *j);

void
df_json_object_end(struct df_json *j);

void
df_json_array_begin(struct df_json *j);

void
df_json_array_end(struct df_json *j);

/* An object key; the next call writes its value. */
void
df_json_key(struct df_json *j, const char *key);

/* NULL writes null. */
void
df_json_string(struct df_json *j, const char *s);

void
df_json_string_len(struct df_json *j, const char *s, size_t len);

void
df_json_uint(struct df_json *j, uint64_t v);

void
df_json_int(struct df_json *j, int64_t v);

void
df_json_bool(struct df_json *j, bool v);

void
df_json_null(struct df_json *j);

/* Shorthands: a key and its value. */
void
df_json_kv_string(struct df_json *j, const char *key, const char *s);

void
df_json_kv_uint(struct df_json *j, const char *key, uint64_t v);

void
df_json_kv_int(struct df_json *j, const char *key, int64_t v);

void
df_json_kv_bool(struct df_json *j, const char *key, bool v);

/* Length of the valid UTF-8 sequence at s (at most len bytes, len >= 1),
 * or 0 if the bytes there are not one: overlong forms, surrogates and code
 * points above U+10FFFF are refused as well as stray continuation bytes. */
size_t
df_utf8_sequence(const unsigned char *s, size_t len);

/* Writes s as the inside of a JSON string (no quotes). Exposed for tests
 * and for callers that build strings themselves. */
void
df_json_write_escaped(FILE *out, const char *s, size_t len);

#endif
