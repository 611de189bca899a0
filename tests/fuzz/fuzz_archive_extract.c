/* Fuzzes safe extraction (core/archive.h df_archive_extract_report) with a
 * hostile firmware package: the input is extracted into root/target with
 * small limits (1 MiB an entry, 4 MiB in all, 256 entries), then the folder
 * is inspected. Checked:
 *   - nothing is written outside target: the private folder holds only the
 *     archive and root, and root only target;
 *   - after a refusal target is empty (all or nothing);
 *   - after success no symlink under target leads outside it, nothing is a
 *     device, FIFO or socket, no mode has setuid/setgid/sticky or group or
 *     other write, and the report's counts fit the limits;
 *   - a refusal carries a reason, and a result the header lists. */
#include "tests/fuzz/fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#include "core/archive.h"
#include "core/error.h"

static char archive_path[400], root[400], target[400];
static char target_real[PATH_MAX];
static unsigned found;

static unsigned
count_entries(const char *dir, const char *only)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  unsigned n = 0;

  DF_FUZZ_CHECK(d != NULL, "opendir %s", dir);
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (only != NULL)
      DF_FUZZ_CHECK(strcmp(de->d_name, only) == 0 || strcmp(de->d_name, "archive") == 0,
                    "\"%s\" written in %s, outside the target", de->d_name, dir);
    n++;
  }
  closedir(d);
  return n;
}

/* Whether the symlink at path, read lexically from its folder, stays under
 * target (a link into a link is followed by realpath when it resolves). */
static bool
link_inside(const char *path)
{
  char buf[PATH_MAX], real[PATH_MAX];
  ssize_t n = readlink(path, buf, sizeof(buf) - 1);
  size_t tl = strlen(target_real);

  if (n < 0) return false;
  buf[n] = '\0';
  if (buf[0] == '/') return false;
  if (realpath(path, real) != NULL)
    return strncmp(real, target_real, tl) == 0 && (real[tl] == '/' || real[tl] == '\0');
  /* Dangling: count depth lexically from the link's folder. */
  int depth = 0;
  for (const char *p = path + strlen(target) + 1; *p != '\0'; p++) depth += *p == '/';
  for (char *save = NULL, *c = strtok_r(buf, "/", &save); c != NULL;
       c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, "..") == 0) depth--;
    else if (strcmp(c, ".") != 0) depth++;
    if (depth < 0) return false;
  }
  return true;
}

static int
inspect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)ftw;
  if (strcmp(path, target) == 0) return 0;
  found++;
  DF_FUZZ_CHECK(flag != FTW_NS && flag != FTW_DNR, "cannot read %s", path);
  DF_FUZZ_CHECK(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode),
                "%s is a device, FIFO or socket", path);
  if (!S_ISLNK(st->st_mode))
    DF_FUZZ_CHECK((st->st_mode & 07022) == 0, "%s has mode %o", path, st->st_mode & 07777);
  if (S_ISLNK(st->st_mode)) DF_FUZZ_CHECK(link_inside(path), "symlink %s leaves the target", path);
  return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  snprintf(archive_path, sizeof(archive_path), "%s/archive", df_fuzz_tmpdir());
  snprintf(root, sizeof(root), "%s/root", df_fuzz_tmpdir());
  snprintf(target, sizeof(target), "%s/root/target", df_fuzz_tmpdir());
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const struct df_extract_limits limits = {1u << 20, 4u << 20, 256};
  struct df_extract_report report;
  int rc;

  df_fuzz_write_file(archive_path, data, size);
  df_fuzz_rm_rf(root);
  DF_FUZZ_CHECK(mkdir(root, 0700) == 0 && mkdir(target, 0700) == 0, "mkdir: %s", strerror(errno));
  DF_FUZZ_CHECK(realpath(target, target_real) != NULL, "realpath");
  memset(&report, 0, sizeof(report));
  rc = df_archive_extract_report(archive_path, target, &limits, &report);

  count_entries(df_fuzz_tmpdir(), "root");
  count_entries(root, "target");
  found = 0;
  DF_FUZZ_CHECK(nftw(target, inspect, 16, FTW_PHYS) == 0, "walk");
  DF_FUZZ_CHECK(memchr(report.bad_entry, '\0', sizeof(report.bad_entry)) != NULL &&
                  memchr(report.reason, '\0', sizeof(report.reason)) != NULL,
                "report strings not terminated");
  if (rc == 0) {
    DF_FUZZ_CHECK(report.entries <= limits.max_entries && report.bytes <= limits.max_total_size,
                  "report: %llu entries, %llu bytes", (unsigned long long)report.entries,
                  (unsigned long long)report.bytes);
  } else {
    DF_FUZZ_CHECK(rc == DF_EUNSAFE || rc == DF_ETOOBIG || rc == DF_EEXIST || rc == DF_ECORRUPT ||
                    rc == DF_ENOMEM || rc == DF_EIO,
                  "result %d (%s)", rc, report.reason);
    DF_FUZZ_CHECK(found == 0, "%u names left in the target after a refusal (%d: %s)", found, rc,
                  report.reason);
    DF_FUZZ_CHECK(report.reason[0] != '\0', "refused (%d) without a reason", rc);
  }
  return 0;
}
