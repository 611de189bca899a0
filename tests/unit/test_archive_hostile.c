/* Unit tests of core/archive's safe extraction against hostile archives made
 * here with libarchive's writer: path traversal, absolute paths, symlink and
 * hardlink escapes, writing through a symlink, device nodes and FIFOs, size
 * limits and a zip bomb whose headers lie. Each case checks the code, the
 * entry named, and that nothing appeared outside (or inside) the target. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/archive.h"
#include "core/error.h"
#include "tests/unit/file_fixture.h"

/* root/ holds target/ (where we extract), canary/ (next to it: must stay
 * empty) and the archives. */
static char root[64];
static char target[128];
static char canary[128];
static char archive_path[128];
static char abs_victim[128]; /* an absolute /tmp path no entry may create */

enum kind { K_FILE, K_DIR, K_SYMLINK, K_HARDLINK, K_CHR, K_BLK, K_FIFO };

struct w_entry {
  enum kind kind;
  const char *path;
  const char *data;  /* file contents; NULL: size zero bytes */
  uint64_t size;     /* bytes when data is NULL */
  const char *link;  /* symlink or hardlink target */
  unsigned perm;
};

#define FILE_E(p, d) {K_FILE, p, d, 0, NULL, 0644}
#define DIR_E(p) {K_DIR, p, NULL, 0, NULL, 0755}
#define SYMLINK_E(p, l) {K_SYMLINK, p, NULL, 0, l, 0777}
#define HARDLINK_E(p, l) {K_HARDLINK, p, NULL, 0, l, 0644}

/* Writes an archive: pax (tar) unless zip. */
static void
write_archive(const char *path, bool zip, const struct w_entry *entries, size_t n)
{
  struct archive *w = archive_write_new();
  struct archive_entry *ae = archive_entry_new();
  static unsigned char zeros[65536];

  assert_non_null(w);
  if (zip) {
    assert_int_equal(archive_write_set_format_zip(w), ARCHIVE_OK);
  } else {
    assert_int_equal(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
    assert_int_equal(archive_write_add_filter_gzip(w), ARCHIVE_OK);
  }
  assert_int_equal(archive_write_open_filename(w, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    const struct w_entry *e = &entries[i];
    uint64_t size = e->data != NULL ? strlen(e->data) : e->size;

    archive_entry_clear(ae);
    archive_entry_set_pathname(ae, e->path);
    archive_entry_set_perm(ae, e->perm);
    archive_entry_set_mtime(ae, 1700000000, 0);
    switch (e->kind) {
    case K_FILE:
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_size(ae, (la_int64_t)size);
      break;
    case K_DIR: archive_entry_set_filetype(ae, AE_IFDIR); break;
    case K_SYMLINK:
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, e->link);
      break;
    case K_HARDLINK:
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e->link);
      archive_entry_set_size(ae, 0);
      break;
    case K_CHR:
      archive_entry_set_filetype(ae, AE_IFCHR);
      archive_entry_set_rdev(ae, makedev(1, 3));
      break;
    case K_BLK:
      archive_entry_set_filetype(ae, AE_IFBLK);
      archive_entry_set_rdev(ae, makedev(8, 0));
      break;
    case K_FIFO: archive_entry_set_filetype(ae, AE_IFIFO); break;
    }
    assert_true(archive_write_header(w, ae) >= ARCHIVE_WARN);
    if (e->kind == K_FILE) {
      if (e->data != NULL) {
        assert_int_equal(archive_write_data(w, e->data, size), (la_ssize_t)size);
      } else {
        for (uint64_t done = 0; done < size;) {
          size_t len = size - done < sizeof(zeros) ? (size_t)(size - done) : sizeof(zeros);
          assert_int_equal(archive_write_data(w, zeros, len), (la_ssize_t)len);
          done += len;
        }
      }
    }
  }
  archive_entry_free(ae);
  assert_int_equal(archive_write_free(w), ARCHIVE_OK);
}

static int
count_dir(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *de;
  int n = 0;

  if (d == NULL) return -1;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
  }
  closedir(d);
  return n;
}

static bool
exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

/* Nothing outside target: the canary is empty, root holds only target,
 * canary and the archive, and the absolute victim does not exist. */
static void
check_nothing_outside(void)
{
  char p[256];

  assert_int_equal(count_dir(canary), 0);
  assert_int_equal(count_dir(root), 3);
  snprintf(p, sizeof(p), "%s/x", root);
  assert_false(exists(p));
  assert_false(exists(abs_victim));
  assert_false(exists("/tmp/x"));
}

/* A fresh root for every test, so one failure does not spill into the
 * next. */
static int
setup(void **state)
{
  snprintf(root, sizeof(root), "/tmp/df-test-hostile-XXXXXX");
  if (mkdtemp(root) == NULL) return -1;
  snprintf(target, sizeof(target), "%s/target", root);
  snprintf(canary, sizeof(canary), "%s/canary", root);
  snprintf(archive_path, sizeof(archive_path), "%s/a.tgz", root);
  snprintf(abs_victim, sizeof(abs_victim), "/tmp/df-hostile-victim-%d", (int)getpid());
  if (mkdir(target, 0755) != 0 || mkdir(canary, 0755) != 0) return -1;
  return 0;
}

static int
teardown(void **state)
{
  fx_sh("rm -rf '%s' '%s'", root, abs_victim);
  return 0;
}

/* Extracts archive_path with the given limits; on a refusal checks that the
 * target is left empty (nothing partial) and nothing is outside. */
static int
extract(const struct df_extract_limits *limits, struct df_extract_report *report)
{
  int rc = df_archive_extract_report(archive_path, target, limits, report);

  if (rc != 0) assert_int_equal(count_dir(target), 0);
  check_nothing_outside();
  return rc;
}

static void
expect_refused(const struct w_entry *entries, size_t n, bool zip, int code, const char *bad,
               const char *reason_part)
{
  struct df_extract_report rep;
  char bad_entry[64];

  write_archive(archive_path, zip, entries, n);
  assert_int_equal(extract(NULL, &rep), code);
  assert_string_equal(rep.bad_entry, bad);
  if (reason_part != NULL && strstr(rep.reason, reason_part) == NULL) {
    fail_msg("reason \"%s\" lacks \"%s\"", rep.reason, reason_part);
  }
  /* The plain call names the same entry. */
  assert_int_equal(df_archive_extract(archive_path, target, NULL, bad_entry, sizeof(bad_entry)),
                   code);
  assert_string_equal(bad_entry, bad);
  assert_int_equal(count_dir(target), 0);
  check_nothing_outside();
  unlink(archive_path);
}

#define REFUSED(entries, zip, code, bad, why) \
  expect_refused(entries, sizeof(entries) / sizeof(entries[0]), zip, code, bad, why)

static void
test_good_archive_extracts(void **state)
{
  const struct w_entry e[] = {
    DIR_E("top"),
    FILE_E("top/a.txt", "alpha\n"),
    {K_FILE, "top/bin/run.sh", "#!/bin/sh\n", 0, NULL, 06777}, /* setuid, o+w */
    SYMLINK_E("top/link", "a.txt"),
    SYMLINK_E("top/bin/up", "../a.txt"),
    HARDLINK_E("top/hard", "top/a.txt"),
    FILE_E("./dot/b.txt", "beta"),
    {K_FILE, "big.bin", NULL, 3u << 20, NULL, 0600},
  };
  struct df_extract_report rep;
  struct stat st, st2;
  char p[256], buf[64];
  ssize_t n;
  FILE *f;

  write_archive(archive_path, false, e, sizeof(e) / sizeof(e[0]));
  assert_int_equal(extract(NULL, &rep), 0);
  assert_string_equal(rep.bad_entry, "");
  assert_string_equal(rep.reason, "");
  assert_int_equal(rep.entries, 8);
  assert_int_equal(rep.bytes, 6 + 10 + 4 + (3u << 20));
  /* top, dot, big.bin; no staging directory left. */
  assert_int_equal(count_dir(target), 3);
  snprintf(p, sizeof(p), "%s/top/a.txt", target);
  f = fopen(p, "r");
  assert_non_null(f);
  assert_non_null(fgets(buf, sizeof(buf), f));
  fclose(f);
  assert_string_equal(buf, "alpha\n");
  assert_int_equal(stat(p, &st), 0);
  snprintf(p, sizeof(p), "%s/top/hard", target);
  assert_int_equal(stat(p, &st2), 0);
  assert_int_equal(st.st_ino, st2.st_ino);
  snprintf(p, sizeof(p), "%s/top/link", target);
  n = readlink(p, buf, sizeof(buf) - 1);
  assert_int_equal(n, 5);
  buf[n] = '\0';
  assert_string_equal(buf, "a.txt");
  snprintf(p, sizeof(p), "%s/top/bin/run.sh", target);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0755); /* no setuid, no o+w */
  snprintf(p, sizeof(p), "%s/dot/b.txt", target);
  assert_true(exists(p));
  snprintf(p, sizeof(p), "%s/big.bin", target);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_size, 3u << 20);

  /* Again into the same place: refused as a whole, nothing changed. */
  assert_int_equal(df_archive_extract_report(archive_path, target, NULL, &rep), DF_EEXIST);
  assert_int_equal(count_dir(target), 3);
  assert_true(strcmp(rep.bad_entry, "top") == 0 || strcmp(rep.bad_entry, "dot") == 0 ||
              strcmp(rep.bad_entry, "big.bin") == 0);
  check_nothing_outside();
  fx_sh("rm -rf '%s'/*", target);
  unlink(archive_path);
}

static void
test_dotdot_refused(void **state)
{
  const struct w_entry e1[] = {FILE_E("ok.txt", "fine"), FILE_E("../x", "evil")};
  const struct w_entry e2[] = {FILE_E("a/../../x", "evil")};
  const struct w_entry e3[] = {DIR_E("sub/.."), FILE_E("y", "y")};

  REFUSED(e1, false, DF_EUNSAFE, "../x", "'..'");
  REFUSED(e2, false, DF_EUNSAFE, "a/../../x", "'..'");
  REFUSED(e1, true, DF_EUNSAFE, "../x", "'..'");
  /* The pax writer stores a directory's name with a trailing slash. */
  REFUSED(e3, false, DF_EUNSAFE, "sub/../", "'..'");
}

static void
test_absolute_refused(void **state)
{
  const struct w_entry e1[] = {FILE_E(abs_victim, "evil")};
  const struct w_entry e2[] = {FILE_E("/tmp/x", "evil")};

  REFUSED(e1, false, DF_EUNSAFE, abs_victim, "absolute");
  REFUSED(e2, true, DF_EUNSAFE, "/tmp/x", "absolute");
}

static void
test_symlink_escape_then_write_through(void **state)
{
  char abs_canary[160];
  const struct w_entry e1[] = {SYMLINK_E("evil", "../canary"), FILE_E("evil/pwned", "evil")};
  const struct w_entry e3[] = {SYMLINK_E("d/evil", "../../canary"), FILE_E("d/evil/pwned", "x")};
  const struct w_entry e4[] = {SYMLINK_E("up", ".."), FILE_E("up/x", "evil")};

  REFUSED(e1, false, DF_EUNSAFE, "evil", "outside");
  snprintf(abs_canary, sizeof(abs_canary), "%s", canary);
  {
    const struct w_entry e2[] = {SYMLINK_E("evil", abs_canary), FILE_E("evil/pwned", "evil")};
    REFUSED(e2, false, DF_EUNSAFE, "evil", "absolute");
  }
  REFUSED(e3, false, DF_EUNSAFE, "d/evil", "outside");
  REFUSED(e4, true, DF_EUNSAFE, "up", "outside");
}

/* Even a symlink that stays inside is never written through. */
static void
test_no_write_through_inside_symlink(void **state)
{
  const struct w_entry e1[] = {DIR_E("real"), SYMLINK_E("alias", "real"),
                               FILE_E("alias/file", "through")};

  REFUSED(e1, false, DF_EUNSAFE, "alias/file", "symlink");
}

/* A file entry that replaces an earlier symlink replaces the link, and
 * does not write to what it pointed at. */
static void
test_replacing_a_symlink_does_not_follow_it(void **state)
{
  const struct w_entry e[] = {FILE_E("victim", "original"), SYMLINK_E("l", "victim"),
                              FILE_E("l", "EVIL")};
  struct df_extract_report rep;
  char p[256], buf[32] = {0};
  struct stat st;
  FILE *f;

  write_archive(archive_path, false, e, 3);
  assert_int_equal(extract(NULL, &rep), 0);
  snprintf(p, sizeof(p), "%s/victim", target);
  f = fopen(p, "r");
  assert_non_null(f);
  assert_non_null(fgets(buf, sizeof(buf), f));
  fclose(f);
  assert_string_equal(buf, "original");
  snprintf(p, sizeof(p), "%s/l", target);
  assert_int_equal(lstat(p, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  fx_sh("rm -rf '%s'/*", target);
  unlink(archive_path);
}

/* t -> d/s/.. is harmless while d/s does not exist; d/s -> .. (inside on
 * its own) then makes t point above the root. Caught by the final pass. */
static void
test_symlink_chain_escape(void **state)
{
  const struct w_entry e[] = {SYMLINK_E("t", "d/s/.."), SYMLINK_E("d/s", "..")};
  const struct w_entry loop[] = {SYMLINK_E("a", "b"), SYMLINK_E("b", "a")};

  REFUSED(e, false, DF_EUNSAFE, "t", "outside");
  REFUSED(loop, false, DF_EUNSAFE, "a", "loop");
}

static void
test_hardlink_escapes_refused(void **state)
{
  const struct w_entry e1[] = {HARDLINK_E("h", "../outside")};
  const struct w_entry e2[] = {HARDLINK_E("h", "/etc/passwd")};
  const struct w_entry e3[] = {HARDLINK_E("h", "never-extracted")};
  const struct w_entry e4[] = {DIR_E("sub"), FILE_E("sub/f", "data"), SYMLINK_E("s", "sub"),
                               HARDLINK_E("h", "s/f")};
  const struct w_entry e5[] = {FILE_E("f", "x"), SYMLINK_E("s", "f"), HARDLINK_E("h", "s")};

  REFUSED(e1, false, DF_EUNSAFE, "h", "'..'");
  REFUSED(e2, false, DF_EUNSAFE, "h", "absolute");
  REFUSED(e3, false, DF_EUNSAFE, "h", "not extracted");
  REFUSED(e4, false, DF_EUNSAFE, "h", "symlink");
  REFUSED(e5, false, DF_EUNSAFE, "h", "not a regular file");
}

static void
test_special_files_refused(void **state)
{
  const struct w_entry chr[] = {FILE_E("ok", "ok"), {K_CHR, "dev/null2", NULL, 0, NULL, 0666}};
  const struct w_entry blk[] = {{K_BLK, "sda", NULL, 0, NULL, 0660}};
  const struct w_entry fifo[] = {{K_FIFO, "pipe", NULL, 0, NULL, 0644}};

  REFUSED(chr, false, DF_EUNSAFE, "dev/null2", "device");
  REFUSED(blk, false, DF_EUNSAFE, "sda", "device");
  REFUSED(fifo, false, DF_EUNSAFE, "pipe", "FIFO");
}

static void
test_size_limits(void **state)
{
  const struct w_entry big[] = {FILE_E("small", "s"), {K_FILE, "big", NULL, 2u << 20, NULL, 0644}};
  const struct w_entry many[] = {{K_FILE, "a", NULL, 600u << 10, NULL, 0644},
                                 {K_FILE, "b", NULL, 600u << 10, NULL, 0644},
                                 {K_FILE, "c", NULL, 600u << 10, NULL, 0644}};
  const struct w_entry count[] = {FILE_E("1", "1"), FILE_E("2", "2"), FILE_E("3", "3"),
                                  FILE_E("4", "4")};
  const struct df_extract_limits one_mib = {1u << 20, 1u << 20, 0};
  const struct df_extract_limits three = {0, 0, 3};
  struct df_extract_report rep;

  write_archive(archive_path, false, big, 2);
  assert_int_equal(extract(&one_mib, &rep), DF_ETOOBIG);
  assert_string_equal(rep.bad_entry, "big");
  write_archive(archive_path, true, many, 3);
  assert_int_equal(extract(&one_mib, &rep), DF_ETOOBIG);
  assert_string_equal(rep.bad_entry, "b");
  assert_non_null(strstr(rep.reason, "total"));
  write_archive(archive_path, false, count, 4);
  assert_int_equal(extract(&three, &rep), DF_ETOOBIG);
  assert_string_equal(rep.bad_entry, "4");
  /* Without the limits all three pass. */
  write_archive(archive_path, true, many, 3);
  assert_int_equal(extract(NULL, &rep), 0);
  assert_int_equal(rep.bytes, 3 * (600u << 10));
  fx_sh("rm -rf '%s'/*", target);
  unlink(archive_path);
}

/* Sets every uncompressed-size field of a one-entry zip to claimed: the
 * local header (when not zero), the data descriptor and the central
 * directory. */
static void
zip_lie_about_size(const char *path, uint32_t claimed)
{
  FILE *f = fopen(path, "r+b");
  unsigned char *buf;
  long n;
  int patched = 0;

  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  buf = malloc((size_t)n);
  assert_non_null(buf);
  fseek(f, 0, SEEK_SET);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  for (long i = 0; i + 30 <= n; i++) {
    long off = -1;
    if (memcmp(buf + i, "PK\x01\x02", 4) == 0) off = i + 24;
    else if (memcmp(buf + i, "PK\x07\x08", 4) == 0) off = i + 12;
    else if (memcmp(buf + i, "PK\x03\x04", 4) == 0 && memcmp(buf + i + 22, "\0\0\0\0", 4) != 0) off = i + 22;
    if (off < 0) continue;
    for (int k = 0; k < 4; k++) buf[off + k] = (unsigned char)(claimed >> (8 * k));
    patched++;
  }
  assert_true(patched >= 2);
  fseek(f, 0, SEEK_SET);
  assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  free(buf);
}

static void
test_zip_bomb(void **state)
{
  /* 64 MiB of zeros deflate to about 64 KiB. */
  const struct w_entry bomb[] = {{K_FILE, "bomb.img", NULL, 64u << 20, NULL, 0644}};
  const struct df_extract_limits one_mib = {1u << 20, 1u << 20, 0};
  struct df_extract_report rep;
  struct stat st;

  snprintf(archive_path, sizeof(archive_path), "%s/a.zip", root);
  write_archive(archive_path, true, bomb, 1);
  assert_int_equal(stat(archive_path, &st), 0);
  assert_true(st.st_size < (1 << 20));
  /* Honest header: refused before a byte is written. */
  assert_int_equal(extract(&one_mib, &rep), DF_ETOOBIG);
  assert_string_equal(rep.bad_entry, "bomb.img");
  assert_int_equal(rep.bytes, 0);
  /* The header claims 1000 bytes, well under the limit: the bytes are
   * counted as they come and the entry is refused once they pass what the
   * header claimed, long before 64 MiB. */
  zip_lie_about_size(archive_path, 1000);
  assert_int_equal(extract(&one_mib, &rep), DF_ECORRUPT);
  assert_string_equal(rep.bad_entry, "bomb.img");
  assert_true(rep.bytes <= 1000);
  /* Even with no limits at all, the lie is caught. */
  assert_int_equal(extract(NULL, &rep), DF_ECORRUPT);
  assert_true(rep.bytes <= 1000);
  unlink(archive_path);
  snprintf(archive_path, sizeof(archive_path), "%s/a.tgz", root);
}

static void
test_bad_target_and_archive(void **state)
{
  const struct w_entry e[] = {FILE_E("f", "x")};
  struct df_extract_report rep;
  char missing[160];
  char bad[8] = "junk";

  write_archive(archive_path, false, e, 1);
  snprintf(missing, sizeof(missing), "%s/missing", root);
  assert_int_equal(df_archive_extract_report(archive_path, missing, NULL, &rep), DF_ENOENT);
  assert_int_equal(df_archive_extract(missing, target, NULL, bad, sizeof(bad)), DF_ENOENT);
  assert_string_equal(bad, "");
  check_nothing_outside();
  /* A truncated archive: refused, nothing left behind. */
  assert_int_equal(truncate(archive_path, 40), 0);
  assert_int_equal(extract(NULL, &rep), DF_ECORRUPT);
  unlink(archive_path);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_good_archive_extracts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dotdot_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_absolute_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_symlink_escape_then_write_through, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_write_through_inside_symlink, setup, teardown),
    cmocka_unit_test_setup_teardown(test_replacing_a_symlink_does_not_follow_it, setup, teardown),
    cmocka_unit_test_setup_teardown(test_symlink_chain_escape, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hardlink_escapes_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_special_files_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
    cmocka_unit_test_setup_teardown(test_zip_bomb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_target_and_archive, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
