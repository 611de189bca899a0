/* A df_sparse_sink that writes a decoded image into a file, for the unit
 * tests that check what a phone would hold after a flash
 * (test_fastboot_image.c, test_fastboot_archive.c): pass &file_sink and a
 * struct out_file to df_sparse_decoder_init. Skipped ranges stay as the
 * file holds them. */
#ifndef DF_TEST_FILE_SINK_H
#define DF_TEST_FILE_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "core/error.h"
#include "core/sparse.h"

struct out_file {
  int fd;
};

static int
sink_write(void *ctx, uint64_t off, const void *data, size_t len)
{
  struct out_file *o = ctx;
  return pwrite(o->fd, data, len, (off_t)off) == (ssize_t)len ? 0 : DF_EIO;
}

static int
sink_fill(void *ctx, uint64_t off, uint64_t len, uint32_t pattern)
{
  struct out_file *o = ctx;
  uint32_t block[1024];
  for (int i = 0; i < 1024; i++) block[i] = pattern;
  while (len > 0) {
    size_t n = len < sizeof(block) ? (size_t)len : sizeof(block);
    if (pwrite(o->fd, block, n, (off_t)off) != (ssize_t)n) return DF_EIO;
    off += n;
    len -= n;
  }
  return 0;
}

static int
sink_skip(void *ctx, uint64_t off, uint64_t len)
{
  (void)ctx;
  (void)off;
  (void)len;
  return 0;
}

static const struct df_sparse_sink file_sink = {NULL, sink_write, sink_fill, sink_skip};

#endif
