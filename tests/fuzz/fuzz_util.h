/* Shared by the fuzz harnesses: libFuzzer's entry points, a check that
 * aborts (so libFuzzer keeps the input as a crash), a small PRNG that cuts an
 * input into random pieces, an event log to compare two runs of a decoder,
 * and a private temporary folder for parsers that read files. Everything is
 * static: each harness is one translation unit. */
#ifndef DF_FUZZ_UTIL_H
#define DF_FUZZ_UTIL_H

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the code under test broke: print why and abort, which libFuzzer
 * reports as a crash and saves the input for. */
#define DF_FUZZ_CHECK(cond, ...)                                               \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* ---- random splits ---- */

struct df_fuzz_rng {
  uint64_t s;
};

/* Seeded from the input itself, so a crash reproduces from its file. */
static inline void
df_fuzz_rng_seed(struct df_fuzz_rng *r, const uint8_t *data, size_t size)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ull;
  r->s = h | 1;
}

static inline uint64_t
df_fuzz_rng_next(struct df_fuzz_rng *r)
{
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

/* The size of the next piece, 1..left: often one byte, often a few, now and
 * then a large run (what a socket hands over). */
static inline size_t
df_fuzz_piece(struct df_fuzz_rng *r, size_t left)
{
  uint64_t v = df_fuzz_rng_next(r);
  size_t n;

  switch (v % 4) {
  case 0: n = 1; break;
  case 1: n = 1 + (size_t)(v >> 8) % 8; break;
  case 2: n = 1 + (size_t)(v >> 8) % 64; break;
  default: n = 1 + (size_t)(v >> 8) % 4096; break;
  }
  return n < left ? n : left;
}

/* ---- event logs ---- */

struct df_fuzz_log {
  uint8_t *p;
  size_t len, cap;
};

static inline void
df_fuzz_log_put(struct df_fuzz_log *l, const void *data, size_t len)
{
  if (len == 0) return;
  if (l->len + len > l->cap) {
    size_t cap = l->cap == 0 ? 256 : l->cap;
    while (cap < l->len + len) cap *= 2;
    l->p = realloc(l->p, cap);
    if (l->p == NULL) abort();
    l->cap = cap;
  }
  memcpy(l->p + l->len, data, len);
  l->len += len;
}

static inline void
df_fuzz_log_u64(struct df_fuzz_log *l, uint64_t v)
{
  df_fuzz_log_put(l, &v, sizeof(v));
}

static inline void
df_fuzz_log_free(struct df_fuzz_log *l)
{
  free(l->p);
  memset(l, 0, sizeof(*l));
}

static inline bool
df_fuzz_log_equal(const struct df_fuzz_log *a, const struct df_fuzz_log *b)
{
  return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* ---- files ---- */

static char df_fuzz_dir[256];

static inline int
df_fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

/* Removes path and everything under it (never follows symlinks). */
static inline void
df_fuzz_rm_rf(const char *path)
{
  nftw(path, df_fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void
df_fuzz_dir_remove(void)
{
  if (df_fuzz_dir[0] != '\0') df_fuzz_rm_rf(df_fuzz_dir);
}

/* A folder of this process's own, removed at exit. */
static inline const char *
df_fuzz_tmpdir(void)
{
  if (df_fuzz_dir[0] == '\0') {
    /* Memory-backed when there is one: ext4 flushes a file truncated and
     * rewritten at close, which made a harness wait on the disk. */
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(df_fuzz_dir, sizeof(df_fuzz_dir), "%s/df-fuzz-XXXXXX", base);
    if (mkdtemp(df_fuzz_dir) == NULL) {
      perror("mkdtemp");
      abort();
    }
    atexit(df_fuzz_dir_remove);
  }
  return df_fuzz_dir;
}

static inline void
df_fuzz_write_file(const char *path, const void *data, size_t size)
{
  FILE *f;

  unlink(path); /* a new file, not a truncated one (see df_fuzz_tmpdir) */
  f = fopen(path, "wb");

  if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(path);
    abort();
  }
}

#endif
