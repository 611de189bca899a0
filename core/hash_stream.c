/* df_hash_stream: chunks pushed on the loop thread, hashed in order on the
 * libuv thread pool behind a bounded queue.
 *
 * Only the loop thread touches the queue. At most one work request is in
 * flight; it owns the batch of chunks it was handed (the whole pending list
 * at the time), so no lock is needed: uv_queue_work and its after-callback
 * are the hand-over points. While one batch is hashed the next accumulates,
 * so hashing and sending overlap. */
#include "core/hash.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define DF_HASH_STREAM_DEFAULT_MAX (8u << 20)

struct df_hash_chunk {
  struct df_hash_chunk *next;
  size_t len;
  unsigned char bytes[];
};

struct df_hash_stream {
  struct df_loop *loop;
  const struct df_hash_stream_callbacks *cbs;
  void *data;
  struct df_hash *hash;
  size_t max_queued;
  size_t queued;             /* pending plus in-flight bytes */
  uint64_t total;
  struct df_hash_chunk *pending_head;
  struct df_hash_chunk *pending_tail;
  /* Owned by the work request while busy. */
  uv_work_t work;
  struct df_hash_chunk *batch;
  size_t batch_bytes;
  bool batch_final;
  int final_status;
  char hex[DF_HASH_HEX_MAX];
  /* Loop-thread state. */
  bool busy;
  bool finishing;
  bool aborted;
  bool must_wait;            /* a push returned 1 and on_drain is owed */
  int kick_error;            /* uv_queue_work failed: reported by on_done */
};

static void
df_hash_chunks_free(struct df_hash_chunk *c)
{
  while (c != NULL) {
    struct df_hash_chunk *next = c->next;
    free(c);
    c = next;
  }
}

static void
df_hash_stream_destroy(struct df_hash_stream *s)
{
  df_hash_chunks_free(s->pending_head);
  df_hash_chunks_free(s->batch);
  df_hash_free(s->hash);
  free(s);
}

static void
df_hash_stream_work(uv_work_t *work)
{
  struct df_hash_stream *s = work->data;

  for (struct df_hash_chunk *c = s->batch; c != NULL; c = c->next) {
    df_hash_update(s->hash, c->bytes, c->len);
  }
  if (s->batch_final) s->final_status = df_hash_final_hex(s->hash, s->hex, sizeof(s->hex));
}

static void df_hash_stream_after(uv_work_t *work, int uv_status);

/* Hands the pending chunks (and, once finishing, the final step) to the
 * thread pool unless a batch is already there. */
static void
df_hash_stream_kick(struct df_hash_stream *s)
{
  int rc;

  if (s->busy || s->aborted || s->kick_error != 0) return;
  if (s->pending_head == NULL && !s->finishing) return;
  s->batch = s->pending_head;
  s->batch_bytes = 0;
  for (struct df_hash_chunk *c = s->batch; c != NULL; c = c->next) s->batch_bytes += c->len;
  s->pending_head = s->pending_tail = NULL;
  s->batch_final = s->finishing;
  s->busy = true;
  rc = uv_queue_work(&s->loop->uv, &s->work, df_hash_stream_work, df_hash_stream_after);
  if (rc != 0) {
    /* Cannot happen with valid arguments; keep the chunks so they are freed
     * and report the failure when the stream is finished. */
    s->busy = false;
    s->pending_head = s->batch;
    s->pending_tail = NULL;
    s->batch = NULL;
    s->kick_error = df_error_from_uv(rc);
  }
}

static void
df_hash_stream_report(struct df_hash_stream *s, int status)
{
  const struct df_hash_stream_callbacks *cbs = s->cbs;
  void *data = s->data;
  char hex[DF_HASH_HEX_MAX];

  memcpy(hex, s->hex, sizeof(hex));
  /* Freed before the callback: the stream is dead for the caller already. */
  df_hash_stream_destroy(s);
  if (cbs->on_done != NULL) cbs->on_done(data, status, status == 0 ? hex : NULL);
}

static void
df_hash_stream_after(uv_work_t *work, int uv_status)
{
  struct df_hash_stream *s = work->data;

  df_hash_chunks_free(s->batch);
  s->batch = NULL;
  s->queued -= s->batch_bytes;
  s->batch_bytes = 0;
  s->busy = false;
  if (s->aborted) {
    df_hash_stream_destroy(s);
    return;
  }
  if (s->batch_final) {
    df_hash_stream_report(s, uv_status != 0 ? df_error_from_uv(uv_status) : s->final_status);
    return;
  }
  df_hash_stream_kick(s);
  if (s->kick_error != 0 && s->finishing) {
    df_hash_stream_report(s, s->kick_error);
    return;
  }
  if (s->must_wait && s->queued <= s->max_queued / 2) {
    s->must_wait = false;
    /* Last: on_drain may push, finish or abort (which may free s). */
    if (s->cbs->on_drain != NULL) s->cbs->on_drain(s->data);
  }
}

int
df_hash_stream_new(struct df_loop *loop, enum df_hash_algo algo, size_t max_queued,
                   const struct df_hash_stream_callbacks *cbs, void *data,
                   struct df_hash_stream **out)
{
  struct df_hash_stream *s;
  int rc;

  if (loop == NULL || cbs == NULL || out == NULL) return DF_EINVAL;
  s = calloc(1, sizeof(*s));
  if (s == NULL) return DF_ENOMEM;
  rc = df_hash_new(algo, &s->hash);
  if (rc != 0) {
    free(s);
    return rc;
  }
  s->loop = loop;
  s->cbs = cbs;
  s->data = data;
  s->max_queued = max_queued != 0 ? max_queued : DF_HASH_STREAM_DEFAULT_MAX;
  s->work.data = s;
  *out = s;
  return DF_OK;
}

int
df_hash_stream_push(struct df_hash_stream *s, const void *chunk, size_t len)
{
  struct df_hash_chunk *c;

  if (s == NULL || s->finishing || s->aborted || (chunk == NULL && len > 0)) return DF_EINVAL;
  if (s->must_wait) return DF_EBUSY;
  if (len == 0) return 0;
  c = malloc(sizeof(*c) + len);
  if (c == NULL) return DF_ENOMEM;
  c->next = NULL;
  c->len = len;
  memcpy(c->bytes, chunk, len);
  if (s->pending_tail != NULL) {
    s->pending_tail->next = c;
  } else {
    s->pending_head = c;
  }
  s->pending_tail = c;
  s->queued += len;
  s->total += len;
  df_hash_stream_kick(s);
  if (s->queued >= s->max_queued) {
    s->must_wait = true;
    return 1;
  }
  return 0;
}

size_t
df_hash_stream_queued(const struct df_hash_stream *s)
{
  return s->queued;
}

uint64_t
df_hash_stream_total(const struct df_hash_stream *s)
{
  return s->total;
}

int
df_hash_stream_finish(struct df_hash_stream *s)
{
  if (s == NULL || s->finishing || s->aborted) return DF_EINVAL;
  s->finishing = true;
  s->must_wait = false;
  df_hash_stream_kick(s);
  if (s->kick_error != 0 && !s->busy) {
    /* Nothing will ever call back: report through the loop is impossible
     * without a request, so fail the call itself and free the stream. */
    int rc = s->kick_error;
    df_hash_stream_destroy(s);
    return rc;
  }
  return DF_OK;
}

void
df_hash_stream_abort(struct df_hash_stream *s)
{
  if (s == NULL) return;
  s->aborted = true;
  df_hash_chunks_free(s->pending_head);
  s->pending_head = s->pending_tail = NULL;
  if (!s->busy) df_hash_stream_destroy(s);
}
