/* droidfix's plugin ABI: how a vendor's shared object adds Lua functions
 * that recipes can call, and a transport (a new way to reach a phone) that
 * every verb can use. This is the only header a plugin includes (with
 * Lua 5.4's own lua.h and lauxlib.h). See docs/plugins.md.
 *
 * A plugin is TRUSTED NATIVE CODE: it runs inside droidfix with every right
 * droidfix has, outside the recipe sandbox. Install only plugins you would
 * run as a program. droidfix loads plugins only from the folders named with
 * --plugin-dir DIR (repeatable) and in DROIDFIX_PLUGIN_PATH (colon-separated;
 * no default), every "*.so" there, before it looks at any --connect.
 *
 * The shared object exports one function:
 *
 *   const struct droidfix_plugin *droidfix_plugin_init(void);
 *
 * returning a static description.
 *
 * Lua functions appear to recipes as df.plugins.<name>.<function>. They are
 * plain lua_CFunctions called in the recipe's sandbox state:
 *   - they must return promptly (the loop is shared by every phone; a call
 *     that waits belongs in droidfix itself);
 *   - they must not keep lua_State pointers or registry references across
 *     calls, touch globals, load code, or call lua_close;
 *   - they report failures the df way: return nil, message, code (a short
 *     upper-case name such as "EINVAL"); misuse raises with luaL_argerror.
 * Memory they allocate through Lua counts against the recipe's cap.
 *
 * A transport (ABI 2) gives droidfix a byte stream to a phone; droidfix
 * speaks ADB or fastboot over it exactly as over TCP. `--connect
 * SCHEME:ADDRESS` (also "adb:SCHEME:ADDRESS", "fastboot:SCHEME:ADDRESS")
 * hands ADDRESS, the text after the first ':', to the open function of the
 * plugin whose transport has that scheme. Rules for open:
 *   - it runs on a worker thread of droidfix's thread pool, never on the
 *     loop thread, so it may block (resolve, connect, a handshake with a
 *     relay); it must still return within about 2 seconds (a phone's probe
 *     gives up after 3 s and droidfix waits for open before it exits), and
 *     it may run on several threads at once (one call per endpoint, and a
 *     second call when droidfix tries fastboot after ADB got no answer);
 *   - it returns a connected stream socket (TCP, a Unix socket, or one end
 *     of socketpair(AF_UNIX, SOCK_STREAM)); droidfix owns the descriptor
 *     from then on (makes it non-blocking, closes it when done). A pipe or a
 *     file is refused;
 *   - on failure it returns a negative errno value (-ECONNREFUSED,
 *     -ENOENT, -ETIMEDOUT, ...) and writes a one-line reason into err
 *     (errlen bytes, NUL-terminated), which droidfix shows to the user;
 *   - it must not call into Lua or any other droidfix code.
 *
 * Versioning: droidfix accepts abi == DROIDFIX_PLUGIN_ABI (2), and 1 (the
 * same struct without `transport`, which droidfix then does not read). It
 * refuses any other number, naming the file and both numbers. The ABI
 * number changes when this struct or the rules above change. */
#ifndef DROIDFIX_PLUGIN_H
#define DROIDFIX_PLUGIN_H

#include <stddef.h>

#include <lauxlib.h>
#include <lua.h>

#define DROIDFIX_PLUGIN_ABI 2

/* The symbol droidfix looks up in the shared object. */
#define DROIDFIX_PLUGIN_INIT "droidfix_plugin_init"

/* What a transport's streams carry. */
#define DROIDFIX_PROTOCOL_ANY 0      /* tell by the handshake (ADB first) */
#define DROIDFIX_PROTOCOL_ADB 1      /* an adbd: ADB packets (CNXN, AUTH, ...) */
#define DROIDFIX_PROTOCOL_FASTBOOT 2 /* fastboot's TCP protocol (FB01, framed) */

struct droidfix_transport {
  /* --connect SCHEME:ADDRESS; a lowercase letter, then lowercase letters,
   * digits, '-' or '_', at most 31 in all; not adb, fastboot, tcp or usb,
   * and not 1 to 4 hex digits only (those read as IPv6 addresses). */
  const char *scheme;
  int protocol; /* DROIDFIX_PROTOCOL_*; "adb:"/"fastboot:" in --connect win */
  /* Returns a connected stream socket, or a negative errno value with the
   * reason in err. Runs on a worker thread; see the rules above. */
  int (*open)(const char *address, char *err, size_t errlen);
};

struct droidfix_plugin {
  int abi;                   /* DROIDFIX_PLUGIN_ABI */
  const char *name;          /* lowercase letters, digits, '_': df.plugins.<name> */
  const char *version;       /* the plugin's own version, shown by droidfix */
  const char *description;   /* one line */
  const luaL_Reg *functions; /* NULL-terminated; names as Lua identifiers; NULL:
                                none (then a transport is required) */
  /* ABI 2: a transport, or NULL. */
  const struct droidfix_transport *transport;
};

typedef const struct droidfix_plugin *(*droidfix_plugin_init_fn)(void);

#endif
