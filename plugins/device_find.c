/* Probing many endpoints at once, and waiting for a phone to come back at
 * the endpoints or over USB. */
#include "plugins/device_find.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/usb.h"

struct df_find {
  struct df_device_list *list;
  int pending;
  struct df_endpoint_owners *owners; /* noted as phones answer, or NULL */
  df_device_find_cb cb;
  void *userdata;
};

struct df_find_probe {
  struct df_find *find;
  struct df_endpoint ep;
};

/* Keeps dev unless the same phone is already listed: then the session in
 * the list wins and dev is closed (one device per serial). */
static void
df_find_add(struct df_device_list *list, struct df_device *dev)
{
  for (int i = 0; i < list->count; i++) {
    if (strcmp(list->devices[i]->serial, dev->serial) == 0) {
      df_device_close(dev);
      return;
    }
  }
  if (list->count == DF_DEVICE_FIND_MAX) {
    df_device_close(dev);
    return;
  }
  list->devices[list->count++] = dev;
}

static bool
df_endpoint_same(const struct df_endpoint *a, const struct df_endpoint *b)
{
  return a->kind == b->kind && a->port == b->port && strcmp(a->host, b->host) == 0 &&
         strcmp(a->scheme, b->scheme) == 0;
}

/* The owners' entry for ep, or NULL. */
static const char *
df_owner_of(const struct df_endpoint_owners *o, const struct df_endpoint *ep)
{
  for (int i = 0; i < o->count; i++)
    if (df_endpoint_same(&o->at[i].ep, ep)) return o->at[i].serial;
  return NULL;
}

/* Notes who answered at ep, unless the answer names no phone: an
 * unauthorized or offline phone, or one still starting whose getprop
 * failed, has the stand-in serial HOST:PORT (and the owner noted before
 * stays). */
static void
df_owner_note(struct df_endpoint_owners *o, const struct df_endpoint *ep,
              const struct df_device *dev)
{
  char stand_in[272];
  int i = 0;

  if (dev->mode == DF_DEVICE_UNAUTHORIZED || dev->mode == DF_DEVICE_OFFLINE) return;
  df_endpoint_stand_in_serial(ep, stand_in, sizeof(stand_in));
  if (strcmp(dev->serial, stand_in) == 0) return;

  while (i < o->count && !df_endpoint_same(&o->at[i].ep, ep)) i++;
  if (i == o->count) {
    if (o->count == DF_DEVICE_FIND_MAX) return; /* full: that endpoint stays probed */
    o->at[o->count++].ep = *ep;
  }
  snprintf(o->at[i].serial, sizeof(o->at[i].serial), "%s", dev->serial);
}

static void
df_find_on_probe(void *userdata, int status, struct df_device *dev)
{
  struct df_find_probe *fp = userdata;
  struct df_find *find = fp->find;
  struct df_device_list *list = find->list;

  if (status == DF_OK) {
    if (find->owners != NULL) df_owner_note(find->owners, &fp->ep, dev);
    df_find_add(list, dev);
  } else if (list->failed_count < DF_DEVICE_FIND_MAX) {
    list->failed[list->failed_count] = fp->ep;
    list->errors[list->failed_count++] = status;
  }
  free(fp);
  if (--find->pending == 0) {
    find->cb(find->userdata, list);
    free(find);
  }
}

static int
df_device_find_noting(struct df_loop *loop, const struct df_endpoint *eps, int neps,
                      const struct df_adb_keys *keys, unsigned timeout_ms,
                      struct df_endpoint_owners *owners, df_device_find_cb cb, void *userdata)
{
  struct df_find *find;

  if (neps <= 0 || neps > DF_DEVICE_FIND_MAX) return DF_EINVAL;
  find = calloc(1, sizeof(*find));
  if (find == NULL) return DF_ENOMEM;
  find->list = calloc(1, sizeof(*find->list));
  if (find->list == NULL) {
    free(find);
    return DF_ENOMEM;
  }
  find->owners = owners;
  find->cb = cb;
  find->userdata = userdata;
  find->pending = neps + 1; /* held until every probe has started */
  for (int i = 0; i < neps; i++) {
    struct df_find_probe *fp = calloc(1, sizeof(*fp));
    int rc = fp == NULL ? DF_ENOMEM : DF_OK;
    if (rc == DF_OK) {
      fp->find = find;
      fp->ep = eps[i];
      rc = df_device_probe(loop, &eps[i], keys, timeout_ms, df_find_on_probe, fp);
    }
    if (rc != DF_OK) {
      free(fp);
      find->pending--;
      find->list->failed[find->list->failed_count] = eps[i];
      find->list->errors[find->list->failed_count++] = rc;
    }
  }
  /* Release the hold. Probes answer asynchronously, so this reports only
   * when no probe could start at all. */
  if (--find->pending == 0) {
    cb(userdata, find->list);
    free(find);
  }
  return DF_OK;
}

int
df_device_find(struct df_loop *loop, const struct df_endpoint *eps, int neps,
               const struct df_adb_keys *keys, unsigned timeout_ms,
               df_device_find_cb cb, void *userdata)
{
  return df_device_find_noting(loop, eps, neps, keys, timeout_ms, NULL, cb, userdata);
}

void
df_device_list_free(struct df_device_list *list)
{
  if (list == NULL) return;
  for (int i = 0; i < list->count; i++)
    if (list->devices[i] != NULL) df_device_close(list->devices[i]);
  free(list);
}

struct df_device *
df_device_list_take(struct df_device_list *list, int index)
{
  struct df_device *dev;

  if (index < 0 || index >= list->count) return NULL;
  dev = list->devices[index];
  list->devices[index] = NULL;
  return dev;
}

/* ---- waiting for a phone ---- */

struct df_wait {
  struct df_loop *loop;
  struct df_endpoint eps[DF_DEVICE_FIND_MAX];
  int neps;
  const struct df_adb_keys *keys;
  char serial[272];
  unsigned modes;
  uint64_t deadline;
  unsigned interval_ms;
  uv_timer_t timer;
  struct df_endpoint_owners *owners; /* or NULL */
  unsigned rounds;
  df_device_wait_cb cb;
  void *userdata;
  bool done;
};

static void
df_wait_free(uv_handle_t *h)
{
  free(h->data);
}

static void df_wait_round(uv_timer_t *timer);

static void
df_wait_on_list(void *userdata, struct df_device_list *list)
{
  struct df_wait *w = userdata;

  for (int i = 0; i < list->count; i++) {
    struct df_device *dev = list->devices[i];
    if (strcmp(dev->serial, w->serial) == 0 && (w->modes & DF_DEVICE_MODE_BIT(dev->mode))) {
      df_device_list_take(list, i);
      df_device_list_free(list);
      w->done = true;
      w->cb(w->userdata, DF_OK, dev);
      uv_close((uv_handle_t *)&w->timer, df_wait_free);
      return;
    }
  }
  df_device_list_free(list);
  if (uv_now(&w->loop->uv) >= w->deadline) {
    w->done = true;
    w->cb(w->userdata, DF_ETIMEDOUT, NULL);
    uv_close((uv_handle_t *)&w->timer, df_wait_free);
    return;
  }
  uv_timer_start(&w->timer, df_wait_round, w->interval_ms, 0);
}

static void
df_wait_round(uv_timer_t *timer)
{
  struct df_wait *w = timer->data;
  struct df_endpoint eps[DF_DEVICE_FIND_MAX];
  bool sweep = w->owners == NULL || w->rounds++ % DF_DEVICE_WAIT_SWEEP == DF_DEVICE_WAIT_SWEEP - 1;
  int n = 0, rc;

  /* Where another phone answered last, this one is not (until a sweep). */
  for (int i = 0; i < w->neps; i++) {
    const char *owner = sweep ? NULL : df_owner_of(w->owners, &w->eps[i]);
    if (owner == NULL || strcmp(owner, w->serial) == 0) eps[n++] = w->eps[i];
  }
  if (n == 0) {
    memcpy(eps, w->eps, sizeof(*eps) * (size_t)w->neps);
    n = w->neps;
  }
  rc = df_device_find_noting(w->loop, eps, n, w->keys, 2000, w->owners, df_wait_on_list, w);

  if (rc != DF_OK) {
    w->done = true;
    w->cb(w->userdata, rc, NULL);
    uv_close((uv_handle_t *)&w->timer, df_wait_free);
  }
}

int
df_device_wait(struct df_loop *loop, const struct df_endpoint *eps, int neps,
               const struct df_adb_keys *keys, const char *serial, unsigned modes,
               unsigned timeout_ms, struct df_endpoint_owners *owners, df_device_wait_cb cb,
               void *userdata)
{
  struct df_wait *w;

  if (neps <= 0 || neps > DF_DEVICE_FIND_MAX) return DF_EINVAL;
  w = calloc(1, sizeof(*w));
  if (w == NULL) return DF_ENOMEM;
  w->loop = loop;
  memcpy(w->eps, eps, sizeof(*eps) * (size_t)neps);
  w->neps = neps;
  w->keys = keys;
  snprintf(w->serial, sizeof(w->serial), "%s", serial);
  w->modes = modes;
  w->owners = owners;
  w->interval_ms = 250;
  w->deadline = uv_now(&loop->uv) + timeout_ms;
  w->cb = cb;
  w->userdata = userdata;
  uv_timer_init(&loop->uv, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, df_wait_round, 0, 0);
  return DF_OK;
}

/* ---- waiting for a phone over USB ---- */

#define DF_WAIT_USB_SCAN_MS 250
#define DF_WAIT_USB_PROBE_MS 5000
#define DF_WAIT_USB_OTHERS 32

struct df_wait_usb {
  struct df_loop *loop;
  struct df_usb *usb;
  const struct df_usb_callbacks *old_cbs; /* given back at the end */
  void *old_ud;
  const struct df_adb_keys *keys;
  char serial[272];
  unsigned modes;
  uint64_t deadline;
  uv_timer_t timer; /* the rescan tick; also ends the wait at the deadline */
  df_device_wait_cb cb;
  void *userdata;
  bool done;
  bool scanning;        /* inside df_usb_scan: arrivals are the scan's, else hotplug's */
  int refs;             /* the timer's, plus one per probe under way */
  int open_err;         /* DF_EBUSY / DF_EACCES seen opening an interface */
  struct df_device *unauthorized; /* the phone, waiting for its user's Allow */
  struct df_usb_device_info unauthorized_info;
  /* devices that answered with another serial: not probed again */
  struct {
    uint8_t bus, address;
  } others[DF_WAIT_USB_OTHERS];
  int nothers;
  /* ---- df_device_wait_usb_new: any phone not seen yet ---- */
  bool any;
  bool baselining; /* inside the first scan: arrivals are what was there */
  df_device_wait_new_cb new_cb;
  struct df_device_usb_id ids[DF_DEVICE_WAIT_NEW_IDS];
  int nids;
  struct { /* the interfaces plugged in at the start: never probed */
    uint8_t bus, address;
    uint16_t vid, pid;
    char serial[128];
  } start[DF_WAIT_USB_OTHERS];
  int nstart;
  struct df_device *found; /* the first phone that answered in the mode */
  uint64_t settle_until;
  int ncandidates;
  char candidates[300];
};

struct df_wait_usb_probe {
  struct df_wait_usb *w;
  struct df_usb_device_info info;
};

static void
df_wait_usb_unref(struct df_wait_usb *w)
{
  if (--w->refs == 0) free(w);
}

static void
df_wait_usb_timer_closed(uv_handle_t *h)
{
  df_wait_usb_unref(h->data);
}

static void
df_wait_usb_finish(struct df_wait_usb *w, int status, struct df_device *dev)
{
  if (w->done) return;
  w->done = true;
  df_usb_set_callbacks(w->usb, w->old_cbs, w->old_ud);
  if (w->unauthorized != NULL && w->unauthorized != dev) df_device_close(w->unauthorized);
  w->unauthorized = NULL;
  if (w->found != NULL && w->found != dev) df_device_close(w->found);
  w->found = NULL;
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, df_wait_usb_timer_closed);
  if (w->new_cb != NULL)
    w->new_cb(w->userdata, status, dev, status == DF_EBUSY ? w->candidates : "");
  else
    w->cb(w->userdata, status, dev);
}

/* ---- a phone not seen yet (df_device_wait_usb_new) ---- */

static bool
df_wait_usb_at_start(const struct df_wait_usb *w, const struct df_usb_device_info *info)
{
  for (int i = 0; i < w->nstart; i++)
    if (w->start[i].bus == info->bus && w->start[i].address == info->address &&
        w->start[i].vid == info->vid && w->start[i].pid == info->pid &&
        strcmp(w->start[i].serial, info->serial) == 0)
      return true;
  return false;
}

static bool
df_wait_usb_id_fits(const struct df_wait_usb *w, const struct df_usb_device_info *info)
{
  if (w->nids == 0) return true;
  for (int i = 0; i < w->nids; i++)
    if (w->ids[i].vid == info->vid && w->ids[i].pid == info->pid) return true;
  return false;
}

/* A phone answered in a wanted mode: the first is kept, a second one (a
 * phone with another serial) makes the wait end in DF_EBUSY once settled. */
static void
df_wait_usb_candidate(struct df_wait_usb *w, struct df_device *dev)
{
  size_t n = strlen(w->candidates);

  if (w->found != NULL && strcmp(w->found->serial, dev->serial) == 0) {
    df_device_close(dev); /* the same phone, seen again */
    return;
  }
  snprintf(w->candidates + n, sizeof(w->candidates) - n, "%s%s", n ? ", " : "", dev->serial);
  w->ncandidates++;
  if (w->found == NULL) {
    w->found = dev;
    w->settle_until = uv_now(&w->loop->uv) + DF_DEVICE_WAIT_NEW_SETTLE_MS;
  } else {
    df_device_close(dev);
  }
}

/* Can an interface of this kind be the phone in one of the wanted modes? */
static bool
df_wait_usb_kind_fits(const struct df_wait_usb *w, enum df_usb_kind kind)
{
  unsigned adb = DF_DEVICE_MODE_BIT(DF_DEVICE_SYSTEM) | DF_DEVICE_MODE_BIT(DF_DEVICE_RECOVERY) |
                 DF_DEVICE_MODE_BIT(DF_DEVICE_SIDELOAD);
  unsigned fastboot =
    DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER) | DF_DEVICE_MODE_BIT(DF_DEVICE_FASTBOOTD);

  return (w->modes & (kind == DF_USB_ADB ? adb : fastboot)) != 0;
}

static bool
df_wait_usb_is_other(const struct df_wait_usb *w, const struct df_usb_device_info *info)
{
  for (int i = 0; i < w->nothers; i++)
    if (w->others[i].bus == info->bus && w->others[i].address == info->address) return true;
  return false;
}

static void
df_wait_usb_on_probe(void *userdata, int status, struct df_device *dev)
{
  struct df_wait_usb_probe *pr = userdata;
  struct df_wait_usb *w = pr->w;

  if (w->done) {
    if (dev != NULL) df_device_close(dev);
  } else if (w->any && status == DF_OK && (w->modes & DF_DEVICE_MODE_BIT(dev->mode))) {
    df_wait_usb_candidate(w, dev);
  } else if (w->any && status == DF_OK && dev->mode != DF_DEVICE_UNAUTHORIZED) {
    /* A new phone, not (yet) in the mode: look again at the next scan. */
    df_device_close(dev);
    df_usb_forget(w->usb, &pr->info);
  } else if (status != DF_OK) {
    /* Not ready yet (adbd or the bootloader still starting), or gone:
     * the next scan looks again. */
    df_usb_forget(w->usb, &pr->info);
  } else if (!w->any && strcmp(dev->serial, w->serial) != 0) {
    if (w->nothers < DF_WAIT_USB_OTHERS) {
      w->others[w->nothers].bus = pr->info.bus;
      w->others[w->nothers].address = pr->info.address;
      w->nothers++;
    }
    df_device_close(dev);
  } else if (w->modes & DF_DEVICE_MODE_BIT(dev->mode)) {
    df_wait_usb_finish(w, DF_OK, dev);
  } else if (dev->mode == DF_DEVICE_UNAUTHORIZED && w->unauthorized == NULL) {
    /* Probing again would ask the user again: keep this session, which
     * turns to system mode when they tap Allow (see the tick). */
    w->unauthorized = dev;
    w->unauthorized_info = pr->info;
  } else {
    /* The phone, but not yet in the mode (still on its way, or an old
     * session of the mode it is leaving): look again at the next scan. */
    df_device_close(dev);
    df_usb_forget(w->usb, &pr->info);
  }
  free(pr);
  df_wait_usb_unref(w);
}

static void
df_wait_usb_arrived(void *ud, const struct df_usb_device_info *info)
{
  struct df_wait_usb *w = ud;
  struct df_wait_usb_probe *pr;
  int rc;

  if (w->baselining) {
    if (w->nstart < DF_WAIT_USB_OTHERS) {
      w->start[w->nstart].bus = info->bus;
      w->start[w->nstart].address = info->address;
      w->start[w->nstart].vid = info->vid;
      w->start[w->nstart].pid = info->pid;
      snprintf(w->start[w->nstart].serial, sizeof(w->start[0].serial), "%s", info->serial);
      w->nstart++;
    }
    df_log_debug("usb: %s %04x:%04x at %s (serial '%s') was there at the start: not the "
                 "phone awaited", df_usb_kind_name(info->kind), info->vid, info->pid,
                 info->port_path, info->serial);
    return;
  }
  if (w->done || !df_wait_usb_kind_fits(w, info->kind) || df_wait_usb_is_other(w, info)) return;
  if (w->any && (df_wait_usb_at_start(w, info) || !df_wait_usb_id_fits(w, info))) return;
  if (w->unauthorized != NULL && w->unauthorized_info.bus == info->bus &&
      w->unauthorized_info.address == info->address)
    return;
  df_log_debug("usb: %s %04x:%04x at %s (serial '%s') %s: probing", df_usb_kind_name(info->kind),
               info->vid, info->pid, info->port_path, info->serial,
               w->scanning ? "found by a scan" : "arrived (hotplug)");
  pr = calloc(1, sizeof(*pr));
  if (pr == NULL) {
    df_usb_forget(w->usb, info);
    return;
  }
  pr->w = w;
  pr->info = *info;
  w->refs++;
  rc = df_device_probe_usb(w->loop, w->usb, info, w->keys, DF_WAIT_USB_PROBE_MS,
                           df_wait_usb_on_probe, pr);
  if (rc != DF_OK) {
    w->refs--;
    free(pr);
    if (rc == DF_EBUSY || rc == DF_EACCES) w->open_err = rc;
    df_usb_forget(w->usb, info); /* maybe free at the next scan */
  }
}

static void
df_wait_usb_left(void *ud, const struct df_usb_device_info *info)
{
  struct df_wait_usb *w = ud;

  /* A departed device's address may be given to another one. */
  for (int i = 0; i < w->nstart; i++) {
    if (w->start[i].bus == info->bus && w->start[i].address == info->address) {
      w->start[i] = w->start[--w->nstart];
      break;
    }
  }
  for (int i = 0; i < w->nothers; i++) {
    if (w->others[i].bus == info->bus && w->others[i].address == info->address) {
      w->others[i] = w->others[--w->nothers];
      break;
    }
  }
}

static const struct df_usb_callbacks df_wait_usb_cbs = {
  .arrived = df_wait_usb_arrived,
  .left = df_wait_usb_left,
};

static void
df_wait_usb_tick(uv_timer_t *timer)
{
  struct df_wait_usb *w = timer->data;
  uint64_t now = uv_now(&w->loop->uv);

  if (w->unauthorized != NULL) {
    struct df_device *dev = w->unauthorized;
    if (w->modes & DF_DEVICE_MODE_BIT(dev->mode)) {
      w->unauthorized = NULL;
      if (!w->any) {
        df_wait_usb_finish(w, DF_OK, dev);
        return;
      }
      df_wait_usb_candidate(w, dev);
    } else if (dev->mode == DF_DEVICE_OFFLINE) {
      w->unauthorized = NULL;
      df_device_close(dev);
      df_usb_forget(w->usb, &w->unauthorized_info);
    }
  }
  /* A phone found: once settled, and no probe is under way (refs counts
   * the timer and each probe), it is the one, unless another answered. */
  if (w->found != NULL && (now >= w->deadline || (now >= w->settle_until && w->refs == 1))) {
    if (w->ncandidates > 1)
      df_wait_usb_finish(w, DF_EBUSY, NULL);
    else
      df_wait_usb_finish(w, DF_OK, w->found);
    return;
  }
  if (now >= w->deadline) {
    df_wait_usb_finish(w, w->unauthorized != NULL ? DF_EUNAUTHORIZED
                          : w->open_err != 0      ? w->open_err
                                                  : DF_ETIMEDOUT,
                       NULL);
    return;
  }
  /* Arrivals found here are probed from inside the scan (df_usb_scan
   * calls arrived directly); errors are transient: the next tick retries. */
  /* An open error counts only while it lasts: the old session's interface
   * may still be closing at the first look. */
  w->open_err = 0;
  w->scanning = true;
  df_usb_scan(w->usb);
  w->scanning = false;
  if (w->done) return;
  uv_timer_start(&w->timer, df_wait_usb_tick,
                 w->deadline - now < DF_WAIT_USB_SCAN_MS ? w->deadline - now : DF_WAIT_USB_SCAN_MS,
                 0);
}

/* A wait, its callbacks in place of the usb's own (given back at the end);
 * NULL when out of memory. */
static struct df_wait_usb *
df_wait_usb_new(struct df_loop *loop, struct df_usb *usb, const struct df_adb_keys *keys,
                unsigned modes, unsigned timeout_ms, void *userdata)
{
  struct df_wait_usb *w = calloc(1, sizeof(*w));

  if (w == NULL) return NULL;
  w->loop = loop;
  w->usb = usb;
  w->keys = keys;
  w->modes = modes;
  w->deadline = uv_now(&loop->uv) + timeout_ms;
  w->userdata = userdata;
  w->refs = 1;
  df_usb_get_callbacks(usb, &w->old_cbs, &w->old_ud);
  df_usb_set_callbacks(usb, &df_wait_usb_cbs, w);
  return w;
}

int
df_device_wait_usb(struct df_loop *loop, struct df_usb *usb, const struct df_adb_keys *keys,
                   const char *serial, unsigned modes, unsigned timeout_ms,
                   df_device_wait_cb cb, void *userdata)
{
  struct df_wait_usb *w;

  if (loop == NULL || usb == NULL || serial == NULL || modes == 0 || cb == NULL)
    return DF_EINVAL;
  w = df_wait_usb_new(loop, usb, keys, modes, timeout_ms, userdata);
  if (w == NULL) return DF_ENOMEM;
  snprintf(w->serial, sizeof(w->serial), "%s", serial);
  w->cb = cb;
  /* What is plugged in now gets a look too: the phone may be there already. */
  df_usb_forget(usb, NULL);
  uv_timer_init(&loop->uv, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, df_wait_usb_tick, 0, 0);
  return DF_OK;
}

int
df_device_wait_usb_new(struct df_loop *loop, struct df_usb *usb, const struct df_adb_keys *keys,
                       const struct df_device_usb_id *ids, int nids, unsigned modes,
                       unsigned timeout_ms, df_device_wait_new_cb cb, void *userdata)
{
  struct df_wait_usb *w;
  int rc;

  if (loop == NULL || usb == NULL || modes == 0 || cb == NULL || nids < 0 ||
      nids > DF_DEVICE_WAIT_NEW_IDS || (nids > 0 && ids == NULL))
    return DF_EINVAL;
  w = df_wait_usb_new(loop, usb, keys, modes, timeout_ms, userdata);
  if (w == NULL) return DF_ENOMEM;
  w->any = true;
  for (int i = 0; i < nids; i++) w->ids[i] = ids[i];
  w->nids = nids;
  w->new_cb = cb;
  /* What is plugged in now is noted, not probed: it answered nobody when
   * the run started, and the phone awaited is one that appears. */
  df_usb_forget(usb, NULL);
  w->baselining = true;
  rc = df_usb_scan(usb);
  w->baselining = false;
  if (rc != DF_OK) {
    df_usb_set_callbacks(usb, w->old_cbs, w->old_ud);
    free(w);
    return rc;
  }
  uv_timer_init(&loop->uv, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, df_wait_usb_tick, DF_WAIT_USB_SCAN_MS, 0);
  return DF_OK;
}
