/* `droidfix-sim status`: the phone's identity, mode, active faults, one
 * digest of what the user would grieve to lose, and each partition's last
 * image (size and sha256), as one JSON object. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a host folder (without . and ..); *n entries. */
static char **
sorted_names(const char *host, size_t *n)
{
  *n = 0;
  DIR *d = opendir(host);
  if (d == NULL) {
    return NULL;
  }
  char **v = NULL;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      v = df_sim_xrealloc(v, cap * sizeof(*v));
    }
    v[(*n)++] = df_sim_strdup(e->d_name);
  }
  closedir(d);
  if (*n) {
    qsort(v, *n, sizeof(*v), cmp_str);
  }
  return v;
}

static void
free_names(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i]);
  }
  free(v);
}

static int
hash_file_into(EVP_MD_CTX *ctx, const char *host)
{
  int fd = open(host, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return df_error_from_errno(errno);
  }
  static char buf[1 << 16];
  ssize_t r;
  while ((r = read(fd, buf, sizeof(buf))) > 0) {
    EVP_DigestUpdate(ctx, buf, (size_t)r);
  }
  close(fd);
  return r < 0 ? DF_EIO : 0;
}

static void
record(EVP_MD_CTX *ctx, const char *kind, const char *a, const char *b)
{
  EVP_DigestUpdate(ctx, kind, strlen(kind) + 1);
  EVP_DigestUpdate(ctx, a, strlen(a) + 1);
  EVP_DigestUpdate(ctx, b, strlen(b) + 1);
}

/* Every regular file under host, in sorted order, named relative to it.
 * skip_cache: leave out folders named cache and code_cache (at depth 1 for
 * app data, and under Android/data/<pkg>/ for shared storage). */
static void
hash_tree(EVP_MD_CTX *ctx, const char *kind, const char *host, const char *rel, int depth,
          bool app_data)
{
  size_t n;
  char **names = sorted_names(host, &n);
  for (size_t i = 0; i < n; i++) {
    char child[PATH_MAX], crel[PATH_MAX];
    snprintf(child, sizeof(child), "%s/%s", host, names[i]);
    snprintf(crel, sizeof(crel), "%s/%s", rel, names[i]);
    struct stat st;
    if (lstat(child, &st) < 0) {
      continue;
    }
    bool cache_name = strcmp(names[i], "cache") == 0 || strcmp(names[i], "code_cache") == 0;
    if (S_ISDIR(st.st_mode)) {
      if (cache_name && ((app_data && depth == 0) ||
                         (!app_data && strncmp(rel, "/Android/data/", 14) == 0 && depth == 3))) {
        continue;
      }
      hash_tree(ctx, kind, child, crel, depth + 1, app_data);
    } else if (S_ISREG(st.st_mode)) {
      char size[32];
      snprintf(size, sizeof(size), "%" PRIu64, (uint64_t)st.st_size);
      record(ctx, kind, crel, size);
      hash_file_into(ctx, child);
    }
  }
  free_names(names, n);
}

static int
cmp_pkg(const void *a, const void *b)
{
  return strcmp((*(const struct df_sim_package *const *)a)->name,
                (*(const struct df_sim_package *const *)b)->name);
}

static void
hex(const unsigned char *d, unsigned n, char *out)
{
  for (unsigned i = 0; i < n; i++) {
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  }
}

int
df_sim_phone_user_data_sha256(struct df_sim_phone *phone, char out[65])
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return DF_ENOMEM;
  }
  char host[PATH_MAX];
  df_sim_vfs_host(phone, "/storage/emulated/0", host, sizeof(host));
  hash_tree(ctx, "sdcard", host, "", 0, false);

  /* Accounts in a fixed order. */
  char **acc = NULL;
  if (phone->naccounts) {
    acc = calloc(phone->naccounts, sizeof(*acc));
  }
  for (size_t i = 0; acc && i < phone->naccounts; i++) {
    size_t l = strlen(phone->accounts[i].name) + strlen(phone->accounts[i].type) + 2;
    acc[i] = malloc(l);
    snprintf(acc[i], l, "%s\n%s", phone->accounts[i].type, phone->accounts[i].name);
  }
  if (acc) {
    qsort(acc, phone->naccounts, sizeof(*acc), cmp_str);
    for (size_t i = 0; i < phone->naccounts; i++) {
      record(ctx, "account", acc[i], "");
      free(acc[i]);
    }
    free(acc);
  }

  /* Data of the apps the user installed (pm list packages -3). */
  const struct df_sim_package **user = calloc(phone->npkgs + 1, sizeof(*user));
  size_t nu = 0;
  for (size_t i = 0; user && i < phone->npkgs; i++) {
    if (!phone->pkgs[i].system) {
      user[nu++] = &phone->pkgs[i];
    }
  }
  if (nu) {
    qsort(user, nu, sizeof(*user), cmp_pkg);
  }
  for (size_t i = 0; i < nu; i++) {
    char canon[PATH_MAX], bytes[32];
    snprintf(canon, sizeof(canon), "/data/data/%s", user[i]->name);
    df_sim_vfs_host(phone, canon, host, sizeof(host));
    snprintf(bytes, sizeof(bytes), "%" PRIu64, user[i]->data_bytes);
    record(ctx, "app", user[i]->name, bytes);
    hash_tree(ctx, user[i]->name, host, "", 0, true);
  }
  free(user);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned dl = 0;
  EVP_DigestFinal_ex(ctx, d, &dl);
  EVP_MD_CTX_free(ctx);
  hex(d, dl, out);
  return 0;
}

static int
file_sha256(const char *host, char out[65], uint64_t *size)
{
  struct stat st;
  if (stat(host, &st) < 0) {
    return df_error_from_errno(errno);
  }
  *size = (uint64_t)st.st_size;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL) {
    return DF_ENOMEM;
  }
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  int r = hash_file_into(ctx, host);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned dl = 0;
  EVP_DigestFinal_ex(ctx, d, &dl);
  EVP_MD_CTX_free(ctx);
  hex(d, dl, out);
  return r;
}

static void
json_str(struct df_sim_buf *b, const char *s)
{
  df_sim_buf_append(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      df_sim_buf_printf(b, "\\%c", *p);
    } else if (*p < 0x20) {
      df_sim_buf_printf(b, "\\u%04x", *p);
    } else {
      df_sim_buf_append(b, p, 1);
    }
  }
  df_sim_buf_append(b, "\"", 1);
}

int
df_sim_phone_status_json(struct df_sim_phone *phone, struct df_sim_buf *b)
{
  char digest[65];
  int r = df_sim_phone_user_data_sha256(phone, digest);
  if (r < 0) {
    return r;
  }
  df_sim_buf_append(b, "{\"serial\": ", 11);
  json_str(b, phone->serial);
  df_sim_buf_append(b, ", \"model\": ", 11);
  json_str(b, phone->model.id);
  df_sim_buf_append(b, ", \"name\": ", 10);
  json_str(b, phone->model.name);
  df_sim_buf_append(b, ", \"codename\": ", 14);
  json_str(b, phone->model.codename);
  df_sim_buf_append(b, ", \"mode\": ", 10);
  json_str(b, df_sim_mode_name(phone->mode));
  df_sim_buf_append(b, ", \"faults\": [", 13);
  bool first = true;
  for (size_t i = 0; i < phone->nfaults; i++) {
    if (phone->faults[i].active) {
      if (!first) {
        df_sim_buf_append(b, ", ", 2);
      }
      json_str(b, phone->faults[i].name);
      first = false;
    }
  }
  df_sim_buf_printf(b, "], \"user_data_sha256\": \"%s\", \"partitions\": {", digest);
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/partitions", phone->state_dir);
  size_t n;
  char **names = sorted_names(dir, &n);
  first = true;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(names[i]);
    if (l <= 4 || strcmp(names[i] + l - 4, ".img") != 0) {
      continue;
    }
    char host[PATH_MAX + 256], sha[65];
    uint64_t size = 0;
    snprintf(host, sizeof(host), "%s/%s", dir, names[i]);
    if (file_sha256(host, sha, &size) < 0) {
      continue;
    }
    names[i][l - 4] = '\0';
    df_sim_buf_append(b, first ? "" : ", ", first ? 0 : 2);
    json_str(b, names[i]);
    df_sim_buf_printf(b, ": {\"size\": %" PRIu64 ", \"sha256\": \"%s\"}", size, sha);
    first = false;
  }
  free_names(names, n);
  df_sim_buf_printf(b, "}, \"rooted\": %s, \"unlocked\": %s, \"boot_count\": %d}\n",
                    phone->rooted ? "true" : "false", phone->unlocked ? "true" : "false",
                    phone->boot_count);
  return 0;
}
