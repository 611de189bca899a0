/* df_hash_file: a whole-file hash run on the libuv thread pool, reported on
 * the loop thread. */
#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct df_hash_file_req {
  uv_work_t work;
  char *path;
  enum df_hash_algo algo;
  df_hash_file_cb cb;
  void *data;
  int status;
  char hex[DF_HASH_HEX_MAX];
};

static void
df_hash_file_work(uv_work_t *work)
{
  struct df_hash_file_req *req = work->data;

  req->status = df_hash_file_sync(req->path, req->algo, req->hex, sizeof(req->hex));
}

static void
df_hash_file_after(uv_work_t *work, int uv_status)
{
  struct df_hash_file_req *req = work->data;
  int status = uv_status != 0 ? df_error_from_uv(uv_status) : req->status;

  req->cb(req->data, status, status == 0 ? req->hex : NULL);
  free(req->path);
  free(req);
}

int
df_hash_file(struct df_loop *loop, const char *path, enum df_hash_algo algo,
             df_hash_file_cb cb, void *data)
{
  struct df_hash_file_req *req;
  int rc;

  if (loop == NULL || path == NULL || cb == NULL || df_hash_hex_len(algo) == 0) {
    return DF_EINVAL;
  }
  req = calloc(1, sizeof(*req));
  if (req == NULL) return DF_ENOMEM;
  req->path = strdup(path);
  if (req->path == NULL) {
    free(req);
    return DF_ENOMEM;
  }
  req->algo = algo;
  req->cb = cb;
  req->data = data;
  req->work.data = req;
  rc = uv_queue_work(&loop->uv, &req->work, df_hash_file_work, df_hash_file_after);
  if (rc != 0) {
    free(req->path);
    free(req);
    return df_error_from_uv(rc);
  }
  return DF_OK;
}
