/* Unit tests of image planning and resparsing: every piece is a valid
 * sparse file no bigger than the limit, and the pieces decoded in order give
 * back the image (checked with core/sparse's decoder and simg2img). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/sparse.h"
#include "plugins/fastboot/image.h"
#include "tests/unit/file_sink.h"

static char dir[128];

static int
setup(void **state)
{
  snprintf(dir, sizeof(dir), "/tmp/df-image-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return 0;
}

static int
teardown(void **state)
{
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd);
}

static void
run(const char *fmt, ...)
{
  char cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  assert_int_equal(system(cmd), 0);
}

/* Plans path for limit, checks each piece, and writes what the phone would
 * hold into out_path. Returns the number of pieces. */
static long
flash_into(const char *path, uint64_t limit, const char *out_path, uint64_t expanded)
{
  struct df_image *img;
  struct out_file o;
  long pieces;
  uint8_t *buf = malloc(1 << 20);

  assert_int_equal(df_image_open(path, &img), DF_OK);
  pieces = df_image_plan(img, limit);
  assert_true(pieces >= 1);
  o.fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true(o.fd >= 0);
  assert_int_equal(ftruncate(o.fd, (off_t)expanded), 0);
  for (long i = 0; i < pieces; i++) {
    struct df_fastboot_source src;
    struct df_sparse_decoder d;
    uint64_t got = 0;
    assert_int_equal(df_image_piece_source(img, (size_t)i, &src), DF_OK);
    assert_true(src.size <= limit);
    df_sparse_decoder_init(&d, &file_sink, &o);
    while (got < src.size) {
      long n = src.read(src.ctx, buf, 1 << 20);
      assert_true(n > 0);
      if (pieces == 1 && !df_image_is_sparse(img)) {
        assert_int_equal(pwrite(o.fd, buf, (size_t)n, (off_t)got), n);
      } else {
        assert_int_equal(df_sparse_decoder_feed(&d, buf, (size_t)n), 0);
      }
      got += (uint64_t)n;
    }
    if (pieces > 1 || df_image_is_sparse(img)) {
      assert_int_equal(df_sparse_decoder_finish(&d), 0);
      /* every piece describes the whole image */
      assert_int_equal(df_sparse_image_size(df_sparse_decoder_header(&d)),
                       (expanded + 4095) / 4096 * 4096);
    }
  }
  close(o.fd);
  df_image_free(img);
  free(buf);
  return pieces;
}

static void
test_raw_image_cut_into_pieces(void **state)
{
  char raw[256], out[256];

  snprintf(raw, sizeof(raw), "%s/raw.img", dir);
  snprintf(out, sizeof(out), "%s/out.img", dir);
  run("head -c 10485760 /dev/urandom > '%s'", raw);
  /* fits: one download of the file as it is */
  assert_int_equal(flash_into(raw, 16 << 20, out, 10485760), 1);
  run("cmp -s '%s' '%s'", raw, out);
  /* does not fit: 1 MiB pieces */
  long pieces = flash_into(raw, 1 << 20, out, 10485760);
  assert_true(pieces >= 10 && pieces <= 12);
  run("cmp -s '%s' '%s'", raw, out);
}

static void
test_raw_image_with_partial_last_block(void **state)
{
  char raw[256], out[256];

  snprintf(raw, sizeof(raw), "%s/odd.img", dir);
  snprintf(out, sizeof(out), "%s/odd.out", dir);
  run("head -c 3000123 /dev/urandom > '%s'", raw);
  assert_true(flash_into(raw, 512 << 10, out, 3000123) > 1);
  /* the phone gets the image padded with zeros to a whole block */
  run("cmp -s -n 3000123 '%s' '%s'", raw, out);
}

static void
test_sparse_image_regrouped(void **state)
{
  char raw[256], simg[256], expect[256], out[256];

  snprintf(raw, sizeof(raw), "%s/src.img", dir);
  snprintf(simg, sizeof(simg), "%s/src.simg", dir);
  snprintf(expect, sizeof(expect), "%s/expect.img", dir);
  snprintf(out, sizeof(out), "%s/sparse.out", dir);
  /* random, zeros, a repeated pattern, random again: RAW, FILL/DONT_CARE */
  run("(head -c 3145728 /dev/urandom; head -c 4194304 /dev/zero; "
      "yes ABCD | tr -d '\\n' | head -c 2097152; head -c 2097152 /dev/urandom) > '%s'", raw);
  run("img2simg '%s' '%s' && simg2img '%s' '%s'", raw, simg, simg, expect);
  long pieces = flash_into(simg, 1 << 20, out, 11534336);
  assert_true(pieces > 4);
  run("cmp -s '%s' '%s'", expect, out);
}

static void
test_refuses_corrupt_sparse_and_tiny_limit(void **state)
{
  char path[256];
  struct df_image *img;

  snprintf(path, sizeof(path), "%s/bad.simg", dir);
  /* a sparse header whose chunks are missing */
  {
    /* magic, v1.0, 28/12, 4096-byte blocks, 16 blocks, 2 chunks, no checksum */
    static const uint8_t header[28] = {0x3a, 0xff, 0x26, 0xed, 1, 0, 0, 0, 28, 0, 12, 0,
                                       0, 0x10, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(header, 1, sizeof(header), f), sizeof(header));
    fclose(f);
  }
  assert_int_equal(df_image_open(path, &img), DF_ECORRUPT);

  snprintf(path, sizeof(path), "%s/small.img", dir);
  run("head -c 100000 /dev/urandom > '%s'", path);
  assert_int_equal(df_image_open(path, &img), DF_OK);
  assert_int_equal(df_image_plan(img, 1000), DF_ETOOBIG);
  df_image_free(img);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_raw_image_cut_into_pieces, setup, teardown),
    cmocka_unit_test_setup_teardown(test_raw_image_with_partial_last_block, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sparse_image_regrouped, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refuses_corrupt_sparse_and_tiny_limit, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
