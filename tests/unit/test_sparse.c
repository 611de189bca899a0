/* core/sparse: images made by img2simg decode, in any piece size, to exactly
 * what simg2img makes of them; hand-built hostile or truncated images are
 * rejected with DF_ECORRUPT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/sparse.h"

/* ---- a sink that unsparses into memory ---- */

struct mem_image {
  uint8_t *data;
  uint64_t size;
  bool got_header;
  int fail_on_write; /* return this from write (0: succeed) */
  unsigned events;
};

static int
mem_header(void *ctx, const struct df_sparse_header *h)
{
  struct mem_image *m = ctx;

  m->size = df_sparse_image_size(h);
  m->got_header = true;
  /* Hostile headers claim huge images; their chunks must be refused before
   * any write reaches the (then absent) buffer. */
  if (m->size > 256u * 1024 * 1024)
    return 0;
  m->data = calloc(1, m->size ? m->size : 1);
  return m->data ? 0 : DF_ENOMEM;
}

static int
mem_write(void *ctx, uint64_t offset, const void *data, size_t len)
{
  struct mem_image *m = ctx;

  m->events++;
  if (m->fail_on_write)
    return m->fail_on_write;
  assert_true(m->got_header);
  assert_non_null(m->data);
  assert_true(offset + len <= m->size);
  memcpy(m->data + offset, data, len);
  return 0;
}

static int
mem_fill(void *ctx, uint64_t offset, uint64_t len, uint32_t pattern)
{
  struct mem_image *m = ctx;
  uint8_t p[4] = {pattern & 0xff, (pattern >> 8) & 0xff, (pattern >> 16) & 0xff, pattern >> 24};

  m->events++;
  assert_non_null(m->data);
  assert_true(offset + len <= m->size);
  assert_int_equal(len % 4, 0);
  for (uint64_t i = 0; i < len; i++)
    m->data[offset + i] = p[i % 4];
  return 0;
}

static int
mem_skip(void *ctx, uint64_t offset, uint64_t len)
{
  struct mem_image *m = ctx;

  m->events++;
  assert_true(offset + len <= m->size);
  return 0; /* the buffer is zeroed: a skipped range reads as zeros */
}

static const struct df_sparse_sink mem_sink = {
  .header = mem_header, .write = mem_write, .fill = mem_fill, .skip = mem_skip,
};

/* Decodes buf fed in pieces of `piece` bytes; returns feed's or finish's error. */
static int
decode(const uint8_t *buf, size_t len, size_t piece, struct mem_image *m)
{
  struct df_sparse_decoder d;
  int err;

  memset(m, 0, sizeof(*m));
  df_sparse_decoder_init(&d, &mem_sink, m);
  for (size_t off = 0; off < len; off += piece) {
    size_t n = len - off < piece ? len - off : piece;
    err = df_sparse_decoder_feed(&d, buf + off, n);
    if (err != 0)
      return err;
  }
  return df_sparse_decoder_finish(&d);
}

/* ---- helpers ---- */

static char tmpdir[] = "/tmp/df_test_sparse_XXXXXX";

static uint8_t *
read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;

  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc(n ? (size_t)n : 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void
write_file(const char *path, const uint8_t *data, size_t len)
{
  FILE *f = fopen(path, "wb");

  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
put32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static size_t
make_header(uint8_t *p, uint16_t major, uint16_t fhs, uint16_t chs, uint32_t blk,
            uint32_t blks, uint32_t chunks)
{
  put32(p, DF_SPARSE_MAGIC);
  put16(p + 4, major);
  put16(p + 6, 0);
  put16(p + 8, fhs);
  put16(p + 10, chs);
  put32(p + 12, blk);
  put32(p + 16, blks);
  put32(p + 20, chunks);
  put32(p + 24, 0);
  memset(p + 28, 0xee, fhs > 28 ? fhs - 28u : 0u);
  return fhs;
}

static size_t
make_chunk(uint8_t *p, uint16_t type, uint32_t blocks, uint32_t total, uint16_t chs)
{
  put16(p, type);
  put16(p + 2, 0);
  put32(p + 4, blocks);
  put32(p + 8, total);
  memset(p + 12, 0xee, chs > 12 ? chs - 12u : 0u);
  return chs;
}

/* Fills `raw` with random bytes, zeros, a repeated u32 and more random bytes,
 * the mix img2simg turns into RAW and FILL chunks. */
static void
make_raw(uint8_t *raw, size_t len)
{
  srand(12345);
  for (size_t i = 0; i < len; i++) {
    size_t part = i * 4 / len;
    if (part == 1)
      raw[i] = 0;
    else if (part == 2)
      raw[i] = (uint8_t[]){0xde, 0xad, 0xbe, 0xef}[i % 4];
    else
      raw[i] = (uint8_t)rand();
  }
}

static int
run(const char *cmd)
{
  int rc = system(cmd);
  return rc;
}

/* ---- tests ---- */

static void
check_img2simg_roundtrip(size_t raw_len)
{
  char raw_path[128], simg_path[128], out_path[128], cmd[1024];
  uint8_t *raw = malloc(raw_len), *simg, *expected;
  size_t simg_len, expected_len;
  const size_t pieces[] = {1, 7, 1024 * 1024};
  struct mem_image m;

  if (access("/usr/bin/img2simg", X_OK) != 0 && run("command -v img2simg >/dev/null") != 0)
    skip();
  assert_non_null(raw);
  make_raw(raw, raw_len);
  snprintf(raw_path, sizeof(raw_path), "%s/raw.img", tmpdir);
  snprintf(simg_path, sizeof(simg_path), "%s/sparse.img", tmpdir);
  snprintf(out_path, sizeof(out_path), "%s/unsparsed.img", tmpdir);
  write_file(raw_path, raw, raw_len);
  snprintf(cmd, sizeof(cmd), "img2simg %s %s >/dev/null 2>&1 && simg2img %s %s >/dev/null 2>&1",
           raw_path, simg_path, simg_path, out_path);
  assert_int_equal(run(cmd), 0);
  simg = read_file(simg_path, &simg_len);
  expected = read_file(out_path, &expected_len);
  assert_true(df_sparse_is_sparse(simg, simg_len));
  assert_true(simg_len < raw_len); /* the zero and pattern parts became FILLs */

  for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
    assert_int_equal(decode(simg, simg_len, pieces[i], &m), 0);
    assert_int_equal(m.size, expected_len);
    assert_memory_equal(m.data, expected, expected_len);
    free(m.data);
  }
  free(raw);
  free(simg);
  free(expected);
}

static void
test_img2simg_decodes_like_simg2img(void **state)
{
  (void)state;
  check_img2simg_roundtrip(4 * 1024 * 1024);
}

static void
test_img2simg_partial_last_block(void **state)
{
  (void)state;
  check_img2simg_roundtrip(3 * 1024 * 1024 + 1000);
}

static void
test_is_sparse(void **state)
{
  uint8_t h[28];

  (void)state;
  make_header(h, 1, 28, 12, 4096, 0, 0);
  assert_true(df_sparse_is_sparse(h, sizeof(h)));
  assert_true(df_sparse_is_sparse(h, 4));
  assert_false(df_sparse_is_sparse(h, 3));
  assert_false(df_sparse_is_sparse(NULL, 0));
  h[0] ^= 1;
  assert_false(df_sparse_is_sparse(h, sizeof(h)));
  assert_false(df_sparse_is_sparse("ANDROID!", 8));
}

/* Longer headers are skipped; DONT_CARE keeps the target, CRC32 adds no
 * blocks; a zero-block image is valid. */
static void
test_extended_headers_and_all_chunk_types(void **state)
{
  uint8_t img[512];
  size_t n = 0;
  struct mem_image m;

  (void)state;
  n += make_header(img, 1, 32, 16, 8, 4, 4);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_RAW, 1, 16 + 8, 16);
  memcpy(img + n, "ABCDEFGH", 8);
  n += 8;
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 2, 16, 16);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_FILL, 1, 16 + 4, 16);
  put32(img + n, 0x64636261); /* "abcd" */
  n += 4;
  n += make_chunk(img + n, DF_SPARSE_CHUNK_CRC32, 0, 16 + 4, 16);
  put32(img + n, 0);
  n += 4;
  for (size_t piece = 1; piece <= n; piece += 5) {
    assert_int_equal(decode(img, n, piece, &m), 0);
    assert_int_equal(m.size, 32);
    assert_memory_equal(m.data, "ABCDEFGH", 8);
    for (int i = 8; i < 24; i++)
      assert_int_equal(m.data[i], 0);
    assert_memory_equal(m.data + 24, "abcdabcd", 8);
    free(m.data);
  }

  n = make_header(img, 1, 28, 12, 4096, 0, 0);
  assert_int_equal(decode(img, n, 3, &m), 0);
  assert_int_equal(m.size, 0);
  free(m.data);
}

static void
expect_corrupt(const uint8_t *img, size_t n)
{
  struct mem_image m;
  const size_t pieces[] = {1, 7, 4096};

  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(decode(img, n, pieces[i], &m), DF_ECORRUPT);
    free(m.data);
  }
}

static void
test_hostile_file_headers(void **state)
{
  uint8_t img[256];
  size_t n;
  struct df_sparse_header h;

  (void)state;
  n = make_header(img, 1, 28, 12, 4096, 0, 0);
  img[3] ^= 0xff; /* bad magic */
  expect_corrupt(img, n);
  n = make_header(img, 2, 28, 12, 4096, 0, 0); /* major 2 */
  expect_corrupt(img, n);
  n = make_header(img, 1, 28, 12, 0, 0, 0); /* blk_sz 0 */
  expect_corrupt(img, n);
  n = make_header(img, 1, 28, 12, 4097, 0, 0); /* blk_sz not a multiple of 4 */
  expect_corrupt(img, n);
  make_header(img, 1, 27, 12, 4096, 0, 0); /* file header too small */
  expect_corrupt(img, 28);
  n = make_header(img, 1, 28, 11, 4096, 0, 0); /* chunk header too small */
  expect_corrupt(img, n);
  assert_int_equal(df_sparse_header_parse(img, 27, &h), DF_EINVAL);
}

static void
test_hostile_chunks(void **state)
{
  uint8_t img[256];
  size_t n;

  (void)state;
  /* RAW whose total_sz lies (claims 2 blocks of data, carries 1). */
  n = make_header(img, 1, 28, 12, 4, 2, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_RAW, 2, 12 + 4, 12);
  memset(img + n, 1, 4);
  expect_corrupt(img, n + 4);
  /* FILL with a data size other than 4. */
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_FILL, 1, 12 + 8, 12);
  memset(img + n, 1, 8);
  expect_corrupt(img, n + 8);
  /* DONT_CARE carrying data. */
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 1, 12 + 4, 12);
  expect_corrupt(img, n + 4);
  /* total_sz smaller than the chunk header. */
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 1, 4, 12);
  expect_corrupt(img, n);
  /* Unknown chunk type. */
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, 0xcac5, 1, 12, 12);
  expect_corrupt(img, n);
  /* Sum of chunk_sz below total_blks. */
  n = make_header(img, 1, 28, 12, 4, 3, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 2, 12, 12);
  expect_corrupt(img, n);
  /* Sum of chunk_sz above total_blks. */
  n = make_header(img, 1, 28, 12, 4, 1, 2);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 1, 12, 12);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 1, 12, 12);
  expect_corrupt(img, n);
  /* Huge values: 0xffffffff blocks of 0xfffffffc bytes would overflow 32
   * bits; the RAW size check works in 64 bits and sees the lie. */
  n = make_header(img, 1, 28, 12, 0xfffffffcu, 0xffffffffu, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_RAW, 0xffffffffu, 12 + 4, 12);
  expect_corrupt(img, n + 4);
  /* A RAW chunk whose size wraps to a small number in 32 bits:
   * 0x40000001 blocks * 4 = 0x100000004 -> 4 if computed in 32 bits. */
  n = make_header(img, 1, 28, 12, 4, 0x40000001u, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_RAW, 0x40000001u, 12 + 4, 12);
  memset(img + n, 1, 4);
  expect_corrupt(img, n + 4);
  /* Fewer chunks than total_chunks says (then the input ends). */
  n = make_header(img, 1, 28, 12, 4, 1, 2);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 1, 12, 12);
  expect_corrupt(img, n);
  /* Bytes after the last chunk. */
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_DONT_CARE, 1, 12, 12);
  img[n++] = 0;
  expect_corrupt(img, n);
  /* CRC32 chunk claiming blocks. */
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_CRC32, 1, 16, 12);
  expect_corrupt(img, n + 4);
}

static void
test_truncation_detected(void **state)
{
  char raw_path[128], simg_path[128], cmd[1024];
  uint8_t *raw = malloc(256 * 1024), *simg;
  size_t simg_len;
  struct mem_image m;

  (void)state;
  make_raw(raw, 256 * 1024);
  snprintf(raw_path, sizeof(raw_path), "%s/t_raw.img", tmpdir);
  snprintf(simg_path, sizeof(simg_path), "%s/t_sparse.img", tmpdir);
  write_file(raw_path, raw, 256 * 1024);
  snprintf(cmd, sizeof(cmd), "img2simg %s %s >/dev/null 2>&1", raw_path, simg_path);
  assert_int_equal(run(cmd), 0);
  simg = read_file(simg_path, &simg_len);
  assert_int_equal(decode(simg, simg_len, 4096, &m), 0);
  free(m.data);
  /* Every cut inside the header, a chunk header, RAW data or a FILL value. */
  const size_t cuts[] = {0, 1, 27, 28, 30, 40, 4000, simg_len / 2, simg_len - 5, simg_len - 1};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    assert_int_equal(decode(simg, cuts[i], 7, &m), DF_ECORRUPT);
    free(m.data);
  }
  free(raw);
  free(simg);
}

static void
test_sink_error_stops_and_sticks(void **state)
{
  uint8_t img[64];
  size_t n;
  struct df_sparse_decoder d;
  struct mem_image m = {0};

  (void)state;
  n = make_header(img, 1, 28, 12, 4, 1, 1);
  n += make_chunk(img + n, DF_SPARSE_CHUNK_RAW, 1, 16, 12);
  memcpy(img + n, "wxyz", 4);
  n += 4;
  m.fail_on_write = DF_ENOSPC;
  df_sparse_decoder_init(&d, &mem_sink, &m);
  /* header callback allocates; make it run first */
  assert_int_equal(df_sparse_decoder_feed(&d, img, n), DF_ENOSPC);
  assert_int_equal(m.events, 1);
  assert_int_equal(df_sparse_decoder_feed(&d, img, 1), DF_ENOSPC);
  assert_int_equal(df_sparse_decoder_finish(&d), DF_ENOSPC);
  assert_int_equal(m.events, 1);
  free(m.data);
}

static int
setup(void **state)
{
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
  char cmd[256];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  return run(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_img2simg_decodes_like_simg2img),
    cmocka_unit_test(test_img2simg_partial_last_block),
    cmocka_unit_test(test_is_sparse),
    cmocka_unit_test(test_extended_headers_and_all_chunk_types),
    cmocka_unit_test(test_hostile_file_headers),
    cmocka_unit_test(test_hostile_chunks),
    cmocka_unit_test(test_truncation_detected),
    cmocka_unit_test(test_sink_error_stops_and_sticks),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
