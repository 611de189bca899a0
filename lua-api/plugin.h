/* Loading external plugins (lua-api/droidfix_plugin.h) from the folders of
 * --plugin-dir and DROIDFIX_PLUGIN_PATH, once per process: their transports
 * become --connect schemes (plugins/device.h), and their functions are
 * offered to every recipe as df.plugins.<name>.<function>. */
#ifndef DF_LUA_PLUGIN_H
#define DF_LUA_PLUGIN_H

#include <stddef.h>

#define DF_PLUGIN_MAX 16

/* Loads every *.so in each folder of path (colon-separated; NULL or "": no
 * plugins). A plugin that cannot be loaded is skipped with a warning in the
 * log naming the file and why; err gets the first such message. Returns
 * how many plugins are loaded in all. Idempotent: a file already loaded is
 * not loaded again, and a file refused once is skipped without a second
 * warning (so err stays "" when nothing new went wrong). Not thread-safe:
 * call it before any probe or run starts. */
int
df_plugin_load_path(const char *path, char *err, size_t errlen);

/* The same for one folder (a --plugin-dir; no ':' splitting); err is
 * written only while it is "" (the first message wins), so clear it. */
int
df_plugin_load_dir(const char *dir, char *err, size_t errlen);

/* Loads one shared object (again if it was refused before; a loaded one is
 * a no-op). 0, or DF_ENOENT / DF_EINVAL (not a plugin, another ABI, a bad
 * transport) / DF_ENOSPC (too many) / DF_EEXIST (name or scheme taken)
 * with err. */
int
df_plugin_load_file(const char *file, char *err, size_t errlen);

/* The loaded plugins, for `droidfix recipes` and the like. */
size_t
df_plugin_count(void);

const struct droidfix_plugin *
df_plugin_at(size_t i);

/* The real path it was loaded from. */
const char *
df_plugin_path_at(size_t i);

/* Its transport, or NULL (always NULL for an ABI-1 plugin). */
struct droidfix_transport;

const struct droidfix_transport *
df_plugin_transport_at(size_t i);

#endif
