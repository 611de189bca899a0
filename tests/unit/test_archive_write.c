/* Unit tests of core/archive_write: archives written in chunks read back
 * byte for byte through core/archive.h (and GNU tar); nothing but a
 * .partial exists until finish; an aborted write leaves nothing; bad names,
 * short and long entries are refused; an existing archive is never
 * overwritten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/archive.h"
#include "core/archive_write.h"
#include "core/error.h"

#define BIG_SIZE (3u * 1024 * 1024 + 4099)

static char tmpdir[64];

static void
fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
  uint32_t x = seed;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (unsigned char)(x >> 16);
  }
}

static bool
exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

static void
path_in(char *out, size_t len, const char *name)
{
  snprintf(out, len, "%s/%s", tmpdir, name);
}

static int
setup(void **state)
{
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-test-archive-write-XXXXXX");
  return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
  char cmd[128];
  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Reads entry `want` of the archive fully; returns its bytes (malloc'd). */
static unsigned char *
read_entry(const char *archive, const char *want, size_t *len, enum df_archive_entry_type *type)
{
  struct df_archive *a = NULL;
  struct df_archive_entry e;
  unsigned char *buf = NULL;
  size_t used = 0, cap = 0;
  int rc;

  assert_int_equal(df_archive_open(archive, &a), 0);
  while ((rc = df_archive_next(a, &e)) == 1) {
    if (strcmp(e.path, want) != 0) continue;
    *type = e.type;
    for (;;) {
      if (cap - used < 65536) {
        cap = cap * 2 + 65536;
        buf = realloc(buf, cap);
        assert_non_null(buf);
      }
      ssize_t n = df_archive_read(a, buf + used, cap - used);
      assert_true(n >= 0);
      if (n == 0) break;
      used += (size_t)n;
    }
    *len = used;
  }
  assert_int_equal(rc, 0); /* the walk ends cleanly */
  df_archive_close(a);
  return buf != NULL ? buf : calloc(1, 1);
}

static void
test_round_trip(void **state)
{
  char path[128], partial[160];
  struct df_archive_writer *w = NULL;
  unsigned char *big = malloc(BIG_SIZE);
  unsigned char *got;
  enum df_archive_entry_type type = DF_ARCHIVE_OTHER;
  size_t len = 0;
  (void)state;

  assert_non_null(big);
  fill_pattern(big, BIG_SIZE, 7);
  path_in(path, sizeof(path), "rt.tar");
  snprintf(partial, sizeof(partial), "%s.partial", path);
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_string_equal(df_archive_writer_partial_path(w), partial);
  assert_true(exists(partial));
  assert_false(exists(path));

  assert_int_equal(df_archive_writer_add_dir(w, "files/sdcard/DCIM", 0775, 1700000000), 0);
  assert_int_equal(
    df_archive_writer_add_file_header(w, "files/sdcard/DCIM/big.bin", BIG_SIZE, 0660, 1700000001),
    0);
  /* Odd chunk sizes, as a phone sends them. */
  for (size_t off = 0; off < BIG_SIZE;) {
    size_t n = 65536 - 17;
    if (n > BIG_SIZE - off) n = BIG_SIZE - off;
    assert_int_equal(df_archive_writer_add_data(w, big + off, n), 0);
    off += n;
  }
  assert_int_equal(df_archive_writer_add_file_header(w, "files/sdcard/empty", 0, 0600, 0), 0);
  assert_int_equal(df_archive_writer_add_buffer(w, "MANIFEST.sha256", "abc\n", 4), 0);
  assert_int_equal(df_archive_writer_data_bytes(w), (uint64_t)BIG_SIZE + 4);

  /* Sealed: complete, but still only the partial. */
  assert_int_equal(df_archive_writer_seal(w), 0);
  assert_true(exists(partial));
  assert_false(exists(path));
  got = read_entry(partial, "files/sdcard/DCIM/big.bin", &len, &type);
  assert_int_equal(len, BIG_SIZE);
  assert_memory_equal(got, big, BIG_SIZE);
  free(got);

  assert_int_equal(df_archive_writer_finish(w), 0);
  assert_false(exists(partial));
  assert_true(exists(path));

  got = read_entry(path, "files/sdcard/DCIM/big.bin", &len, &type);
  assert_int_equal(type, DF_ARCHIVE_FILE);
  assert_int_equal(len, BIG_SIZE);
  assert_memory_equal(got, big, BIG_SIZE);
  free(got);
  got = read_entry(path, "files/sdcard/empty", &len, &type);
  assert_int_equal(len, 0);
  free(got);
  got = read_entry(path, "MANIFEST.sha256", &len, &type);
  assert_int_equal(len, 4);
  assert_memory_equal(got, "abc\n", 4);
  free(got);
  got = read_entry(path, "files/sdcard/DCIM/", &len, &type);
  assert_int_equal(type, DF_ARCHIVE_DIR);
  free(got);

  /* GNU tar agrees, and the mode was kept. */
  char cmd[512];
  snprintf(cmd, sizeof(cmd),
           "tar -tvf %s files/sdcard/DCIM/big.bin 2>/dev/null | grep -q '^-rw-rw----'", path);
  assert_int_equal(system(cmd), 0);
  free(big);
}

static void
test_abort_leaves_nothing(void **state)
{
  char path[128], partial[160];
  struct df_archive_writer *w = NULL;
  (void)state;

  path_in(path, sizeof(path), "aborted.tar");
  snprintf(partial, sizeof(partial), "%s.partial", path);
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_int_equal(df_archive_writer_add_file_header(w, "a/b", 10, 0644, 0), 0);
  assert_int_equal(df_archive_writer_add_data(w, "01234", 5), 0);
  df_archive_writer_abort(w);
  assert_false(exists(partial));
  assert_false(exists(path));

  /* Aborted after sealing, too. */
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_int_equal(df_archive_writer_add_buffer(w, "x", "y", 1), 0);
  assert_int_equal(df_archive_writer_seal(w), 0);
  df_archive_writer_abort(w);
  assert_false(exists(partial));
  assert_false(exists(path));
  df_archive_writer_abort(NULL);
}

static void
test_unsafe_names_refused(void **state)
{
  static const char *bad[] = {"",        "/etc/passwd", "../x",   "a/../b", "a/..",
                              "./a",     "a/./b",       "a//b",   "a/",     ".",
                              "..",      NULL};
  char path[128];
  struct df_archive_writer *w = NULL;
  (void)state;

  for (size_t i = 0; bad[i] != NULL; i++) {
    assert_int_equal(df_archive_name_check(bad[i]), DF_EUNSAFE);
  }
  assert_int_equal(df_archive_name_check("files/sdcard/..hidden/a..b"), 0);
  path_in(path, sizeof(path), "names.tar");
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_int_equal(df_archive_writer_add_file_header(w, "../escape", 1, 0644, 0), DF_EUNSAFE);
  assert_int_equal(df_archive_writer_add_buffer(w, "/abs", "x", 1), DF_EUNSAFE);
  assert_int_equal(df_archive_writer_add_dir(w, "a/../..", 0755, 0), DF_EUNSAFE);
  /* The writer is still usable after a refused name. */
  assert_int_equal(df_archive_writer_add_buffer(w, "ok", "x", 1), 0);
  assert_int_equal(df_archive_writer_finish(w), 0);
  assert_true(exists(path));
}

static void
test_sizes_enforced(void **state)
{
  char path[128];
  struct df_archive_writer *w = NULL;
  (void)state;

  path_in(path, sizeof(path), "sizes.tar");
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_int_equal(df_archive_writer_add_data(w, "x", 1), DF_EINVAL); /* no file open */
  assert_int_equal(df_archive_writer_add_file_header(w, "f", 4, 0644, 0), 0);
  assert_int_equal(df_archive_writer_add_data(w, "12345", 5), DF_ETOOBIG);
  assert_int_equal(df_archive_writer_add_data(w, "123", 3), 0);
  /* One byte short: neither a next entry nor the end is accepted. */
  assert_int_equal(df_archive_writer_add_buffer(w, "g", "x", 1), DF_EMISMATCH);
  assert_int_equal(df_archive_writer_seal(w), DF_EMISMATCH);
  assert_int_equal(df_archive_writer_finish(w), DF_EMISMATCH);
  assert_false(exists(path));
  char partial[160];
  snprintf(partial, sizeof(partial), "%s.partial", path);
  assert_false(exists(partial));
}

static void
test_never_overwrites(void **state)
{
  char path[128], partial[160];
  struct df_archive_writer *w = NULL;
  FILE *f;
  (void)state;

  path_in(path, sizeof(path), "existing.tar");
  snprintf(partial, sizeof(partial), "%s.partial", path);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("precious", f);
  fclose(f);
  assert_int_equal(df_archive_writer_begin(path, &w), DF_EEXIST);

  /* The name appears while writing: finish refuses, the partial stays. */
  path_in(path, sizeof(path), "race.tar");
  snprintf(partial, sizeof(partial), "%s.partial", path);
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_int_equal(df_archive_writer_add_buffer(w, "a", "b", 1), 0);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("precious", f);
  fclose(f);
  assert_int_equal(df_archive_writer_finish(w), DF_EEXIST);
  assert_true(exists(partial));
  char buf[16] = {0};
  f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(buf, sizeof(buf), f));
  fclose(f);
  assert_string_equal(buf, "precious");

  /* A stale partial from an interrupted run is replaced. */
  path_in(path, sizeof(path), "stale.tar");
  snprintf(partial, sizeof(partial), "%s.partial", path);
  f = fopen(partial, "w");
  assert_non_null(f);
  fputs("half of an old backup", f);
  fclose(f);
  assert_int_equal(df_archive_writer_begin(path, &w), 0);
  assert_int_equal(df_archive_writer_add_buffer(w, "new", "1", 1), 0);
  assert_int_equal(df_archive_writer_finish(w), 0);
  size_t len = 0;
  enum df_archive_entry_type type;
  unsigned char *got = read_entry(path, "new", &len, &type);
  assert_int_equal(len, 1);
  free(got);
  assert_false(exists(partial));

  assert_int_equal(df_archive_writer_begin("/nonexistent-dir/x.tar", &w), DF_ENOENT);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_abort_leaves_nothing),
    cmocka_unit_test(test_unsafe_names_refused),
    cmocka_unit_test(test_sizes_enforced),
    cmocka_unit_test(test_never_overwrites),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
