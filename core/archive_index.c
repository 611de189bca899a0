/* The remembered indexes of verified packages and the spans read from
 * them (core/archive_index.h). */
#include "core/archive_index.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/gzip_stream.h"

#define DF_INDEX_KEEP 4                 /* packages remembered */
#define DF_SPAN_SCRATCH (256u * 1024u)  /* where bytes before an offset go */

struct df_archive_index {
  int refs;                 /* the cache's one, and one per open span */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime, ctime;
  struct df_archive_index_entry *entries;
  size_t nentries;
  struct df_gz_point *points;
  size_t npoints;
};

struct df_archive_span {
  struct df_archive_index *idx;
  struct df_gz *g;
  uint64_t start, size;  /* of the entry in the uncompressed stream */
  uint64_t pos;          /* offset in the entry */
  bool positioned;       /* g is at start + pos */
  int err;
  char msg[200];
  unsigned char *scratch;
};

static pthread_mutex_t df_index_lock = PTHREAD_MUTEX_INITIALIZER;
static struct df_archive_index *df_index_cache[DF_INDEX_KEEP];

static void
df_index_unref_locked(struct df_archive_index *x)
{
  if (x == NULL || --x->refs > 0) return;
  for (size_t i = 0; i < x->nentries; i++) free(x->entries[i].path);
  free(x->entries);
  df_gz_points_free(x->points, x->npoints);
  free(x);
}

size_t
df_archive_index_norm(const char *path, char *out, size_t len)
{
  size_t n;

  for (;;) {
    if (path[0] == '/') path++;
    else if (path[0] == '.' && path[1] == '/') path += 2;
    else break;
  }
  n = strlen(path);
  while (n > 0 && path[n - 1] == '/') n--;
  if (n + 1 > len) return 0;
  memcpy(out, path, n);
  out[n] = '\0';
  return n;
}

static bool
df_index_same_file(const struct df_archive_index *x, const struct stat *st)
{
  return x->dev == st->st_dev && x->ino == st->st_ino && x->size == st->st_size &&
         x->mtime.tv_sec == st->st_mtim.tv_sec && x->mtime.tv_nsec == st->st_mtim.tv_nsec &&
         x->ctime.tv_sec == st->st_ctim.tv_sec && x->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

int
df_archive_index_publish(const struct stat *st, struct df_archive_index_entry *entries,
                         size_t nentries, struct df_gz_point *points, size_t npoints)
{
  struct df_archive_index *x = calloc(1, sizeof(*x));
  size_t slot;

  if (x == NULL) {
    for (size_t i = 0; i < nentries; i++) free(entries[i].path);
    free(entries);
    df_gz_points_free(points, npoints);
    return DF_ENOMEM;
  }
  x->refs = 1;
  x->dev = st->st_dev;
  x->ino = st->st_ino;
  x->size = st->st_size;
  x->mtime = st->st_mtim;
  x->ctime = st->st_ctim;
  x->entries = entries;
  x->nentries = nentries;
  x->points = points;
  x->npoints = npoints;
  pthread_mutex_lock(&df_index_lock);
  /* the same file walked again replaces its index; else a free slot; else
   * the oldest goes */
  slot = DF_INDEX_KEEP;
  for (size_t i = 0; i < DF_INDEX_KEEP && slot == DF_INDEX_KEEP; i++) {
    if (df_index_cache[i] != NULL && df_index_cache[i]->dev == x->dev &&
        df_index_cache[i]->ino == x->ino)
      slot = i;
  }
  for (size_t i = 0; i < DF_INDEX_KEEP && slot == DF_INDEX_KEEP; i++) {
    if (df_index_cache[i] == NULL) slot = i;
  }
  if (slot == DF_INDEX_KEEP) {
    df_index_unref_locked(df_index_cache[0]);
    memmove(&df_index_cache[0], &df_index_cache[1],
            (DF_INDEX_KEEP - 1) * sizeof(df_index_cache[0]));
    df_index_cache[DF_INDEX_KEEP - 1] = NULL;
    slot = DF_INDEX_KEEP - 1;
  }
  df_index_unref_locked(df_index_cache[slot]);
  df_index_cache[slot] = x;
  pthread_mutex_unlock(&df_index_lock);
  return DF_OK;
}

/* The index for this file as it is now (a reference), or NULL. */
static struct df_archive_index *
df_index_find(const struct stat *st)
{
  struct df_archive_index *x = NULL;

  pthread_mutex_lock(&df_index_lock);
  for (size_t i = 0; i < DF_INDEX_KEEP && x == NULL; i++) {
    if (df_index_cache[i] != NULL && df_index_same_file(df_index_cache[i], st)) {
      x = df_index_cache[i];
      x->refs++;
    }
  }
  pthread_mutex_unlock(&df_index_lock);
  return x;
}

static void
df_index_unref(struct df_archive_index *x)
{
  pthread_mutex_lock(&df_index_lock);
  df_index_unref_locked(x);
  pthread_mutex_unlock(&df_index_lock);
}

int
df_archive_span_open(const char *path, const char *entry_path, struct df_archive_span **out,
                     uint64_t *size)
{
  struct df_archive_index *x;
  const struct df_archive_index_entry *e = NULL;
  struct df_archive_span *s;
  struct stat st;
  char want[4096];
  int fd, rc;

  if (path == NULL || entry_path == NULL || out == NULL || size == NULL) return DF_EINVAL;
  if (df_archive_index_norm(entry_path, want, sizeof(want)) == 0) return DF_ENOENT;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return df_error_from_errno(errno);
  /* the identity of the file this descriptor reads, not of the path */
  if (fstat(fd, &st) != 0 || (x = df_index_find(&st)) == NULL) {
    close(fd);
    return DF_ENOENT;
  }
  for (size_t i = 0; i < x->nentries && e == NULL; i++) {
    if (strcmp(x->entries[i].path, want) == 0) e = &x->entries[i];
  }
  if (e == NULL || !e->usable) {
    close(fd);
    df_index_unref(x);
    return DF_ENOENT;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL || (s->scratch = malloc(DF_SPAN_SCRATCH)) == NULL) {
    free(s);
    close(fd);
    df_index_unref(x);
    return DF_ENOMEM;
  }
  s->idx = x;
  s->start = e->data_off;
  s->size = e->size;
  rc = df_gz_new(fd, &s->g); /* takes fd */
  if (rc != DF_OK) {
    df_archive_span_close(s);
    return rc;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  *size = s->size;
  *out = s;
  return DF_OK;
}

static int
df_span_fail(struct df_archive_span *s, int err, const char *what)
{
  s->err = err;
  s->positioned = false;
  snprintf(s->msg, sizeof(s->msg), "%s", what);
  return err;
}

/* The last access point at or before stream offset at. */
static const struct df_gz_point *
df_span_point(const struct df_archive_span *s, uint64_t at)
{
  const struct df_gz_point *p = NULL;
  size_t lo = 0, hi = s->idx->npoints;

  while (lo < hi) { /* first point with out > at */
    size_t mid = lo + (hi - lo) / 2;
    if (s->idx->points[mid].out <= at) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0) p = &s->idx->points[lo - 1];
  return p;
}

/* Brings the stream to start + pos. */
static int
df_span_position(struct df_archive_span *s)
{
  uint64_t target = s->start + s->pos;
  uint64_t cur = df_gz_pos(s->g);
  const struct df_gz_point *p = df_span_point(s, target);
  int rc;

  if (!s->positioned || cur > target || (p != NULL && p->out > cur)) {
    if (p == NULL) return df_span_fail(s, DF_ECORRUPT, "the package's index has no access point");
    rc = df_gz_resume(s->g, p);
    if (rc != DF_OK) return df_span_fail(s, rc, "the package cannot be read from its index");
    cur = p->out;
  }
  s->positioned = true;
  while (cur < target) {
    uint64_t gap = target - cur;
    ssize_t n = df_gz_read(s->g, s->scratch, gap < DF_SPAN_SCRATCH ? (size_t)gap : DF_SPAN_SCRATCH);
    if (n < 0) return df_span_fail(s, (int)n, df_gz_error(s->g));
    if (n == 0) return df_span_fail(s, DF_ECORRUPT, "the package ends before the entry does");
    cur += (uint64_t)n;
  }
  return DF_OK;
}

ssize_t
df_archive_span_read(struct df_archive_span *s, void *buf, size_t len)
{
  ssize_t n;
  int rc;

  if (s->err != 0) return s->err;
  if (s->pos >= s->size || len == 0) return 0;
  if (len > s->size - s->pos) len = (size_t)(s->size - s->pos);
  if (!s->positioned || df_gz_pos(s->g) != s->start + s->pos) {
    rc = df_span_position(s);
    if (rc != DF_OK) return rc;
  }
  n = df_gz_read(s->g, buf, len);
  if (n < 0) return df_span_fail(s, (int)n, df_gz_error(s->g));
  if (n == 0) return df_span_fail(s, DF_ECORRUPT, "the package ends before the entry does");
  s->pos += (uint64_t)n;
  return n;
}

int
df_archive_span_seek(struct df_archive_span *s, uint64_t off)
{
  uint64_t cur;
  const struct df_gz_point *p;

  if (off > s->size) return DF_EINVAL;
  if (s->err != 0) return s->err;
  s->pos = off;
  /* forward within reach of the stream as it is: inflated on the next
   * read; a point past the stream's position, or going back: resumed */
  cur = df_gz_pos(s->g);
  p = df_span_point(s, s->start + off);
  if (s->positioned && cur <= s->start + off && (p == NULL || p->out <= cur)) return DF_OK;
  s->positioned = false;
  return DF_OK;
}

uint64_t
df_archive_span_tell(const struct df_archive_span *s)
{
  return s->pos;
}

const char *
df_archive_span_error(const struct df_archive_span *s)
{
  return s->msg;
}

void
df_archive_span_close(struct df_archive_span *s)
{
  if (s == NULL) return;
  df_gz_free(s->g);
  if (s->idx != NULL) df_index_unref(s->idx);
  free(s->scratch);
  free(s);
}
