/* Small file helpers for the unit tests that build their fixtures on disk
 * (test_archive.c, test_archive_index.c): a repeatable byte pattern, a
 * shell command (tar, zip, gzip) built like printf, and whole files
 * written and read back. */
#ifndef DF_TEST_FILE_FIXTURE_H
#define DF_TEST_FILE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* n bytes of a linear congruential sequence from seed: the same bytes
 * every run, not compressible to nothing. */
static inline void
fx_fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
  uint32_t x = seed;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (unsigned char)(x >> 16);
  }
}

/* Runs the command made from fmt through system(); its status. */
static inline int __attribute__((format(printf, 1, 2)))
fx_sh(const char *fmt, ...)
{
  char cmd[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  return system(cmd);
}

/* 0, or -1 if path could not be written whole. */
static inline int
fx_write_file(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  if (len > 0 && fwrite(data, 1, len, f) != len) {
    fclose(f);
    return -1;
  }
  return fclose(f) == 0 ? 0 : -1;
}

/* The whole file in a malloc'd buffer the caller frees (one spare byte at
 * the end), its size in *len; NULL if it cannot be read. */
static inline unsigned char *
fx_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  long n;

  *len = 0;
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

#endif
