/* dev:wait_for, df.instruct and df.model: following the same phone (by
 * serial) across reboots on the run's endpoints, showing a person the
 * model's button combination and waiting for the phone in the mode it
 * leads to, and the phone's device file. Also df.host_time. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/device_file.h"
#include "lua-api/df_device_op.h"
#include "lua-api/df_module.h"
#include "plugins/device_find.h"

#define DF_WAIT_DEFAULT_S 120
#define DF_WAIT_MAX_S (24 * 3600)

struct df_wait_op {
  struct df_device_op base;
  unsigned modes;
  char want[128];
};

static int
df_wait_push(lua_State *L, void *ctx)
{
  struct df_wait_op *op = ctx;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  lua_pushboolean(L, 1);
  return 1;
}

static void
df_wait_done(void *ud, int status, struct df_device *dev)
{
  struct df_wait_op *op = ud;

  if (op->base.canceled) {
    if (dev != NULL) df_device_close(dev);
    free(op);
    return;
  }
  op->base.status = status;
  if (status == 0 && dev != NULL) {
    df_lua_device_replace(op->base.d, dev);
  } else {
    if (dev != NULL) df_device_close(dev);
    snprintf(op->base.message, sizeof(op->base.message),
             status == DF_ETIMEDOUT ? "the phone %s did not come back in %s in time"
                                    : "waiting for %s in %s failed",
             op->base.d->serial, op->want);
    if (status != DF_ETIMEDOUT) {
      size_t n = strlen(op->base.message);
      snprintf(op->base.message + n, sizeof(op->base.message) - n, ": %s", df_strerror(status));
    }
  }
  df_device_op_complete(op, df_wait_push, NULL);
}

/* Reads modes (a name or a list) at idx into a DF_DEVICE_MODE_BIT mask. */
static unsigned
df_wait_modes(lua_State *L, int idx, char *want, size_t wantlen)
{
  unsigned mask = 0;
  enum df_device_mode m;

  want[0] = '\0';
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *name = lua_tostring(L, idx);
    if (df_device_mode_parse(name, &m) != 0 || m == DF_DEVICE_OFFLINE ||
        m == DF_DEVICE_UNAUTHORIZED)
      luaL_argerror(L, idx, "modes: system, recovery, sideload, bootloader or fastbootd");
    snprintf(want, wantlen, "%s", name);
    return DF_DEVICE_MODE_BIT(m);
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  for (lua_Integer i = 1;; i++) {
    const char *name;
    if (lua_rawgeti(L, idx, i) == LUA_TNIL) {
      lua_pop(L, 1);
      break;
    }
    name = lua_tostring(L, -1);
    if (name == NULL || df_device_mode_parse(name, &m) != 0 || m == DF_DEVICE_OFFLINE ||
        m == DF_DEVICE_UNAUTHORIZED)
      luaL_argerror(L, idx, "modes: system, recovery, sideload, bootloader or fastbootd");
    mask |= DF_DEVICE_MODE_BIT(m);
    if (strlen(want) + strlen(name) + 5 < wantlen) {
      if (want[0]) strcat(want, " or ");
      strcat(want, name);
    }
    lua_pop(L, 1);
  }
  luaL_argcheck(L, mask != 0, idx, "modes: at least one mode");
  return mask;
}

static unsigned
df_wait_timeout(lua_State *L, int idx)
{
  lua_Number t = DF_WAIT_DEFAULT_S;

  if (lua_isnoneornil(L, idx)) return DF_WAIT_DEFAULT_S;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "timeout") != LUA_TNIL) {
    t = luaL_checknumber(L, -1);
    luaL_argcheck(L, t > 0 && t <= DF_WAIT_MAX_S, idx, "opts.timeout: seconds, 0 < t <= 86400");
  }
  lua_pop(L, 1);
  return (unsigned)(t + 0.999);
}

/* Starts waiting for d in modes (after the waiting event was emitted). */
static int
df_wait_start(lua_State *L, struct df_lua_device *d, const char *what, unsigned modes,
              const char *want, unsigned timeout_s)
{
  struct df_wait_op *op;
  struct df_bridge_task *task;
  int rc;

  if (d->busy) return luaL_error(L, "%s: the phone is busy with another call", what);
  /* the old session goes first: the phone is rebooting, and a session left
   * open would keep a dead connection (or the USB interface) */
  df_lua_device_replace(d, NULL);
  task = df_bridge_begin(L, what);
  op = calloc(1, sizeof(*op));
  if (op == NULL) return df_bridge_fail(L, task, DF_ENOMEM);
  op->base.task = task;
  op->base.d = d;
  op->modes = modes;
  snprintf(op->want, sizeof(op->want), "%s", want);
  if (d->env.neps == 0 || d->env.loop == NULL) {
    free(op);
    df_bridge_fail(L, task, DF_EUNSUPPORTED);
    lua_pop(L, 2);
    lua_pushfstring(L, "%s: following a phone across reboots needs --connect endpoints; over "
                       "USB it is not built yet",
                    what);
    lua_pushstring(L, df_error_name(DF_EUNSUPPORTED));
    return 3;
  }
  d->busy = true;
  rc = df_device_wait(d->env.loop, d->env.eps, d->env.neps, d->env.keys, d->serial, modes,
                      timeout_s * 1000u, df_wait_done, op);
  if (rc != 0) {
    d->busy = false;
    free(op);
    return df_bridge_fail(L, task, rc);
  }
  /* cancel: detach; the wait's answer then only frees the op */
  df_bridge_set_cancel(task, df_device_op_detach, op);
  return df_bridge_wait(L, task);
}

static int
df_lua_dev_wait_for(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  char want[128];
  unsigned modes = df_wait_modes(L, 2, want, sizeof(want));
  unsigned timeout_s = df_wait_timeout(L, 3);
  struct df_wait_info w;
  char msg[600];

  snprintf(msg, sizeof(msg), "waiting up to %u s for %s in %s mode", timeout_s, d->serial, want);
  memset(&w, 0, sizeof(w));
  w.for_what = "reboot";
  w.serial = d->serial;
  w.mode = want;
  w.timeout_s = timeout_s;
  w.message = msg;
  df_device_emit_waiting(L, &w);
  return df_wait_start(L, d, "dev:wait_for", modes, want, timeout_s);
}

/* ---- df.model ---- */

/* Pushes the device file table of d (with fallback and reason), or
 * nil, message, code. */
static int
df_model_push(lua_State *L, struct df_lua_device *d)
{
  struct df_device_query q = {NULL, NULL, -1, -1};
  struct df_device_match m;
  char err[512];
  int rc;

  if (d->env.devices_dir == NULL)
    return df_bridge_push_error(L, DF_EUNSUPPORTED, "no devices folder is known to this run");
  if (d->dev != NULL) {
    q.device = d->dev->codename[0] ? d->dev->codename : NULL;
    q.model = d->dev->model[0] ? d->dev->model : NULL;
  }
  rc = df_device_match(d->env.devices_dir, &q, &m, err, sizeof(err));
  if (rc != 0) return df_bridge_push_error(L, rc, err);
  rc = df_device_file_load(L, d->env.devices_dir, m.id, err, sizeof(err));
  if (rc != 0) return df_bridge_push_error(L, rc, err);
  lua_pushboolean(L, m.fallback);
  lua_setfield(L, -2, "fallback");
  lua_pushstring(L, m.reason);
  lua_setfield(L, -2, "reason");
  return 1;
}

static int
df_lua_model(lua_State *L)
{
  return df_model_push(L, df_lua_device_check(L, 1));
}

/* ---- df.instruct ---- */

struct df_instruct_map {
  const char *combo;
  enum df_device_mode mode; /* OFFLINE: droidfix cannot see the phone there */
};

static const struct df_instruct_map df_instruct_modes[] = {
  {"fastboot", DF_DEVICE_BOOTLOADER},
  {"recovery", DF_DEVICE_RECOVERY},
  {"safe-mode", DF_DEVICE_SYSTEM},
  {"download", DF_DEVICE_OFFLINE},
  {"edl", DF_DEVICE_OFFLINE},
};

static const char *
df_instruct_key(const char *k)
{
  if (strcmp(k, "volume_up") == 0) return "Volume Up";
  if (strcmp(k, "volume_down") == 0) return "Volume Down";
  if (strcmp(k, "power") == 0) return "Power";
  if (strcmp(k, "bixby") == 0) return "Bixby";
  if (strcmp(k, "home") == 0) return "Home";
  return k;
}

/* Pushes one step (the table at -1) as a sentence. */
static void
df_instruct_sentence(lua_State *L, int n)
{
  luaL_Buffer b;
  const char *action, *until = NULL;
  int step = lua_gettop(L);
  lua_Number seconds = 0;

  lua_getfield(L, step, "action");
  action = lua_tostring(L, -1);
  if (action == NULL) action = "?";
  if (lua_getfield(L, step, "until") == LUA_TSTRING) until = lua_tostring(L, -1);
  if (lua_getfield(L, step, "seconds") == LUA_TNUMBER) seconds = lua_tonumber(L, -1);
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "%d. ", n);
  luaL_addvalue(&b);
  if (strcmp(action, "plug_usb") == 0) {
    luaL_addstring(&b, "Plug in the USB cable");
  } else if (strcmp(action, "unplug_usb") == 0) {
    luaL_addstring(&b, "Unplug the USB cable");
  } else if (strcmp(action, "wait") == 0) {
    luaL_addstring(&b, "Wait");
  } else {
    luaL_addstring(&b, strcmp(action, "hold") == 0      ? "Hold "
                       : strcmp(action, "release") == 0 ? "Release "
                                                        : "Press ");
    if (lua_getfield(L, step, "keys") == LUA_TTABLE) {
      lua_Integer nk = (lua_Integer)lua_rawlen(L, -1);
      for (lua_Integer i = 1; i <= nk; i++) {
        lua_rawgeti(L, -1, i);
        const char *k = lua_tostring(L, -1);
        lua_pop(L, 1);
        if (i > 1) luaL_addstring(&b, i == nk ? " and " : ", ");
        luaL_addstring(&b, df_instruct_key(k != NULL ? k : "?"));
      }
    }
    lua_pop(L, 1);
  }
  if (until != NULL) {
    luaL_addstring(&b, " until ");
    luaL_addstring(&b, until);
  }
  if (seconds > 0) {
    lua_pushfstring(L, " (about %d s)", (int)seconds);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_replace(L, step);
  lua_settop(L, step);
}

static int
df_lua_instruct(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *combo = luaL_checkstring(L, 2);
  unsigned timeout_s = df_wait_timeout(L, 3);
  const struct df_instruct_map *map = NULL;
  const char *steps[16];
  size_t nsteps = 0;
  int model, combo_t, steps_t;
  char msg[700];
  struct df_wait_info w;

  for (size_t i = 0; i < sizeof(df_instruct_modes) / sizeof(*df_instruct_modes); i++)
    if (strcmp(df_instruct_modes[i].combo, combo) == 0) map = &df_instruct_modes[i];
  luaL_argcheck(L, map != NULL, 2, "mode: fastboot, recovery, download, safe-mode or edl");
  lua_settop(L, 3);
  if (df_model_push(L, d) != 1) return 3; /* nil, msg, code */
  model = lua_gettop(L);
  lua_getfield(L, model, "modes");
  if (!lua_istable(L, -1) || lua_getfield(L, -1, combo) != LUA_TTABLE) {
    lua_getfield(L, model, "name");
    return df_bridge_push_error(
      L, DF_EUNSUPPORTED,
      lua_pushfstring(L, "the device file of %s (%s) has no button combination for %s",
                      luaL_optstring(L, -1, "this phone"), d->serial, combo));
  }
  combo_t = lua_gettop(L);
  if (map->mode == DF_DEVICE_OFFLINE)
    return df_bridge_push_error(
      L, DF_EUNSUPPORTED,
      lua_pushfstring(L, "droidfix cannot talk to a phone in %s mode yet", combo));
  if (lua_getfield(L, combo_t, "steps") == LUA_TTABLE) {
    steps_t = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, steps_t);
    for (lua_Integer i = 1; i <= n && nsteps < 16; i++) {
      if (lua_rawgeti(L, steps_t, i) != LUA_TTABLE) {
        lua_pop(L, 1);
        continue;
      }
      df_instruct_sentence(L, (int)i);
      steps[nsteps++] = lua_tostring(L, -1); /* stays on the stack */
    }
  }
  snprintf(msg, sizeof(msg), "Put the phone %s into %s mode with its buttons (%zu step%s); "
           "droidfix waits up to %u s for it",
           d->serial, combo, nsteps, nsteps == 1 ? "" : "s", timeout_s);
  memset(&w, 0, sizeof(w));
  w.for_what = "instruct";
  w.serial = d->serial;
  w.combo = combo;
  w.mode = df_device_mode_name(map->mode);
  w.steps = steps;
  w.nsteps = nsteps;
  w.timeout_s = timeout_s;
  w.message = msg;
  df_device_emit_waiting(L, &w);
  return df_wait_start(L, d, "df.instruct", DF_DEVICE_MODE_BIT(map->mode),
                       df_device_mode_name(map->mode), timeout_s);
}

static int
df_lua_host_time(lua_State *L)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

void
df_device_wait_methods(lua_State *L)
{
  lua_pushcfunction(L, df_lua_dev_wait_for);
  lua_setfield(L, -2, "wait_for");
}

void
df_device_register(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"model", df_lua_model},
    {"instruct", df_lua_instruct},
    {"host_time", df_lua_host_time},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
