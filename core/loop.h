/* The project's own wrapper of one uv_loop_t: all device I/O of a process runs
 * on it, on one thread. Other threads never touch it; they hand work over with
 * df_loop_schedule (a mutex-guarded queue and one uv_async_t). */
#ifndef DF_CORE_LOOP_H
#define DF_CORE_LOOP_H

#include <stdbool.h>
#include <uv.h>

typedef void (*df_loop_task_fn)(void *data);

struct df_loop_task;

struct df_loop {
  uv_loop_t uv;
  uv_async_t wakeup;       /* fires df_loop_schedule'd tasks on the loop */
  uv_mutex_t queue_lock;
  struct df_loop_task *queue_head;
  struct df_loop_task *queue_tail;
  bool initialized;
  bool closing;
};

int
df_loop_init(struct df_loop *loop);

/* Runs until nothing is active or df_loop_stop. Returns a df error or 0. */
int
df_loop_run(struct df_loop *loop);

/* Runs one iteration without blocking (for tests that poll). */
void
df_loop_run_nowait(struct df_loop *loop);

void
df_loop_stop(struct df_loop *loop);

/* Thread-safe: runs fn(data) on the loop thread soon. Returns DF_ENOMEM, or
 * DF_ECANCELED when the loop is closing; on an error fn is never called. */
int
df_loop_schedule(struct df_loop *loop, df_loop_task_fn fn, void *data);

/* Closes every handle still open, spins until uv_loop_close stops answering
 * UV_EBUSY, and logs the type of any handle that was still open (a leak).
 * Returns the number of handles that had to be closed here. */
int
df_loop_close(struct df_loop *loop);

#endif
