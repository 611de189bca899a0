/* Matching a connected phone to a device file: ro.product.device first
 * (ro.product.model telling apart models that share it), then
 * ro.product.model, then the USB id; none or several matches fall back to
 * the generic file, with a reason the user can read. */
#include "lua-api/device_file.h"

#include <stdio.h>

#include "core/error.h"
#include <string.h>

#include "lua-api/device_file_ids.h"
#include "lua-api/device_file_load.h"
#include "lua-api/device_file_schema.h"

struct df_candidates {
  const char *ids[64];
  char vendors[64][64];
  size_t n;
  size_t total;
};

static void
candidates_add(struct df_candidates *c, const char *id, const char *vendor)
{
  if (c->n < sizeof(c->ids) / sizeof(c->ids[0])) {
    c->ids[c->n] = id;
    snprintf(c->vendors[c->n], sizeof(c->vendors[0]), "%s", vendor ? vendor : "");
    c->n++;
  }
  c->total++;
}

static bool
usb_listed(lua_State *P, int match, int vid, int pid)
{
  bool found = false;
  if (lua_getfield(P, match, "usb") == LUA_TTABLE) {
    size_t n = (size_t)lua_rawlen(P, -1);
    for (size_t i = 1; i <= n && !found; i++) {
      lua_rawgeti(P, -1, (lua_Integer)i);
      lua_getfield(P, -1, "vid");
      lua_getfield(P, -2, "pid");
      found = lua_tointeger(P, -2) == vid && lua_tointeger(P, -1) == pid;
      lua_pop(P, 3);
    }
  }
  lua_pop(P, 1);
  return found;
}

static void
join_candidates(const struct df_candidates *c, char *out, size_t outlen)
{
  size_t k = 0;
  out[0] = '\0';
  for (size_t i = 0; i < c->n; i++) {
    int n = snprintf(out + k, outlen - k, "%s%s", i ? ", " : "", c->ids[i]);
    if (n < 0 || (size_t)n >= outlen - k)
      break;
    k += (size_t)n;
  }
}

static bool
decide(struct df_device_match *out, const struct df_candidates *c, const char *what)
{
  if (c->total == 0)
    return false;
  const char *vendor = c->vendors[0];
  for (size_t i = 1; i < c->n; i++)
    if (strcmp(c->vendors[i], vendor) != 0)
      vendor = "";
  snprintf(out->vendor, sizeof(out->vendor), "%s", vendor);
  if (c->total == 1) {
    snprintf(out->id, sizeof(out->id), "%s", c->ids[0]);
    out->fallback = false;
    snprintf(out->reason, sizeof(out->reason), "%s matches %s", what, c->ids[0]);
    return true;
  }
  char list[384];
  join_candidates(c, list, sizeof(list));
  snprintf(out->id, sizeof(out->id), "%s", DF_DEVICE_FALLBACK_ID);
  out->fallback = true;
  out->ambiguous = true;
  snprintf(out->reason, sizeof(out->reason),
           "%s is listed by %zu models (%s); using %s until the phone tells them apart "
           "(ro.product.device over adb)", what, c->total, list, DF_DEVICE_FALLBACK_ID);
  return true;
}

/* Does t[key] hold a list? */
static bool
has_list(lua_State *P, int t, const char *key)
{
  bool yes = lua_getfield(P, t, key) == LUA_TTABLE;
  lua_pop(P, 1);
  return yes;
}

/* The models each kind of evidence points to. */
struct df_match_sets {
  struct df_candidates by_device, by_device_model, by_model, by_usb;
};

/* Adds model id (its merged table at t in P) to the sets q's facts put it in. */
static void
match_one(struct df_match_sets *m, lua_State *P, int t, const char *id,
          const struct df_device_query *q)
{
  lua_getfield(P, t, "vendor");
  const char *vendor = lua_tostring(P, -1);
  lua_getfield(P, t, "match");
  int match = lua_gettop(P);
  if (lua_type(P, match) != LUA_TTABLE)
    return;
  bool dev_hit = q->device && q->device[0] && has_list(P, match, "ro.product.device") &&
                 df_device_lists(P, match, "ro.product.device", q->device);
  bool model_hit = q->model && q->model[0] && has_list(P, match, "ro.product.model") &&
                   df_device_lists(P, match, "ro.product.model", q->model);
  if (dev_hit)
    candidates_add(&m->by_device, id, vendor);
  if (dev_hit && model_hit)
    candidates_add(&m->by_device_model, id, vendor);
  if (model_hit)
    candidates_add(&m->by_model, id, vendor);
  if (q->usb_vid >= 0 && q->usb_pid >= 0 && usb_listed(P, match, q->usb_vid, q->usb_pid))
    candidates_add(&m->by_usb, id, vendor);
}

/* No evidence points to one model: the generic file, and why. */
static void
fall_back(struct df_device_match *out, const struct df_device_query *q)
{
  char known[256] = "";
  size_t k = 0;
  if (q->device && q->device[0])
    k += (size_t)snprintf(known + k, sizeof(known) - k, "ro.product.device=%s", q->device);
  if (q->model && q->model[0] && k < sizeof(known))
    k += (size_t)snprintf(known + k, sizeof(known) - k, "%sro.product.model=%s", k ? ", " : "",
                          q->model);
  if (q->usb_vid >= 0 && q->usb_pid >= 0 && k < sizeof(known))
    snprintf(known + k, sizeof(known) - k, "%sUSB %04x:%04x", k ? ", " : "",
             (unsigned)q->usb_vid & 0xffff, (unsigned)q->usb_pid & 0xffff);
  snprintf(out->id, sizeof(out->id), "%s", DF_DEVICE_FALLBACK_ID);
  out->fallback = true;
  snprintf(out->reason, sizeof(out->reason),
           "no device file matches %s; using %s: its button combinations and partitions are "
           "guesses (add a device file: see docs/device-files.md)",
           known[0] ? known : "this phone (nothing known of it)", DF_DEVICE_FALLBACK_ID);
}

int
df_device_match(const char *devices_dir, const struct df_device_query *q,
                struct df_device_match *out, char *err, size_t errlen)
{
  struct df_device_ids l;
  memset(out, 0, sizeof(*out));
  if (err && errlen)
    err[0] = '\0';
  if (!q)
    return DF_EINVAL;
  int rc = df_device_ids_load(&l, devices_dir);
  if (rc != 0)
    return rc;

  struct df_match_sets m;
  memset(&m, 0, sizeof(m));
  for (size_t i = 0; i < l.n; i++) {
    struct df_device_load ld;
    char one_err[1024];
    if (df_device_load_run(&ld, devices_dir, l.ids[i], one_err, sizeof(one_err)) != 0) {
      if (out->broken++ == 0 && err && errlen)
        snprintf(err, errlen, "%s", one_err);
    } else if (!ld.abstract) {
      match_one(&m, ld.P, lua_gettop(ld.P), l.ids[i], q);
    }
    df_device_load_free(&ld);
  }

  char what[256];
  bool done = false;
  if (m.by_device.total > 1 && m.by_device_model.total >= 1) {
    snprintf(what, sizeof(what), "ro.product.device=%s with ro.product.model=%s", q->device,
             q->model);
    done = decide(out, &m.by_device_model, what);
  }
  if (!done) {
    snprintf(what, sizeof(what), "ro.product.device=%s", q->device ? q->device : "");
    done = decide(out, &m.by_device, what);
  }
  if (!done) {
    snprintf(what, sizeof(what), "ro.product.model=%s", q->model ? q->model : "");
    done = decide(out, &m.by_model, what);
  }
  if (!done) {
    snprintf(what, sizeof(what), "USB %04x:%04x", (unsigned)q->usb_vid & 0xffff,
             (unsigned)q->usb_pid & 0xffff);
    done = decide(out, &m.by_usb, what);
  }
  if (!done)
    fall_back(out, q);
  df_device_ids_free(&l);
  return 0;
}
