/* Fuzzes the archive reader (core/archive.h) with a firmware package's
 * bytes: the input is written to a file, opened, walked entry by entry and
 * every entry's data read in uneven pieces. libarchive does the format work
 * underneath (not instrumented: coverage counts our code only). Each input is
 * bounded: 1000 entries, 32 MiB of data read, so a bomb ends quickly.
 * Checked: no crash or leak; an entry always has a path; reads never return
 * more than asked; an entry read to its end with a known size gave exactly
 * that size; errors are sticky (the next call fails the same way) and come
 * with a message; results are only the codes the header lists. */
#include "tests/fuzz/fuzz_util.h"

#include <sys/types.h>

#include "core/archive.h"
#include "core/error.h"

#define MAX_ENTRIES 1000
#define MAX_BYTES (32u * 1024 * 1024)

static uint8_t buf[65536];

static bool
listed(int rc)
{
  return rc == DF_ECORRUPT || rc == DF_EIO || rc == DF_ENOMEM;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char path[512];
  struct df_archive *a = NULL;
  struct df_archive_entry e;
  struct df_fuzz_rng rng;
  uint64_t total = 0;
  int rc;

  snprintf(path, sizeof(path), "%s/archive", df_fuzz_tmpdir());
  df_fuzz_write_file(path, data, size);
  df_fuzz_rng_seed(&rng, data, size);
  rc = df_archive_open(path, &a);
  if (rc != DF_OK) {
    DF_FUZZ_CHECK(rc == DF_ECORRUPT || rc == DF_ENOMEM, "open: %d", rc);
    return 0;
  }
  for (int n = 0; n < MAX_ENTRIES && total < MAX_BYTES; n++) {
    uint64_t got = 0;
    ssize_t r = 0;

    rc = df_archive_next(a, &e);
    if (rc <= 0) break;
    DF_FUZZ_CHECK(e.path != NULL, "entry without a path");
    (void)strlen(e.path);
    if (e.link_target != NULL) (void)strlen(e.link_target);
    DF_FUZZ_CHECK((e.type == DF_ARCHIVE_SYMLINK || e.type == DF_ARCHIVE_HARDLINK) ==
                    (e.link_target != NULL), "link target of a type %d", (int)e.type);
    /* Half the entries are skipped unread, half read. */
    if (df_fuzz_rng_next(&rng) % 2 == 0) continue;
    while (total < MAX_BYTES) {
      size_t want = df_fuzz_piece(&rng, sizeof(buf));
      r = df_archive_read(a, buf, want);
      if (r <= 0) break;
      DF_FUZZ_CHECK((size_t)r <= want, "read %zd of %zu", r, want);
      got += (uint64_t)r;
      total += (uint64_t)r;
    }
    if (r == 0 && e.type == DF_ARCHIVE_FILE && e.size_known)
      DF_FUZZ_CHECK(got == e.size, "read %llu bytes of an entry of %llu",
                    (unsigned long long)got, (unsigned long long)e.size);
    if (r < 0) {
      rc = (int)r;
      break;
    }
  }
  if (rc < 0) {
    DF_FUZZ_CHECK(listed(rc), "result %d", rc);
    DF_FUZZ_CHECK(df_archive_next(a, &e) == rc, "error not sticky");
    DF_FUZZ_CHECK(df_archive_read(a, buf, sizeof(buf)) == rc, "error not sticky in read");
    DF_FUZZ_CHECK(df_archive_error_message(a)[0] != '\0', "an error without a message");
  }
  (void)df_archive_format_name(a);
  df_archive_close(a);
  return 0;
}
