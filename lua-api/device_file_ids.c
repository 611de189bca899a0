/* Listing device files: every *.lua under a devices folder as an id, the
 * path without the folder and ".lua", in sorted order. */
#include "lua-api/device_file_ids.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "lua-api/device_file.h"

void
df_device_ids_free(struct df_device_ids *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->ids[i]);
  free(l->ids);
  memset(l, 0, sizeof(*l));
}

static int
id_list_walk(struct df_device_ids *l, const char *root, const char *rel, int depth)
{
  char dirpath[PATH_MAX];
  int nd = snprintf(dirpath, sizeof(dirpath), "%s%s%s", root, rel[0] ? "/" : "", rel);
  if (nd < 0 || (size_t)nd >= sizeof(dirpath))
    return DF_ETOOBIG;
  DIR *d = opendir(dirpath);
  if (!d)
    return df_error_from_errno(errno);
  struct dirent *de;
  int rc = 0;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char full[PATH_MAX], sub[PATH_MAX];
    int nf = snprintf(full, sizeof(full), "%s/%s", dirpath, de->d_name);
    int ns = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
    if (nf < 0 || (size_t)nf >= sizeof(full) || ns < 0 || (size_t)ns >= sizeof(sub))
      continue;
    struct stat st;
    if (stat(full, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 8)
        rc = id_list_walk(l, root, sub, depth + 1);
      continue;
    }
    size_t n = strlen(sub);
    if (!S_ISREG(st.st_mode) || n <= 4 || strcmp(sub + n - 4, ".lua") != 0)
      continue;
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 32;
      char **ids = realloc(l->ids, cap * sizeof(*ids));
      if (!ids) {
        rc = DF_ENOMEM;
        break;
      }
      l->ids = ids;
      l->cap = cap;
    }
    l->ids[l->n] = strndup(sub, n - 4);
    if (!l->ids[l->n]) {
      rc = DF_ENOMEM;
      break;
    }
    l->n++;
  }
  closedir(d);
  return rc;
}

static int
cmp_ids(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
df_device_ids_load(struct df_device_ids *l, const char *devices_dir)
{
  memset(l, 0, sizeof(*l));
  if (!devices_dir)
    return DF_EINVAL;
  int rc = id_list_walk(l, devices_dir, "", 0);
  if (rc != 0) {
    df_device_ids_free(l);
    return rc;
  }
  qsort(l->ids, l->n, sizeof(*l->ids), cmp_ids);
  return 0;
}

int
df_device_file_list(const char *devices_dir, df_device_id_fn fn, void *ctx)
{
  struct df_device_ids l;
  int rc = df_device_ids_load(&l, devices_dir);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < l.n && rc == 0; i++)
    rc = fn(ctx, l.ids[i]);
  df_device_ids_free(&l);
  return rc;
}
