/* The phone a recipe works on, as Lua sees it: a df.Device userdata
 * (ctx.device) whose methods (shell, getprop, push, pull, stat, list,
 * reboot, wait_for, getvar, fastboot, flash, flash_entry, erase,
 * set_active) are async operations on the bridge; and the df functions
 * that need a phone or local files (df.model, df.instruct, df.host_time,
 * df.hash, df.archive, df.firmware). The reference is lua-api/meta/device.lua.
 *
 * The userdata owns its struct df_device (the live session) and replaces it
 * when the phone comes back after a reboot (wait_for). To find it again it
 * keeps a df_lua_device_env, given by whoever made the run (the CLI). */
#ifndef DF_LUA_DF_DEVICE_H
#define DF_LUA_DF_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "plugins/adb/adb_sync.h"
#include "plugins/device.h"
#include "plugins/device_find.h"

#define DF_LUA_DEVICE_MT "df.Device"
#define DF_LUA_DEVICE_MAX_ALLOWED 16

/* How to reach the phone again and what it may touch on the computer.
 * Every pointer is borrowed and must outlive the Lua state. */
struct df_lua_device_env {
  struct df_loop *loop;
  const struct df_endpoint *eps; /* the run's --connect endpoints; 0: USB */
  int neps;
  struct df_usb *usb; /* with neps 0: the run's USB context (wait_for over USB) */
  const struct df_adb_keys *keys;
  /* which phone answered where, shared by the run's waits (see
   * plugins/device_find.h), or NULL */
  struct df_endpoint_owners *owners;
  const char *devices_dir; /* devices/ for df.model and df.instruct */
  const char *workdir;     /* the run's work folder (ctx.workdir) */
  /* the model the user named (--model, a device-file id) or NULL: what
   * df.model and df.instruct use while the phone cannot be asked (a run
   * started without a phone), and what a phone that then shows up must be */
  const char *model_id;
};

struct df_lua_device {
  struct df_device *dev; /* owned; NULL while the phone is away (rebooting) */
  struct df_lua_device_env env;
  char serial[272];      /* kept across reboots */
  enum df_device_mode mode;
  char transport[128];
  bool busy;             /* an operation is under way on this device */
  struct df_adb_sync *sync; /* the sync session file calls share, or NULL */
  bool sync_broken;      /* a call failed on it: closed before the next */
  char *allowed[DF_LUA_DEVICE_MAX_ALLOWED]; /* path parameters' real paths */
  size_t nallowed;
};

/* Pushes a new df.Device owning dev (ownership moves even on an error:
 * raises only when out of memory, and dev is closed then). */
void
df_lua_device_push(lua_State *L, struct df_device *dev, const struct df_lua_device_env *env);

/* Lets local paths under path be used (a parameter of type "path"). 0, or
 * DF_ENOSPC / DF_ENOMEM; a path that does not exist yet is allowed as
 * written (its real folder). */
int
df_lua_device_allow_path(struct df_lua_device *d, const char *path);

/* The df.Device at idx, or raises naming the argument. */
struct df_lua_device *
df_lua_device_check(lua_State *L, int idx);

/* The live session, or raises ("the phone is away: call dev:wait_for")
 * when there is none, or when an operation is already under way. */
struct df_device *
df_lua_device_live(lua_State *L, struct df_lua_device *d, const char *what);

/* Checks that a local path may be used (under the workdir, or an allowed
 * path); raises naming the argument otherwise. for_write: the file need not
 * exist (its folder must). */
void
df_lua_device_check_local(lua_State *L, struct df_lua_device *d, int arg, const char *path,
                          bool for_write);

/* The df table's additions (called from df_module_push). */
void
df_device_register(lua_State *L);

void
df_files_register(lua_State *L);

/* The methods table, by concern (df_device_*.c). */
void
df_device_shell_methods(lua_State *L);

void
df_device_files_methods(lua_State *L);

void
df_device_fastboot_methods(lua_State *L);

void
df_device_wait_methods(lua_State *L);

/* dev:flash_entry streaming out of the archive (df_device_flash_entry.c);
 * registered after df_device_fastboot_methods, it replaces theirs. */
void
df_device_flash_entry_methods(lua_State *L);

/* Shared by the concerns: a waiting event for the host (df_module.h). */
struct df_wait_info;
void
df_device_emit_waiting(lua_State *L, const struct df_wait_info *w);

/* Replaces d->dev after a reboot (closes the old one). */
void
df_lua_device_replace(struct df_lua_device *d, struct df_device *dev);

/* Whether the phone can be in `mode` for a recipe that lists `recipe_mode`
 * ("system" serves "safe-mode", "factory-mode" and "bootloop" as well). */
bool
df_device_mode_serves(const char *device_mode, const char *recipe_mode);

/* ---- does a recipe apply to a phone? (pure; df_device_applies.c) ---- */

struct df_recipe;

struct df_device_facts {
  const char *mode;     /* "system", "bootloader", ... */
  const char *vendor;   /* the device file's vendor, "" when unknown */
  const char *model_id; /* "xiaomi/redmi-k70", or "generic" */
  int android;          /* ro.build.version.release's major; 0 unknown */
};

/* true when r applies; else false with why (one sentence naming what the
 * recipe wants and what the phone is). */
bool
df_recipe_applies(const struct df_recipe *r, const struct df_device_facts *f, char *why,
                  size_t whylen);

#endif
