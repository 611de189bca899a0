/* dev:wait_for, df.instruct and df.model: following the same phone (by
 * serial) across reboots at the run's endpoints or over USB, showing a person the
 * model's button combination and waiting for the phone in the mode it
 * leads to, and the phone's device file. Also df.host_time. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "core/error.h"
#include "core/usb.h"
#include "lua-api/device_file.h"
#include "lua-api/df_device_op.h"
#include "lua-api/df_module.h"
#include "lua-api/risk_gate.h"
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
  if ((d->env.neps == 0 && d->env.usb == NULL) || d->env.loop == NULL) {
    free(op);
    df_bridge_fail(L, task, DF_EUNSUPPORTED);
    lua_pop(L, 2);
    lua_pushfstring(L, "%s: following a phone across reboots needs --connect endpoints or "
                       "USB, and this run has neither",
                    what);
    lua_pushstring(L, df_error_name(DF_EUNSUPPORTED));
    return 3;
  }
  d->busy = true;
  if (d->env.neps == 0)
    rc = df_device_wait_usb(d->env.loop, d->env.usb, d->env.keys, d->serial, modes,
                            timeout_s * 1000u, df_wait_done, op);
  else
    rc = df_device_wait(d->env.loop, d->env.eps, d->env.neps, d->env.keys, d->serial, modes,
                        timeout_s * 1000u, d->env.owners, df_wait_done, op);
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

  df_risk_gate_check(L, "dev:wait_for", DF_RISK_CALL_READ, NULL);
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
  if (d->dev == NULL && d->env.model_id != NULL) {
    /* the phone cannot be asked (the run started without it): the model
     * the user named */
    rc = df_device_file_load(L, d->env.devices_dir, d->env.model_id, err, sizeof(err));
    if (rc != 0) return df_bridge_push_error(L, rc, err);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "fallback");
    lua_pushfstring(L, "%s, as given with --model (the phone cannot be asked yet)",
                    d->env.model_id);
    lua_setfield(L, -2, "reason");
    return 1;
  }
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

/* ---- waiting for a phone not seen yet (a run started without one) ----
 * Any phone on the run's endpoints in the wanted mode is the one, once:
 * the device file it matches must be the model the user named (--model),
 * else it is refused before anything is done to it. */

struct df_instruct_any_op {
  struct df_device_op base;
  struct df_device *dev; /* found, given to the device in the push */
  char said[600];        /* a sentence for the user when found */
};

struct df_instruct_any {
  struct df_instruct_any_op *op; /* freed by the completion, or when canceled */
  struct df_lua_device_env env;  /* borrowed pointers, as d->env */
  /* over USB (no endpoints): the model's USB ids, from its device file */
  struct df_device_usb_id ids[DF_DEVICE_WAIT_NEW_IDS];
  int nids;
  bool usb_waiting; /* df_device_wait_usb_new is under way: its callback ends */
  unsigned modes;
  char want[64];
  char combo[32];
  unsigned timeout_s;
  uint64_t deadline;
  uv_timer_t timer; /* this struct is freed in the timer's close callback */
};

static int
df_instruct_any_push(lua_State *L, void *ctx)
{
  struct df_instruct_any_op *op = ctx;
  void *hud;
  const struct df_host_callbacks *h;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  h = df_module_host(L, &hud);
  if (h->say != NULL && op->said[0]) h->say(hud, op->said);
  lua_pushboolean(L, 1);
  return 1;
}

static void
df_instruct_any_free_timer(uv_handle_t *h)
{
  free(h->data);
}

static void
df_instruct_any_end(struct df_instruct_any *w, int status)
{
  struct df_instruct_any_op *op = w->op;

  w->op = NULL;
  op->base.status = status;
  if (status == 0) {
    /* the phone's serial is known from now on: the device follows it */
    snprintf(op->base.d->serial, sizeof(op->base.d->serial), "%s", op->dev->serial);
    df_lua_device_replace(op->base.d, op->dev);
    op->dev = NULL;
  }
  df_device_op_complete(op, df_instruct_any_push, NULL);
  uv_close((uv_handle_t *)&w->timer, df_instruct_any_free_timer);
}

/* snprintf for messages that may be cut (long serials, paths). */
static void
df_instruct_printf(char *out, size_t outlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void
df_instruct_printf(char *out, size_t outlen, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(out, outlen, fmt, ap);
  va_end(ap);
}

/* Whether dev is the model the user named; else why not, in msg. */
static bool
df_instruct_any_is_model(const struct df_instruct_any *w, const struct df_device *dev, char *msg,
                         size_t msglen)
{
  struct df_device_query q = {NULL, NULL, -1, -1};
  struct df_device_match m;
  char err[512];

  if (w->env.model_id == NULL) return true;
  q.device = dev->codename[0] ? dev->codename : NULL;
  q.model = dev->model[0] ? dev->model : NULL;
  if (w->env.devices_dir == NULL ||
      df_device_match(w->env.devices_dir, &q, &m, err, sizeof(err)) != 0) {
    df_instruct_printf(msg, msglen, "the phone %s showed up, but its model cannot be told (%s); droidfix "
             "did nothing to it", dev->serial, w->env.devices_dir == NULL ? "no devices folder" : err);
    return false;
  }
  if (!m.fallback && strcmp(m.id, w->env.model_id) == 0) {
    df_instruct_printf(msg, msglen, "The phone %s showed up in %s mode: %s (codename %s), as --model said.",
             dev->serial, df_device_mode_name(dev->mode), m.id,
             dev->codename[0] ? dev->codename : "?");
    return true;
  }
  if (m.fallback)
    df_instruct_printf(msg, msglen, "the phone that showed up (%s, codename '%s') is not %s as --model said "
             "(droidfix knows no model with that codename): refused, droidfix did nothing to it. "
             "Check the model ('droidfix models' lists them) and run again",
             dev->serial, dev->codename[0] ? dev->codename : "?", w->env.model_id);
  else
    df_instruct_printf(msg, msglen, "the phone that showed up (%s, codename '%s') is %s, not %s as --model "
             "said: refused, droidfix did nothing to it. Run again with --model %s",
             dev->serial, dev->codename[0] ? dev->codename : "?", m.id, w->env.model_id, m.id);
  return false;
}

/* The one phone found (ownership passes to the op): kept when it is the
 * model --model named, else closed untouched. */
static void
df_instruct_any_found(struct df_instruct_any *w, struct df_device *dev)
{
  struct df_instruct_any_op *op = w->op;

  op->dev = dev;
  if (!df_instruct_any_is_model(w, op->dev, op->base.message, sizeof(op->base.message))) {
    df_device_close(op->dev);
    op->dev = NULL;
    df_instruct_any_end(w, DF_EPERM);
    return;
  }
  snprintf(op->said, sizeof(op->said), "%s", op->base.message);
  op->base.message[0] = '\0';
  df_instruct_any_end(w, 0);
}

static void df_instruct_any_round(uv_timer_t *timer);

static void
df_instruct_any_on_list(void *ud, struct df_device_list *list)
{
  struct df_instruct_any *w = ud;
  struct df_instruct_any_op *op = w->op;
  int found = -1, nfound = 0;
  char others[200] = "";

  if (!df_device_op_alive(op)) { /* canceled: the op is freed */
    df_device_list_free(list);
    uv_close((uv_handle_t *)&w->timer, df_instruct_any_free_timer);
    return;
  }
  for (int i = 0; i < list->count; i++) {
    if (!(w->modes & DF_DEVICE_MODE_BIT(list->devices[i]->mode))) continue;
    if (nfound++ == 0) found = i;
    size_t n = strlen(others);
    df_instruct_printf(others + n, sizeof(others) - n, "%s%s", n ? ", " : "", list->devices[i]->serial);
  }
  if (nfound > 1) {
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "%d phones showed up in %s mode (%s): droidfix cannot tell which one to repair. "
             "Leave only that one connected and run again",
             nfound, w->want, others);
    df_device_list_free(list);
    df_instruct_any_end(w, DF_EBUSY);
    return;
  }
  if (found >= 0) {
    struct df_device *dev = df_device_list_take(list, found);
    df_device_list_free(list);
    df_instruct_any_found(w, dev);
    return;
  }
  df_device_list_free(list);
  if (uv_now(&w->env.loop->uv) >= w->deadline) {
    size_t n;
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "no phone showed up in %s mode within %u s (droidfix showed the %s button "
             "combination and looked for it at ",
             w->want, w->timeout_s, w->combo);
    for (int i = 0; i < w->env.neps; i++) {
      char name[320];
      df_endpoint_format(&w->env.eps[i], name, sizeof(name));
      n = strlen(op->base.message);
      df_instruct_printf(op->base.message + n, sizeof(op->base.message) - n, "%s%s", i ? ", " : "",
                         name);
    }
    n = strlen(op->base.message);
    df_instruct_printf(op->base.message + n, sizeof(op->base.message) - n,
             "). Check the cable, hold the buttons until the %s screen shows, and run again",
             w->combo);
    df_instruct_any_end(w, DF_ETIMEDOUT);
    return;
  }
  uv_timer_start(&w->timer, df_instruct_any_round, 250, 0);
}

/* The end of the wait over USB (df_device_wait_usb_new). */
static void
df_instruct_any_on_usb(void *ud, int status, struct df_device *dev, const char *candidates)
{
  struct df_instruct_any *w = ud;
  struct df_instruct_any_op *op = w->op;

  w->usb_waiting = false;
  if (!df_device_op_alive(op)) { /* canceled: the op is freed */
    if (dev != NULL) df_device_close(dev);
    uv_close((uv_handle_t *)&w->timer, df_instruct_any_free_timer);
    return;
  }
  if (status == 0) {
    df_instruct_any_found(w, dev);
    return;
  }
  if (status == DF_EBUSY && candidates[0])
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "several phones showed up in %s mode over USB (%s): droidfix cannot tell which "
             "one to repair. Leave only that one connected and run again",
             w->want, candidates);
  else if (status == DF_EUNAUTHORIZED)
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "a phone showed up over USB but has not allowed this computer: tap \"Allow\" on "
             "\"Allow USB debugging?\" and run again");
  else if (status == DF_EBUSY || status == DF_EACCES)
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "a phone showed up over USB but droidfix could not open it: %s",
             df_usb_error_hint(status) != NULL ? df_usb_error_hint(status)
                                               : df_strerror(status));
  else if (status == DF_ETIMEDOUT)
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "no new phone showed up over USB in %s mode within %u s (droidfix showed the %s "
             "button combination%s). Check the cable, hold the buttons until the %s screen "
             "shows, and run again",
             w->want, w->timeout_s, w->combo,
             w->nids > 0 ? " and looked for the model's USB ids" : "", w->combo);
  else
    df_instruct_printf(op->base.message, sizeof(op->base.message),
             "looking for the phone in %s mode over USB failed: %s", w->want,
             df_strerror(status));
  df_instruct_any_end(w, status);
}

static void
df_instruct_any_round(uv_timer_t *timer)
{
  struct df_instruct_any *w = timer->data;
  int rc;

  if (!df_device_op_alive(w->op)) {
    uv_close((uv_handle_t *)&w->timer, df_instruct_any_free_timer);
    return;
  }
  if (w->env.neps == 0) {
    uint64_t now = uv_now(&w->env.loop->uv);
    w->usb_waiting = true;
    rc = df_device_wait_usb_new(w->env.loop, w->env.usb, w->env.keys, w->ids, w->nids,
                                w->modes, w->deadline > now ? (unsigned)(w->deadline - now) : 0,
                                df_instruct_any_on_usb, w);
    if (rc != 0) w->usb_waiting = false;
  } else {
    rc = df_device_find(w->env.loop, w->env.eps, w->env.neps, w->env.keys, 2000,
                        df_instruct_any_on_list, w);
  }
  if (rc != 0) {
    df_instruct_printf(w->op->base.message, sizeof(w->op->base.message),
             "looking for the phone in %s mode failed: %s", w->want, df_strerror(rc));
    df_instruct_any_end(w, rc);
  }
}

/* Starts waiting for any phone in map's mode (after the waiting event). */
static int
df_instruct_any_start(lua_State *L, struct df_lua_device *d, const struct df_instruct_map *map,
                      unsigned timeout_s, const struct df_device_usb_id *ids, int nids)
{
  struct df_instruct_any_op *op;
  struct df_instruct_any *w;
  struct df_bridge_task *task;

  if (d->busy) return luaL_error(L, "df.instruct: the phone is busy with another call");
  task = df_bridge_begin(L, "df.instruct");
  op = calloc(1, sizeof(*op));
  w = calloc(1, sizeof(*w));
  if (op == NULL || w == NULL) {
    free(op);
    free(w);
    return df_bridge_fail(L, task, DF_ENOMEM);
  }
  op->base.task = task;
  op->base.d = d;
  w->op = op;
  w->env = d->env;
  for (int i = 0; i < nids && i < DF_DEVICE_WAIT_NEW_IDS; i++) w->ids[w->nids++] = ids[i];
  w->modes = DF_DEVICE_MODE_BIT(map->mode);
  snprintf(w->want, sizeof(w->want), "%s", df_device_mode_name(map->mode));
  snprintf(w->combo, sizeof(w->combo), "%s", map->combo);
  w->timeout_s = timeout_s;
  w->deadline = uv_now(&d->env.loop->uv) + (uint64_t)timeout_s * 1000u;
  uv_timer_init(&d->env.loop->uv, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, df_instruct_any_round, 0, 0);
  d->busy = true;
  df_bridge_set_cancel(task, df_device_op_detach, op);
  return df_bridge_wait(L, task);
}

/* Reads one step of a combination (the table at idx) as the device file
 * writes it; the strings stay owned by the table. */
static void
df_instruct_button(lua_State *L, int idx, struct df_wait_button *b, const char **keys,
                   size_t maxkeys)
{
  memset(b, 0, sizeof(*b));
  b->keys = keys;
  if (lua_getfield(L, idx, "action") == LUA_TSTRING) b->action = lua_tostring(L, -1);
  if (lua_getfield(L, idx, "until") == LUA_TSTRING) b->until = lua_tostring(L, -1);
  if (lua_getfield(L, idx, "seconds") == LUA_TNUMBER) b->seconds = lua_tonumber(L, -1);
  lua_pop(L, 3);
  if (lua_getfield(L, idx, "keys") == LUA_TTABLE) {
    lua_Integer nk = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= nk && b->nkeys < maxkeys; i++) {
      if (lua_rawgeti(L, -1, i) == LUA_TSTRING) keys[b->nkeys++] = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (b->action == NULL) b->action = "?";
}

#define DF_INSTRUCT_MAX_STEPS 16
#define DF_INSTRUCT_MAX_KEYS 8

static int
df_lua_instruct(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *combo = luaL_checkstring(L, 2);
  unsigned timeout_s = df_wait_timeout(L, 3);
  const struct df_instruct_map *map = NULL;
  const char *steps[DF_INSTRUCT_MAX_STEPS];
  struct df_wait_button buttons[DF_INSTRUCT_MAX_STEPS];
  const char *keys[DF_INSTRUCT_MAX_STEPS][DF_INSTRUCT_MAX_KEYS];
  size_t nsteps = 0;
  int model, combo_t, steps_t;
  char msg[700], who[300];
  struct df_wait_info w;
  /* a run that started without the phone: any phone that shows up */
  bool unseen = d->dev == NULL && d->serial[0] == '\0';

  for (size_t i = 0; i < sizeof(df_instruct_modes) / sizeof(*df_instruct_modes); i++)
    if (strcmp(df_instruct_modes[i].combo, combo) == 0) map = &df_instruct_modes[i];
  luaL_argcheck(L, map != NULL, 2, "mode: fastboot, recovery, download, safe-mode or edl");
  df_risk_gate_check(L, lua_pushfstring(L, "df.instruct(\"%s\")", combo),
                     df_risk_gate_instruct(combo), NULL);
  lua_settop(L, 3);
  if (df_model_push(L, d) != 1) return 3; /* nil, msg, code */
  model = lua_gettop(L);
  lua_getfield(L, model, "modes");
  if (!lua_istable(L, -1) || lua_getfield(L, -1, combo) != LUA_TTABLE) {
    lua_getfield(L, model, "name");
    return df_bridge_push_error(
      L, DF_EUNSUPPORTED,
      lua_pushfstring(L, "the device file of %s (%s) has no button combination for %s",
                      luaL_optstring(L, -1, "this phone"), unseen ? "the phone" : d->serial,
                      combo));
  }
  combo_t = lua_gettop(L);
  if (map->mode == DF_DEVICE_OFFLINE)
    return df_bridge_push_error(
      L, DF_EUNSUPPORTED,
      lua_pushfstring(L, "droidfix cannot talk to a phone in %s mode yet", combo));
  if (unseen && (d->env.loop == NULL || (d->env.neps == 0 && d->env.usb == NULL)))
    return df_bridge_push_error(
      L, DF_EUNSUPPORTED,
      lua_pushfstring(L, "droidfix cannot look for the phone: USB is not available on this "
                         "system (libusb found no USB); give --connect HOST:PORT"));
  if (lua_getfield(L, combo_t, "steps") == LUA_TTABLE) {
    steps_t = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, steps_t);
    for (lua_Integer i = 1; i <= n && nsteps < DF_INSTRUCT_MAX_STEPS; i++) {
      if (lua_rawgeti(L, steps_t, i) != LUA_TTABLE) {
        lua_pop(L, 1);
        continue;
      }
      df_instruct_button(L, lua_gettop(L), &buttons[nsteps], keys[nsteps],
                         DF_INSTRUCT_MAX_KEYS);
      df_instruct_sentence(L, (int)i);
      steps[nsteps++] = lua_tostring(L, -1); /* stays on the stack */
    }
  }
  if (unseen)
    snprintf(who, sizeof(who), "the phone");
  else
    snprintf(who, sizeof(who), "the phone %s", d->serial);
  snprintf(msg, sizeof(msg), "Put %s into %s mode with its buttons (%zu step%s); "
           "droidfix waits up to %u s for it in %s mode",
           who, combo, nsteps, nsteps == 1 ? "" : "s", timeout_s,
           df_device_mode_name(map->mode));
  memset(&w, 0, sizeof(w));
  w.for_what = "instruct";
  w.serial = d->serial;
  w.combo = combo;
  w.mode = df_device_mode_name(map->mode);
  w.steps = steps;
  w.nsteps = nsteps;
  w.buttons = buttons;
  w.nbuttons = nsteps;
  w.timeout_s = timeout_s;
  w.message = msg;
  df_device_emit_waiting(L, &w);
  if (unseen) {
    /* Over USB: only a phone with the model's ids (match.usb of its
     * device file) is opened. */
    struct df_device_usb_id ids[DF_DEVICE_WAIT_NEW_IDS];
    int nids = 0;
    if (lua_getfield(L, model, "match") == LUA_TTABLE && lua_getfield(L, -1, "usb") == LUA_TTABLE) {
      lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
      int list = lua_gettop(L);
      for (lua_Integer i = 1; i <= n && nids < DF_DEVICE_WAIT_NEW_IDS; i++) {
        if (lua_rawgeti(L, list, i) == LUA_TTABLE) {
          int vt = lua_getfield(L, -1, "vid");
          int pt = lua_getfield(L, -2, "pid");
          if (vt == LUA_TNUMBER && pt == LUA_TNUMBER) {
            ids[nids].vid = (uint16_t)lua_tointeger(L, -2);
            ids[nids].pid = (uint16_t)lua_tointeger(L, -1);
            nids++;
          }
        }
        lua_settop(L, list);
      }
    }
    return df_instruct_any_start(L, d, map, timeout_s, ids, nids);
  }
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
