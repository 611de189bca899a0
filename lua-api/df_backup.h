/* df.backup.create / verify / restore for recipes (lua-api/meta/backup.lua),
 * and the C entry the runner's backup hook calls before a user-data step.
 * The streaming itself is plugins/adb/backup.h. */
#ifndef DF_LUA_DF_BACKUP_H
#define DF_LUA_DF_BACKUP_H

#include <stddef.h>

#include <lua.h>

#include "core/loop.h"
#include "plugins/adb/backup.h"
#include "plugins/device.h"

/* Adds df.backup to the df table on top of the stack (call it from
 * df_module_push next to df_device_register). */
void
df_backup_register(lua_State *L);

/* The folder backups go to: $DROIDFIX_BACKUP_DIR, else
 * $XDG_DATA_HOME/droidfix/backups, else ~/.local/share/droidfix/backups;
 * created (0700) when missing. 0, or DF_ENOENT (no HOME), DF_EACCES, ... */
int
df_backup_default_dir(char *out, size_t outlen);

/* For the runner's backup hook: a backup of /sdcard with the apps list and
 * settings of dev (in an adb mode: DF_EUNSUPPORTED otherwise) into
 * dir/SERIAL-YYYYmmdd-HHMMSS.tar (dir NULL: df_backup_default_dir), with
 * the same guarantees as df.backup.create (OUT.partial until verified).
 * done gets the result (r->path is the archive) exactly once, unless this
 * returns an error or df_backup_cancel(*out) is called. dev must stay
 * connected until done. */
int
df_backup_create_for_run(struct df_loop *loop, struct df_device *dev, const char *dir,
                         df_backup_done_cb done, void *userdata, struct df_backup **out);

#endif
