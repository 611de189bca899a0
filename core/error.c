/* The error table: names, messages and translation from libuv and errno. */
#include "core/error.h"

#include <errno.h>
#include <uv.h>

const char *
df_error_name(int err)
{
  switch (err) {
  case DF_OK: return "OK";
#define DF_ERROR_NAME(name, msg) case DF_E##name: return "E" #name;
  DF_ERROR_MAP(DF_ERROR_NAME)
#undef DF_ERROR_NAME
  default: return "UNKNOWN";
  }
}

const char *
df_strerror(int err)
{
  switch (err) {
  case DF_OK: return "success";
#define DF_ERROR_MSG(name, msg) case DF_E##name: return msg;
  DF_ERROR_MAP(DF_ERROR_MSG)
#undef DF_ERROR_MSG
  default:
    if (err < 0 && err > DF_ERROR_FIRST_) return uv_strerror(err);
    return "unknown error";
  }
}

int
df_error_from_errno(int errnum)
{
  switch (errnum) {
  case 0: return DF_OK;
  case ENOMEM: return DF_ENOMEM;
  case ENOENT: case ENOTDIR: return DF_ENOENT;
  case EACCES: return DF_EACCES;
  case EPERM: return DF_EPERM;
  case EEXIST: return DF_EEXIST;
  case ENOSPC: case EDQUOT: return DF_ENOSPC;
  case ETIMEDOUT: return DF_ETIMEDOUT;
  case ECONNREFUSED: return DF_ECONNREFUSED;
  case ECONNRESET: case EPIPE: return DF_ECONNRESET;
  case EBUSY: return DF_EBUSY;
  case ENODEV: case ENXIO: return DF_ENODEV;
  case EINVAL: return DF_EINVAL;
  case ECANCELED: return DF_ECANCELED;
  case EFBIG: return DF_ETOOBIG;
  case ENOTSUP: return DF_EUNSUPPORTED;
  default: return DF_EIO;
  }
}

int
df_error_from_uv(int uv_err)
{
  if (uv_err >= 0) return DF_OK;
  if (uv_err == UV_EOF) return DF_EEOF;
  if (uv_err == UV_ECANCELED) return DF_ECANCELED;
  if (uv_err == UV_EAI_NONAME) return DF_ENOENT;
  return df_error_from_errno(-uv_err);
}
