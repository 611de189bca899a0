/* Checking a backup archive against its manifest: every entry hashed as it
 * is read, then compared line by line with MANIFEST.sha256, the last entry.
 * Memory: one 256 KiB buffer, the manifest text, and a name and digest per
 * entry. */
#include "plugins/adb/backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/archive.h"
#include "core/archive_write.h"
#include "core/error.h"
#include "core/hash.h"

#define DF_BACKUP_READ_BUF (256u * 1024)
#define DF_BACKUP_MANIFEST_MAX (256u * 1024 * 1024)

void
df_backup_check_free(struct df_backup_check *check)
{
  for (size_t i = 0; i < check->nlist; i++) free(check->list[i].name);
  free(check->list);
  check->list = NULL;
  check->nlist = 0;
}

static int
df_backup_bad(struct df_backup_check *c, int err, const char *entry, const char *reason)
{
  snprintf(c->bad_entry, sizeof(c->bad_entry), "%.1000s", entry != NULL ? entry : "");
  snprintf(c->reason, sizeof(c->reason), "%.500s", reason);
  return err;
}

static int
df_backup_push_entry(struct df_backup_check *c, size_t *cap, const struct df_backup_entry *e)
{
  if (c->nlist == *cap) {
    size_t ncap = *cap ? *cap * 2 : 256;
    struct df_backup_entry *n = realloc(c->list, ncap * sizeof(*n));
    if (n == NULL) return DF_ENOMEM;
    c->list = n;
    *cap = ncap;
  }
  c->list[c->nlist] = *e;
  c->list[c->nlist].name = strdup(e->name);
  if (c->list[c->nlist].name == NULL) return DF_ENOMEM;
  c->nlist++;
  return DF_OK;
}

/* One manifest line: 64 hex digits, two spaces, the name, '\n'. */
static int
df_backup_parse_line(const char *line, size_t len, char hex[65], const char **name,
                     size_t *namelen)
{
  if (len < 67 || line[64] != ' ' || line[65] != ' ') return DF_ECORRUPT;
  for (int i = 0; i < 64; i++) {
    char ch = line[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return DF_ECORRUPT;
    hex[i] = ch;
  }
  hex[64] = '\0';
  *name = line + 66;
  *namelen = len - 66;
  return DF_OK;
}

/* The manifest against the entries read: the same files in the same order. */
static int
df_backup_compare(struct df_backup_check *c, const char *manifest, size_t mlen)
{
  const char *p = manifest, *end = manifest + mlen;
  size_t i = 0;
  char hex[65];

  for (;;) {
    /* The next file entry (directories are not in the manifest). */
    while (i < c->nlist && c->list[i].is_dir) i++;
    if (p == end) break;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *name;
    size_t namelen;
    if (nl == NULL)
      return df_backup_bad(c, DF_ECORRUPT, DF_BACKUP_MANIFEST, "its last line is cut short");
    if (df_backup_parse_line(p, (size_t)(nl - p), hex, &name, &namelen) != DF_OK)
      return df_backup_bad(c, DF_ECORRUPT, DF_BACKUP_MANIFEST, "a line is not \"SHA256  NAME\"");
    if (i >= c->nlist) {
      char n[1024];
      snprintf(n, sizeof(n), "%.*s", (int)(namelen < 1000 ? namelen : 1000), name);
      return df_backup_bad(c, DF_ECORRUPT, n, "listed in the manifest but missing from the archive");
    }
    const struct df_backup_entry *e = &c->list[i];
    if (strlen(e->name) != namelen || memcmp(e->name, name, namelen) != 0)
      return df_backup_bad(c, DF_ECORRUPT, e->name,
                           "not where the manifest expects it (missing, extra or out of order)");
    if (strcmp(e->sha256, hex) != 0)
      return df_backup_bad(c, DF_ECORRUPT, e->name, "its sha256 differs from the manifest");
    i++;
    p = nl + 1;
  }
  if (i < c->nlist)
    return df_backup_bad(c, DF_ECORRUPT, c->list[i].name, "in the archive but not in the manifest");
  return DF_OK;
}

int
df_backup_verify_sync(const char *path, bool keep_entries, struct df_backup_check *c)
{
  struct df_archive *a = NULL;
  struct df_archive_entry e;
  unsigned char *buf = NULL;
  char *manifest = NULL;
  size_t mlen = 0, cap = 0;
  bool have_manifest = false;
  char last[1024] = "";
  int rc, err = DF_OK;

  memset(c, 0, sizeof(*c));
  rc = df_archive_open(path, &a);
  if (rc != DF_OK) return df_backup_bad(c, rc, "", df_strerror(rc));
  buf = malloc(DF_BACKUP_READ_BUF);
  if (buf == NULL) {
    df_archive_close(a);
    return DF_ENOMEM;
  }
  while ((rc = df_archive_next(a, &e)) == 1) {
    struct df_backup_entry be = {0};
    char name[1024];
    size_t nl = strlen(e.path);

    snprintf(last, sizeof(last), "%s", e.path);
    if (have_manifest) {
      err = df_backup_bad(c, DF_ECORRUPT, e.path, "an entry after the manifest");
      goto out;
    }
    if (nl >= sizeof(name)) {
      err = df_backup_bad(c, DF_ECORRUPT, e.path, "name too long");
      goto out;
    }
    memcpy(name, e.path, nl + 1);
    if (e.type == DF_ARCHIVE_DIR && nl > 1 && name[nl - 1] == '/') name[nl - 1] = '\0';
    if (df_archive_name_check(name) != DF_OK) {
      err = df_backup_bad(c, DF_ECORRUPT, e.path, "an unsafe name (absolute or with ..)");
      goto out;
    }
    if (e.type == DF_ARCHIVE_DIR) {
      be.name = name;
      be.is_dir = true;
      be.mode = e.mode;
      if (keep_entries && (err = df_backup_push_entry(c, &cap, &be)) != DF_OK) goto out;
      continue;
    }
    if (e.type != DF_ARCHIVE_FILE) {
      err = df_backup_bad(c, DF_ECORRUPT, e.path, "not a file or folder (a backup has no links)");
      goto out;
    }
    bool is_manifest = strcmp(name, DF_BACKUP_MANIFEST) == 0;
    struct df_hash *h = NULL;
    uint64_t size = 0;
    if ((err = df_hash_new(DF_HASH_SHA256, &h)) != DF_OK) goto out;
    for (;;) {
      ssize_t n = df_archive_read(a, buf, DF_BACKUP_READ_BUF);
      if (n < 0) {
        df_hash_free(h);
        err = df_backup_bad(c, (int)n, e.path, df_archive_error_message(a)[0] != '\0'
                                                  ? df_archive_error_message(a)
                                                  : df_strerror((int)n));
        goto out;
      }
      if (n == 0) break;
      df_hash_update(h, buf, (size_t)n);
      size += (uint64_t)n;
      if (is_manifest) {
        if (mlen + (size_t)n > DF_BACKUP_MANIFEST_MAX) {
          df_hash_free(h);
          err = df_backup_bad(c, DF_ECORRUPT, e.path, "the manifest is implausibly large");
          goto out;
        }
        char *m = realloc(manifest, mlen + (size_t)n + 1);
        if (m == NULL) {
          df_hash_free(h);
          err = DF_ENOMEM;
          goto out;
        }
        manifest = m;
        memcpy(manifest + mlen, buf, (size_t)n);
        mlen += (size_t)n;
      }
    }
    df_hash_final_hex(h, be.sha256, sizeof(be.sha256));
    df_hash_free(h);
    if (is_manifest) {
      have_manifest = true;
      memcpy(c->manifest_sha256, be.sha256, sizeof(be.sha256));
      continue;
    }
    be.name = name;
    be.size = size;
    be.mode = e.mode;
    c->entries++;
    if (strncmp(name, "files/", 6) == 0) {
      c->files++;
      c->bytes += size;
    }
    /* Without keep_entries the list is still needed for the comparison;
     * it is dropped at the end. */
    if ((err = df_backup_push_entry(c, &cap, &be)) != DF_OK) goto out;
  }
  if (rc < 0) {
    const char *msg = df_archive_error_message(a);
    char where[1100];
    snprintf(where, sizeof(where), "%s%s", last[0] != '\0' ? "after " : "",
             last[0] != '\0' ? last : "the start");
    err = df_backup_bad(c, rc, where, msg[0] != '\0' ? msg : "the archive is truncated or damaged");
    goto out;
  }
  if (!have_manifest) {
    err = df_backup_bad(c, DF_ECORRUPT, DF_BACKUP_MANIFEST,
                        "missing: the backup did not finish (or this is not a droidfix backup)");
    goto out;
  }
  err = df_backup_compare(c, manifest, mlen);
out:
  if (err == DF_EIO || err == DF_ENOMEM || err == DF_ECORRUPT || err == DF_OK) {
    /* keep as is */
  } else if (err == DF_EMISMATCH || err == DF_ETOOBIG) {
    err = DF_ECORRUPT;
  }
  if (!keep_entries || err != DF_OK) {
    /* Directories were only kept with keep_entries; drop everything. */
    df_backup_check_free(c);
  }
  free(manifest);
  free(buf);
  df_archive_close(a);
  return err;
}

void
df_backup_check_message(const char *path, int status, const struct df_backup_check *c,
                        char *out, size_t outlen)
{
  if (status == DF_ECORRUPT) {
    snprintf(out, outlen, "%s is damaged at %s: %s. Nothing was changed; use another copy of the backup",
             path, c->bad_entry[0] != '\0' ? c->bad_entry : "its start", c->reason);
  } else {
    snprintf(out, outlen, "cannot read %s: %s%s%s", path, df_strerror(status),
             c->reason[0] != '\0' ? ": " : "", c->reason[0] != '\0' ? c->reason : "");
  }
}

/* ---- on the thread pool ---- */

struct df_backup_verify_work {
  uv_work_t req;
  char *path;
  int status;
  struct df_backup_check check;
  df_backup_verify_cb cb;
  void *userdata;
};

static void
df_backup_verify_run(uv_work_t *req)
{
  struct df_backup_verify_work *w = req->data;
  w->status = df_backup_verify_sync(w->path, false, &w->check);
}

static void
df_backup_verify_after(uv_work_t *req, int status)
{
  struct df_backup_verify_work *w = req->data;

  if (status != 0 && w->status == DF_OK) w->status = DF_ECANCELED;
  w->cb(w->userdata, w->status, &w->check);
  df_backup_check_free(&w->check);
  free(w->path);
  free(w);
}

int
df_backup_verify(struct df_loop *loop, const char *path, df_backup_verify_cb cb, void *userdata)
{
  struct df_backup_verify_work *w = calloc(1, sizeof(*w));
  int rc;

  if (w == NULL) return DF_ENOMEM;
  w->path = strdup(path);
  if (w->path == NULL) {
    free(w);
    return DF_ENOMEM;
  }
  w->cb = cb;
  w->userdata = userdata;
  w->req.data = w;
  rc = uv_queue_work(&loop->uv, &w->req, df_backup_verify_run, df_backup_verify_after);
  if (rc != 0) {
    free(w->path);
    free(w);
    return df_error_from_uv(rc);
  }
  return DF_OK;
}
