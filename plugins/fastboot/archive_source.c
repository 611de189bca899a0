/* An archive entry as an image reader: from the index of the walk that
 * verified the package in this process when there is one (any offset, by
 * the nearest access point), otherwise forward only, reopening the archive
 * to go back. */
#include "plugins/fastboot/archive_source.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/archive.h"
#include "core/archive_index.h"
#include "core/error.h"

#define DF_ENTRY_HEAD 4096u          /* kept, so the format checks never rewind */
#define DF_ENTRY_SCRATCH (64u * 1024u) /* where skipped bytes go */

struct df_entry_stream {
  char *archive_path;
  char *entry_path;
  struct df_archive *a;
  uint64_t size;      /* of the entry, from its header */
  uint64_t pos;       /* bytes of the entry read from a so far */
  uint8_t head[DF_ENTRY_HEAD];
  size_t head_len;
  uint8_t *scratch;
  unsigned opens;     /* how many times the archive was opened (for tests) */
  char why[256];
};

static const char *
df_entry_strip(const char *p)
{
  for (;;) {
    if (p[0] == '/') p++;
    else if (p[0] == '.' && p[1] == '/') p += 2;
    else return p;
  }
}

/* Same entry path, leading "./" or "/" and a trailing "/" aside. */
static bool
df_entry_same(const char *stored, const char *want)
{
  size_t a, b;

  stored = df_entry_strip(stored);
  want = df_entry_strip(want);
  a = strlen(stored);
  b = strlen(want);
  while (a > 0 && stored[a - 1] == '/') a--;
  while (b > 0 && want[b - 1] == '/') b--;
  return a == b && memcmp(stored, want, a) == 0;
}

static void
df_entry_why(struct df_entry_stream *s, const char *fmt, const char *arg)
{
  snprintf(s->why, sizeof(s->why), fmt, arg);
}

/* Opens the archive and reads up to the entry's data, then its head. */
static int
df_entry_open(struct df_entry_stream *s)
{
  struct df_archive_entry e;
  const char *want = df_entry_strip(s->entry_path);
  int rc;

  df_archive_close(s->a);
  s->a = NULL;
  s->pos = 0;
  s->opens++;
  rc = df_archive_open(s->archive_path, &s->a);
  if (rc != DF_OK) {
    df_entry_why(s, "cannot open the archive %s", s->archive_path);
    return rc;
  }
  for (;;) {
    rc = df_archive_next(s->a, &e);
    if (rc < 0) {
      snprintf(s->why, sizeof(s->why), "the archive is damaged: %s",
               df_archive_error_message(s->a));
      return rc;
    }
    if (rc == 0) {
      df_entry_why(s, "the archive has no entry %s", want);
      return DF_ENOENT;
    }
    if (df_entry_same(e.path, want)) break;
  }
  if (e.type != DF_ARCHIVE_FILE) {
    df_entry_why(s, "the entry %s is not a regular file", want);
    return DF_EINVAL;
  }
  if (!e.size_known || e.size == 0) {
    df_entry_why(s, e.size_known ? "the entry %s is empty" : "the archive does not say the size of %s",
                 want);
    return DF_EINVAL;
  }
  if (s->opens > 1 && e.size != s->size) {
    df_entry_why(s, "the entry %s changed size between two reads", want);
    return DF_ECORRUPT;
  }
  s->size = e.size;
  s->head_len = s->size < DF_ENTRY_HEAD ? (size_t)s->size : DF_ENTRY_HEAD;
  while (s->pos < s->head_len) {
    ssize_t n = df_archive_read(s->a, s->head + s->pos, s->head_len - (size_t)s->pos);
    if (n <= 0) {
      snprintf(s->why, sizeof(s->why), "the archive is damaged: %s",
               n < 0 ? df_archive_error_message(s->a) : "an entry shorter than its header says");
      return n < 0 ? (int)n : DF_ECORRUPT;
    }
    s->pos += (uint64_t)n;
  }
  return DF_OK;
}

/* After the entry's last byte: its end must come now (a zip entry's CRC is
 * checked here; a tar entry longer than its header is caught). */
static int
df_entry_check_end(struct df_entry_stream *s)
{
  ssize_t n = df_archive_read(s->a, s->scratch, 1);
  if (n == 0) return DF_OK;
  snprintf(s->why, sizeof(s->why), "the archive is damaged: %s",
           n < 0 ? df_archive_error_message(s->a) : "an entry longer than its header says");
  return n < 0 ? (int)n : DF_ECORRUPT;
}

static long
df_entry_read_at(void *ctx, void *buf, size_t len, uint64_t off)
{
  struct df_entry_stream *s = ctx;
  ssize_t n;
  int rc;

  if (off >= s->size || len == 0) return 0;
  if (len > s->size - off) len = (size_t)(s->size - off);
  if (off < s->head_len) {
    size_t k = s->head_len - (size_t)off < len ? s->head_len - (size_t)off : len;
    memcpy(buf, s->head + off, k);
    return (long)k;
  }
  if (off < s->pos || s->a == NULL) {
    rc = df_entry_open(s); /* back to the start: the stream cannot seek */
    if (rc != DF_OK) return rc;
  }
  while (s->pos < off) {
    uint64_t gap = off - s->pos;
    n = df_archive_read(s->a, s->scratch, gap < DF_ENTRY_SCRATCH ? (size_t)gap : DF_ENTRY_SCRATCH);
    if (n <= 0) goto damaged;
    s->pos += (uint64_t)n;
  }
  if (len > 0x40000000u) len = 0x40000000u;
  n = df_archive_read(s->a, buf, len);
  if (n <= 0) goto damaged;
  s->pos += (uint64_t)n;
  if (s->pos == s->size) {
    rc = df_entry_check_end(s);
    if (rc != DF_OK) return rc;
  }
  return (long)n;

damaged:
  snprintf(s->why, sizeof(s->why), "the archive is damaged: %s",
           n < 0 ? df_archive_error_message(s->a) : "an entry shorter than its header says");
  return n < 0 ? (long)n : DF_ECORRUPT;
}

static void
df_entry_close(void *ctx)
{
  struct df_entry_stream *s = ctx;

  if (s == NULL) return;
  df_archive_close(s->a);
  free(s->archive_path);
  free(s->entry_path);
  free(s->scratch);
  free(s);
}

/* ---- through the index of a verified package ---- */

struct df_span_stream {
  struct df_archive_span *span;
  char *entry_path;
  char why[256];
};

static long
df_span_read_at(void *ctx, void *buf, size_t len, uint64_t off)
{
  struct df_span_stream *s = ctx;
  ssize_t n;
  int rc;

  if (df_archive_span_tell(s->span) != off) {
    rc = df_archive_span_seek(s->span, off);
    if (rc != DF_OK) return rc;
  }
  if (len > 0x40000000u) len = 0x40000000u;
  n = df_archive_span_read(s->span, buf, len);
  if (n < 0)
    snprintf(s->why, sizeof(s->why), "the archive is damaged: %s",
             df_archive_span_error(s->span));
  return (long)n;
}

static void
df_span_close(void *ctx)
{
  struct df_span_stream *s = ctx;

  if (s == NULL) return;
  df_archive_span_close(s->span);
  free(s->entry_path);
  free(s);
}

/* DF_ENOENT when the package has no index in this process (or the file
 * changed since): the caller reads it from its start. */
static int
df_image_open_span(const char *archive_path, const char *entry_path, struct df_image **out,
                   char *why, size_t why_len)
{
  struct df_span_stream *s = calloc(1, sizeof(*s));
  struct df_image_reader reader;
  uint64_t size = 0;
  int rc;

  if (s == NULL) return DF_ENOMEM;
  rc = df_archive_span_open(archive_path, entry_path, &s->span, &size);
  if (rc != DF_OK || size == 0) {
    df_span_close(s);
    return rc != DF_OK ? rc : DF_ENOENT; /* empty: the slow path says so */
  }
  s->entry_path = strdup(entry_path);
  if (s->entry_path == NULL) {
    df_span_close(s);
    return DF_ENOMEM;
  }
  reader.read_at = df_span_read_at;
  reader.close = df_span_close;
  reader.ctx = s;
  reader.size = size;
  rc = df_image_open_reader(&reader, out);
  if (rc == DF_OK) return DF_OK; /* s belongs to *out */
  if (why != NULL) {
    if (s->why[0] != '\0')
      snprintf(why, why_len, "%s", s->why);
    else if (rc == DF_ECORRUPT)
      snprintf(why, why_len, "%s is not a valid sparse image", df_entry_strip(entry_path));
    else
      snprintf(why, why_len, "%s", df_strerror(rc));
  }
  df_span_close(s);
  return rc;
}

int
df_image_open_archive_entry(const char *archive_path, const char *entry_path,
                            struct df_image **out, char *why, size_t why_len)
{
  struct df_entry_stream *s;
  struct df_image_reader reader;
  int rc;

  if (why != NULL && why_len > 0) why[0] = '\0';
  if (archive_path == NULL || entry_path == NULL || out == NULL) return DF_EINVAL;
  *out = NULL;
  rc = df_image_open_span(archive_path, entry_path, out, why, why_len);
  if (rc != DF_ENOENT) return rc;
  if (why != NULL && why_len > 0) why[0] = '\0';
  s = calloc(1, sizeof(*s));
  if (s == NULL) return DF_ENOMEM;
  s->archive_path = strdup(archive_path);
  s->entry_path = strdup(entry_path);
  s->scratch = malloc(DF_ENTRY_SCRATCH);
  if (s->archive_path == NULL || s->entry_path == NULL || s->scratch == NULL) {
    df_entry_close(s);
    return DF_ENOMEM;
  }
  *out = NULL;
  rc = df_entry_open(s);
  if (rc == DF_OK) {
    reader.read_at = df_entry_read_at;
    reader.close = df_entry_close;
    reader.ctx = s;
    reader.size = s->size;
    rc = df_image_open_reader(&reader, out);
    if (rc == DF_ECORRUPT && s->why[0] == '\0')
      df_entry_why(s, "%s is not a valid sparse image", df_entry_strip(entry_path));
  }
  /* A sparse entry was read to its end: be back at its start now, on this
   * thread, rather than on the loop when the first piece is read. */
  if (rc == DF_OK && s->pos > s->head_len) rc = df_entry_open(s);
  if (rc == DF_OK) return DF_OK; /* s belongs to *out */
  if (s->why[0] == '\0') df_entry_why(s, "%s", df_strerror(rc));
  if (why != NULL) snprintf(why, why_len, "%s", s->why);
  if (*out != NULL) {
    df_image_free(*out); /* closes s */
    *out = NULL;
    return rc;
  }
  df_entry_close(s);
  return rc;
}
