/* The sandbox recipes run in: one lua_State per run (one recipe on one
 * phone) with a memory cap (a lua_Alloc of our own), an instruction budget
 * and a per-slice deadline (a count hook), and fresh environments built
 * from an allow-list. See docs/recipes.md "Sandbox" and lua-api/meta/df.lua.
 *
 * Why one state per run: the memory cap and the instruction budget are per
 * lua_State (the allocator and the hook belong to the state), a kill must end
 * exactly one run, and --all runs one recipe per phone; many runs are many
 * states on the one loop. Helper modules (require) share their run's state,
 * each in its own environment. */
#ifndef DF_LUA_SANDBOX_H
#define DF_LUA_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* Defaults, used for a limit given as 0. */
#define DF_SANDBOX_DEFAULT_MEMORY (64u * 1024 * 1024)
#define DF_SANDBOX_DEFAULT_INSTRUCTIONS 200000000ull /* per run */
#define DF_SANDBOX_DEFAULT_SLICE_MS 3000u /* longest run without waiting */

/* Largest chunk load() accepts and largest recipe or helper file. */
#define DF_SANDBOX_MAX_CHUNK (1024 * 1024)

/* The count hook runs every this many VM instructions. */
#define DF_SANDBOX_HOOK_EVERY 1000

struct df_sandbox_limits {
  size_t memory_bytes;   /* bytes the state may hold at once */
  uint64_t instructions; /* VM instructions over the whole run */
  uint32_t slice_ms;     /* wall-clock ms Lua may run between two waits
                            (df.sleep, a device call): the loop is shared */
};

enum df_sandbox_kill {
  DF_SANDBOX_ALIVE = 0,
  DF_SANDBOX_KILL_INSTRUCTIONS,
  DF_SANDBOX_KILL_DEADLINE,
  DF_SANDBOX_KILL_MEMORY,
};

struct df_sandbox;

/* Pushes a fresh value for a global every new environment gets (e.g. the
 * df module). Runs unprotected inside df_sandbox_push_env's caller. */
typedef void (*df_sandbox_global_fn)(lua_State *L);

/* Creates a state with limits (NULL: defaults). lib_dir is where require
 * finds helper modules (recipes/lib); NULL or "" disables require.
 * Returns 0, DF_ENOMEM, or DF_EINVAL (lib_dir too long). */
int
df_sandbox_new(const struct df_sandbox_limits *limits, const char *lib_dir,
               struct df_sandbox **out);

/* Closes the state and frees the sandbox. NULL is fine. */
void
df_sandbox_free(struct df_sandbox *sb);

lua_State *
df_sandbox_state(struct df_sandbox *sb);

/* The sandbox a state (or any of its threads) belongs to; NULL when L was
 * not made by df_sandbox_new. */
struct df_sandbox *
df_sandbox_from_state(lua_State *L);

/* Adds a global to every environment made from now on: name = fn(L).
 * At most 8. Returns DF_ENOSPC when full. name is not copied: a literal. */
int
df_sandbox_add_global(struct df_sandbox *sb, const char *name, df_sandbox_global_fn fn);

/* Forgets the helper modules required so far in this state: the next
 * require loads and runs the module afresh, in a new environment. For a
 * state that loads several recipes one after another (`droidfix recipes`),
 * so that no recipe sees a module table an earlier one changed. Returns 0
 * or DF_ENOMEM (the old cache is then kept: drop the state). */
int
df_sandbox_forget_modules(struct df_sandbox *sb);

/* Pushes a fresh environment table: the allow-listed standard library
 * (per-environment copies), the sandboxed load/require/setmetatable/
 * getmetatable/collectgarbage, the added globals, and a metatable that
 * raises "unknown global 'x'" on a read of anything else. May raise (memory):
 * call it from C code under a pcall or from a lua_CFunction. */
void
df_sandbox_push_env(lua_State *L);

/* Compiles source in text mode and sets its _ENV to the table at env_index.
 * Pushes the function and returns 0, or pushes nothing and returns DF_EINVAL
 * (syntax error), DF_ETOOBIG (over DF_SANDBOX_MAX_CHUNK) or DF_ENOMEM, with
 * the message in err. Protected: never raises. */
int
df_sandbox_load(lua_State *L, const char *source, size_t len, const char *chunkname,
                int env_index, char *err, size_t errlen);

/* Starts a new slice: the deadline counts from now. The bridge calls it
 * before every resume. */
void
df_sandbox_slice_begin(struct df_sandbox *sb);

/* Calls the function below nargs arguments on L's top like lua_pcall, under
 * the budget, with a traceback handler: on an error the message (with its
 * traceback; the kill's own message when the sandbox was killed) is the one
 * value left. Returns a LUA_* status. */
int
df_sandbox_pcall(lua_State *L, int nargs, int nresults);

/* Why the run was killed, or DF_SANDBOX_ALIVE. Once killed, a sandbox stays
 * killed: every further Lua instruction raises the kill again. Reaching the
 * memory cap is a kill too, even when the recipe caught the error. */
enum df_sandbox_kill
df_sandbox_killed(struct df_sandbox *sb);

/* "recipe stopped: instruction budget of N exhausted ..." ("" when alive). */
const char *
df_sandbox_kill_message(const struct df_sandbox *sb);

/* Bytes the state holds now, and the most it held. */
size_t
df_sandbox_memory_used(const struct df_sandbox *sb);

size_t
df_sandbox_memory_peak(const struct df_sandbox *sb);

/* Charges n steps of work done in C (a pattern match) against the
 * instruction budget and the slice's deadline, as the count hook does for
 * Lua code: past either, the run is killed and this raises the kill's
 * message on L. A state not made by df_sandbox_new: nothing happens. */
void
df_sandbox_charge(lua_State *L, uint64_t n);

/* VM instructions counted so far (in steps of DF_SANDBOX_HOOK_EVERY). */
uint64_t
df_sandbox_instructions(const struct df_sandbox *sb);

/* Pushes "msg\nstack traceback:..." of thread co's failed state onto L
 * (for an error object at co's top that is not a string, a description). */
void
df_sandbox_push_traceback(lua_State *L, lua_State *co, int level);

/* Reads a whole file of at most max bytes into a NUL-terminated heap buffer
 * (*out, freed by the caller; *len without the NUL). With root set, the
 * file's real path (symlinks resolved) must lie under root's: DF_EACCES
 * otherwise. Returns 0, DF_ENOENT, DF_ETOOBIG, DF_ENOMEM or another DF_E*. */
int
df_sandbox_read_file(const char *root, const char *path, size_t max, char **out, size_t *len);

#endif
