/* CRC-32 through libdeflate when it can be loaded, zlib otherwise. dlopen
 * rather than a link: libdeflate is optional (a speed-up), and a missing
 * one must not stop droidfix from starting. */
#include "core/crc32.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>

#include <zlib.h>

typedef uint32_t (*df_crc32_fn)(uint32_t crc, const void *buf, size_t len);

static pthread_once_t df_crc32_once = PTHREAD_ONCE_INIT;
static df_crc32_fn df_crc32_deflate;

static void
df_crc32_load(void)
{
  void *h = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);

  if (h == NULL) return;
  /* Through a void ** as POSIX's dlsym page does. */
  *(void **)&df_crc32_deflate = dlsym(h, "libdeflate_crc32");
  if (df_crc32_deflate == NULL) dlclose(h);
  /* otherwise kept open for the life of the process */
}

uint32_t
df_crc32(uint32_t crc, const void *buf, size_t len)
{
  const unsigned char *p = buf;

  pthread_once(&df_crc32_once, df_crc32_load);
  if (df_crc32_deflate != NULL) return df_crc32_deflate(crc, buf, len);
  while (len > 0) {
    uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
    crc = (uint32_t)crc32((uLong)crc, p, n);
    p += n;
    len -= n;
  }
  return crc;
}

const char *
df_crc32_impl(void)
{
  pthread_once(&df_crc32_once, df_crc32_load);
  return df_crc32_deflate != NULL ? "libdeflate" : "zlib";
}
