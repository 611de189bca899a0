/* The event loop wrapper: init, run, cross-thread scheduling, and a close that
 * names what was left open. */
#include "core/loop.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/log.h"

struct df_loop_task {
  df_loop_task_fn fn;
  void *data;
  struct df_loop_task *next;
};

static void
df_loop_on_wakeup(uv_async_t *async)
{
  struct df_loop *loop = async->data;
  struct df_loop_task *task;

  uv_mutex_lock(&loop->queue_lock);
  task = loop->queue_head;
  loop->queue_head = loop->queue_tail = NULL;
  uv_mutex_unlock(&loop->queue_lock);

  while (task != NULL) {
    struct df_loop_task *next = task->next;
    task->fn(task->data);
    free(task);
    task = next;
  }
}

int
df_loop_init(struct df_loop *loop)
{
  int rc;

  loop->queue_head = loop->queue_tail = NULL;
  loop->closing = false;
  rc = uv_loop_init(&loop->uv);
  if (rc != 0) return df_error_from_uv(rc);
  rc = uv_mutex_init(&loop->queue_lock);
  if (rc != 0) {
    uv_loop_close(&loop->uv);
    return df_error_from_uv(rc);
  }
  rc = uv_async_init(&loop->uv, &loop->wakeup, df_loop_on_wakeup);
  if (rc != 0) {
    uv_mutex_destroy(&loop->queue_lock);
    uv_loop_close(&loop->uv);
    return df_error_from_uv(rc);
  }
  loop->wakeup.data = loop;
  /* The wakeup handle alone must not keep df_loop_run from returning. */
  uv_unref((uv_handle_t *)&loop->wakeup);
  loop->uv.data = loop;
  loop->initialized = true;
  return DF_OK;
}

int
df_loop_run(struct df_loop *loop)
{
  return df_error_from_uv(uv_run(&loop->uv, UV_RUN_DEFAULT));
}

void
df_loop_run_nowait(struct df_loop *loop)
{
  uv_run(&loop->uv, UV_RUN_NOWAIT);
}

void
df_loop_stop(struct df_loop *loop)
{
  uv_stop(&loop->uv);
}

int
df_loop_schedule(struct df_loop *loop, df_loop_task_fn fn, void *data)
{
  struct df_loop_task *task;

  task = malloc(sizeof(*task));
  if (task == NULL) return DF_ENOMEM;
  task->fn = fn;
  task->data = data;
  task->next = NULL;

  uv_mutex_lock(&loop->queue_lock);
  if (loop->closing) {
    uv_mutex_unlock(&loop->queue_lock);
    free(task);
    return DF_ECANCELED;
  }
  if (loop->queue_tail != NULL)
    loop->queue_tail->next = task;
  else
    loop->queue_head = task;
  loop->queue_tail = task;
  uv_mutex_unlock(&loop->queue_lock);

  uv_async_send(&loop->wakeup);
  return DF_OK;
}

static void
df_loop_close_leftover(uv_handle_t *handle, void *arg)
{
  int *count = arg;

  if (uv_is_closing(handle)) return;
  if (handle != (uv_handle_t *)&((struct df_loop *)handle->loop->data)->wakeup) {
    df_log_debug("loop: closing a %s handle left open", uv_handle_type_name(handle->type));
    (*count)++;
  }
  uv_close(handle, NULL);
}

int
df_loop_close(struct df_loop *loop)
{
  int leftover = 0;

  if (!loop->initialized) return 0;
  uv_mutex_lock(&loop->queue_lock);
  loop->closing = true;
  uv_mutex_unlock(&loop->queue_lock);
  df_loop_on_wakeup(&loop->wakeup); /* run what was already queued */

  uv_walk(&loop->uv, df_loop_close_leftover, &leftover);
  while (uv_loop_close(&loop->uv) == UV_EBUSY) {
    uv_run(&loop->uv, UV_RUN_ONCE);
  }
  uv_mutex_destroy(&loop->queue_lock);
  loop->initialized = false;
  return leftover;
}
