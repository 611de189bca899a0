/* Device files: one Lua data file per phone model under devices/ (see
 * docs/device-files.md). Loading them in an empty environment with limits,
 * following `extends`, validating every field against the schema, listing
 * them, and matching a connected phone to one. */
#ifndef DF_LUA_DEVICE_FILE_H
#define DF_LUA_DEVICE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* Longest model id ("xiaomi/redmi-k70") plus its NUL. */
#define DF_DEVICE_ID_MAX 128

/* Limits a device file is loaded under. */
#define DF_DEVICE_FILE_MAX_BYTES (256 * 1024)      /* per file */
#define DF_DEVICE_FILE_MAX_MEMORY (16 * 1024 * 1024) /* per load, whole extends chain */
#define DF_DEVICE_FILE_MAX_INSTRUCTIONS 1000000    /* per file */
#define DF_DEVICE_FILE_MAX_EXTENDS 8               /* files in one extends chain */

/* The id droidfix falls back to when no device file matches a phone. */
#define DF_DEVICE_FALLBACK_ID "generic"

/* Loads devices_dir/<id>.lua and every file it extends, validates each one
 * and the merged result, and pushes the merged table onto L (one value).
 * The pushed table holds the schema's fields plus `id` = id; `extends` is
 * resolved and removed; a vendor base keeps `abstract = true`.
 * Returns 0, or a negative DF_E* code with nothing pushed and err filled
 * with "FILE:LINE: FIELD: problem" (DF_ENOENT: no such file; DF_EINVAL: the
 * file breaks the schema or fails to load; DF_ENOMEM: out of memory in L).
 * The files run in a private lua_State with its own memory cap, so a bad
 * file never touches L. Safe to call with or without a pcall around it. */
int
df_device_file_load(lua_State *L, const char *devices_dir, const char *id, char *err,
                    size_t errlen);

/* The same checks as df_device_file_load, without pushing anything: what
 * the validator run by `make test` calls for every file. */
int
df_device_file_check(const char *devices_dir, const char *id, char *err, size_t errlen);

/* Called once per device file, ids in sorted order. Return non-zero to
 * stop the walk; df_device_file_list then returns that value. */
typedef int (*df_device_id_fn)(void *ctx, const char *id);

/* Enumerates every *.lua file under devices_dir (recursively; hidden files
 * and folders skipped) as ids: the path without devices_dir/ and ".lua".
 * Vendor bases (abstract) are listed too; load a file to tell. Returns 0,
 * the callback's non-zero value, or a negative DF_E* code (before any
 * callback when the folder cannot be read). */
int
df_device_file_list(const char *devices_dir, df_device_id_fn fn, void *ctx);

/* What is known of a connected phone. NULL / -1 for what is unknown. */
struct df_device_query {
  const char *device; /* ro.product.device */
  const char *model;  /* ro.product.model */
  int usb_vid;        /* 0..0xffff, or -1 */
  int usb_pid;        /* 0..0xffff, or -1 */
};

/* Which device file describes a phone. */
struct df_device_match {
  char id[DF_DEVICE_ID_MAX]; /* a model id, or DF_DEVICE_FALLBACK_ID */
  bool fallback;             /* no single model matched: id is "generic" */
  bool ambiguous;            /* several models matched equally (e.g. a USB
                                id a whole vendor shares); id is "generic" */
  char vendor[64];           /* the vendor all candidates share, or "" */
  int broken;                /* device files skipped because they are broken */
  char reason[512];          /* one sentence for the user: what matched or why
                                droidfix fell back */
};

/* Matches q against every model (not vendor bases) under devices_dir:
 *   1. ro.product.device against match["ro.product.device"]; when several
 *      models list it, ro.product.model narrows them down;
 *   2. else ro.product.model against match["ro.product.model"];
 *   3. else the USB vid:pid against match.usb.
 * One candidate: that model. None or several: DF_DEVICE_FALLBACK_ID with
 * fallback set (and ambiguous when several). Comparisons are exact.
 * Broken device files are skipped and counted in out->broken; err gets the
 * first one's message. Returns 0, or a negative DF_E* code when devices_dir
 * cannot be read. */
int
df_device_match(const char *devices_dir, const struct df_device_query *q,
                struct df_device_match *out, char *err, size_t errlen);

#endif
