/* Loading external plugins (lua-api/droidfix_plugin.h) from the folders of
 * DROIDFIX_PLUGIN_PATH, once per process, and offering their functions to
 * every recipe as df.plugins.<name>.<function>. */
#ifndef DF_LUA_PLUGIN_H
#define DF_LUA_PLUGIN_H

#include <stddef.h>

#define DF_PLUGIN_MAX 16

/* Loads every *.so in each folder of path (colon-separated; NULL or "": no
 * plugins). A plugin that cannot be loaded is skipped with a warning in the
 * log naming the file and why; err gets the first such message. Returns
 * how many plugins are loaded in all. Loading the same file twice is a
 * no-op. Not thread-safe: call it before any run starts. */
int
df_plugin_load_path(const char *path, char *err, size_t errlen);

/* Loads one shared object. 0, or DF_ENOENT / DF_EINVAL (not a plugin, or
 * another ABI) / DF_ENOSPC (too many) / DF_EEXIST (name taken) with err. */
int
df_plugin_load_file(const char *file, char *err, size_t errlen);

/* The loaded plugins, for `droidfix recipes` and the like. */
size_t
df_plugin_count(void);

const struct droidfix_plugin *
df_plugin_at(size_t i);

#endif
