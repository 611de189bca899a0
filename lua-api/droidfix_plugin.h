/* droidfix's plugin ABI: how a vendor's shared object adds Lua functions
 * that recipes can call. This is the only header a plugin includes (with
 * Lua 5.4's own lua.h and lauxlib.h). See docs/plugins.md.
 *
 * A plugin is TRUSTED NATIVE CODE: it runs inside droidfix with every right
 * droidfix has, outside the recipe sandbox. Install only plugins you would
 * run as a program. droidfix loads plugins only from the folders named in
 * DROIDFIX_PLUGIN_PATH (colon-separated; no default), every "*.so" there.
 *
 * The shared object exports one function:
 *
 *   const struct droidfix_plugin *droidfix_plugin_init(void);
 *
 * returning a static description. Its functions appear to recipes as
 * df.plugins.<name>.<function>. They are plain lua_CFunctions called in the
 * recipe's sandbox state:
 *   - they must return promptly (the loop is shared by every phone; a call
 *     that waits belongs in droidfix itself);
 *   - they must not keep lua_State pointers or registry references across
 *     calls, touch globals, load code, or call lua_close;
 *   - they report failures the df way: return nil, message, code (a short
 *     upper-case name such as "EINVAL"); misuse raises with luaL_argerror.
 * Memory they allocate through Lua counts against the recipe's cap.
 *
 * Versioning: abi must equal DROIDFIX_PLUGIN_ABI; droidfix refuses a plugin
 * built for another ABI, naming the file and both numbers. The ABI number
 * changes when this struct or the rules above change. */
#ifndef DROIDFIX_PLUGIN_H
#define DROIDFIX_PLUGIN_H

#include <lauxlib.h>
#include <lua.h>

#define DROIDFIX_PLUGIN_ABI 1

/* The symbol droidfix looks up in the shared object. */
#define DROIDFIX_PLUGIN_INIT "droidfix_plugin_init"

struct droidfix_plugin {
  int abi;                   /* DROIDFIX_PLUGIN_ABI */
  const char *name;          /* lowercase letters, digits, '_': df.plugins.<name> */
  const char *version;       /* the plugin's own version, shown by droidfix */
  const char *description;   /* one line */
  const luaL_Reg *functions; /* NULL-terminated; names as Lua identifiers */
};

typedef const struct droidfix_plugin *(*droidfix_plugin_init_fn)(void);

#endif
