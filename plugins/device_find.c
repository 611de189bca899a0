/* Probing many endpoints at once, and waiting for a phone to come back. */
#include "plugins/device_find.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

struct df_find {
  struct df_device_list *list;
  int pending;
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

static void
df_find_on_probe(void *userdata, int status, struct df_device *dev)
{
  struct df_find_probe *fp = userdata;
  struct df_find *find = fp->find;
  struct df_device_list *list = find->list;

  if (status == DF_OK) {
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

int
df_device_find(struct df_loop *loop, const struct df_endpoint *eps, int neps,
               const struct df_adb_keys *keys, unsigned timeout_ms,
               df_device_find_cb cb, void *userdata)
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
  int rc = df_device_find(w->loop, w->eps, w->neps, w->keys, 2000, df_wait_on_list, w);

  if (rc != DF_OK) {
    w->done = true;
    w->cb(w->userdata, rc, NULL);
    uv_close((uv_handle_t *)&w->timer, df_wait_free);
  }
}

int
df_device_wait(struct df_loop *loop, const struct df_endpoint *eps, int neps,
               const struct df_adb_keys *keys, const char *serial, unsigned modes,
               unsigned timeout_ms, df_device_wait_cb cb, void *userdata)
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
  w->interval_ms = 250;
  w->deadline = uv_now(&loop->uv) + timeout_ms;
  w->cb = cb;
  w->userdata = userdata;
  uv_timer_init(&loop->uv, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, df_wait_round, 0, 0);
  return DF_OK;
}
