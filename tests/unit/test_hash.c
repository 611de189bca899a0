/* Unit tests of core/hash: known vectors, chunked updates, whole files
 * against coreutils' sha256sum / sha1sum / md5sum, the thread-pool variants
 * and the back-pressured stream hasher. */
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
#include "core/hash.h"
#include "core/loop.h"

struct vector {
  enum df_hash_algo algo;
  const char *input;   /* NULL: one million 'a' */
  const char *hex;
};

/* FIPS 180-2 and RFC 1321 test vectors. */
static const struct vector vectors[] = {
  {DF_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
  {DF_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
  {DF_HASH_SHA256, NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  {DF_HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
  {DF_HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
  {DF_HASH_SHA1, NULL, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
  {DF_HASH_MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
  {DF_HASH_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
  {DF_HASH_MD5, NULL, "7707d6ae4e027c70eea2a935c2296f21"},
};

static const enum df_hash_algo all_algos[] = {DF_HASH_SHA256, DF_HASH_SHA1, DF_HASH_MD5};
static const char *const tools[] = {"sha256sum", "sha1sum", "md5sum"};

/* A temp dir with one generated file, shared by the file tests. */
static char tmpdir[64];
static char datafile[128];
static size_t datafile_size;

static void
fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
  uint32_t x = seed;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (unsigned char)(x >> 16);
  }
}

static int
setup_files(void **state)
{
  unsigned char *buf;
  FILE *f;

  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-test-hash-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  snprintf(datafile, sizeof(datafile), "%s/data.bin", tmpdir);
  /* Over three read blocks, and not a multiple of any block size. */
  datafile_size = (3u << 20) + 12345;
  buf = malloc(datafile_size);
  if (buf == NULL) return -1;
  fill_pattern(buf, datafile_size, 7);
  f = fopen(datafile, "wb");
  if (f == NULL || fwrite(buf, 1, datafile_size, f) != datafile_size || fclose(f) != 0) {
    free(buf);
    return -1;
  }
  free(buf);
  return 0;
}

static int
teardown_files(void **state)
{
  char cmd[128];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Runs "tool file" and keeps the first word of its output. */
static void
tool_digest(const char *tool, const char *path, char *hex, size_t hexlen)
{
  char cmd[512];
  FILE *p;

  snprintf(cmd, sizeof(cmd), "%s '%s'", tool, path);
  p = popen(cmd, "r");
  assert_non_null(p);
  assert_int_equal(fscanf(p, "%64s", hex), 1);
  assert_int_equal(pclose(p), 0);
  assert_true(strlen(hex) < hexlen);
}

static void
digest_of(enum df_hash_algo algo, const struct vector *v, char *hex)
{
  if (v->input != NULL) {
    assert_int_equal(df_hash_buffer_hex(algo, v->input, strlen(v->input), hex, DF_HASH_HEX_MAX), 0);
  } else {
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    assert_int_equal(df_hash_buffer_hex(algo, a, 1000000, hex, DF_HASH_HEX_MAX), 0);
    free(a);
  }
}

static void
test_known_vectors(void **state)
{
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    char hex[DF_HASH_HEX_MAX];

    digest_of(vectors[i].algo, &vectors[i], hex);
    assert_string_equal(hex, vectors[i].hex);
    assert_int_equal(strlen(hex), df_hash_hex_len(vectors[i].algo));
  }
}

/* The million 'a' fed as 1000 updates of 1000 bytes, the streaming way. */
static void
test_streaming_million_a(void **state)
{
  char chunk[1000];

  memset(chunk, 'a', sizeof(chunk));
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    struct df_hash *h;
    char hex[DF_HASH_HEX_MAX];

    if (vectors[i].input != NULL) continue;
    assert_int_equal(df_hash_new(vectors[i].algo, &h), 0);
    for (int k = 0; k < 1000; k++) df_hash_update(h, chunk, sizeof(chunk));
    assert_int_equal(df_hash_final_hex(h, hex, sizeof(hex)), 0);
    assert_string_equal(hex, vectors[i].hex);
    df_hash_free(h);
  }
}

static void
test_chunked_equals_one_shot(void **state)
{
  static const size_t chunk_sizes[] = {1, 3, 55, 56, 63, 64, 65, 127, 4096, 70001};
  size_t n = 300000;
  unsigned char *data = malloc(n);

  assert_non_null(data);
  fill_pattern(data, n, 42);
  for (size_t a = 0; a < 3; a++) {
    char one[DF_HASH_HEX_MAX];

    assert_int_equal(df_hash_buffer_hex(all_algos[a], data, n, one, sizeof(one)), 0);
    for (size_t c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
      struct df_hash *h;
      char hex[DF_HASH_HEX_MAX];

      assert_int_equal(df_hash_new(all_algos[a], &h), 0);
      for (size_t off = 0; off < n; off += chunk_sizes[c]) {
        size_t len = n - off < chunk_sizes[c] ? n - off : chunk_sizes[c];
        df_hash_update(h, data + off, len);
      }
      assert_int_equal(df_hash_final_hex(h, hex, sizeof(hex)), 0);
      assert_string_equal(hex, one);
      df_hash_free(h);
    }
  }
  free(data);
}

static void
test_final_rules(void **state)
{
  struct df_hash *h;
  char small[64]; /* one short of a SHA-256 hex and its NUL */
  char hex[DF_HASH_HEX_MAX];

  assert_int_equal(df_hash_new(DF_HASH_SHA256, &h), 0);
  df_hash_update(h, "abc", 3);
  assert_int_equal(df_hash_final_hex(h, small, sizeof(small)), DF_EINVAL);
  /* The refused call left the hasher usable. */
  assert_int_equal(df_hash_final_hex(h, hex, sizeof(hex)), 0);
  assert_string_equal(hex, vectors[1].hex);
  /* Finished: a second final is refused, updates are ignored. */
  df_hash_update(h, "more", 4);
  assert_int_equal(df_hash_final_hex(h, hex, sizeof(hex)), DF_EINVAL);
  df_hash_free(h);
  /* SHA-1 fits in 41 bytes exactly. */
  assert_int_equal(df_hash_new(DF_HASH_SHA1, &h), 0);
  assert_int_equal(df_hash_final_hex(h, hex, 41), 0);
  assert_string_equal(hex, vectors[3].hex);
  df_hash_free(h);
  df_hash_free(NULL);
  assert_int_equal(df_hash_new((enum df_hash_algo)99, &h), DF_EINVAL);
}

static void
test_names(void **state)
{
  enum df_hash_algo a;

  assert_int_equal(df_hash_algo_parse("sha256", &a), 0);
  assert_int_equal(a, DF_HASH_SHA256);
  assert_int_equal(df_hash_algo_parse("SHA1", &a), 0);
  assert_int_equal(a, DF_HASH_SHA1);
  assert_int_equal(df_hash_algo_parse("md5", &a), 0);
  assert_int_equal(a, DF_HASH_MD5);
  assert_int_equal(df_hash_algo_parse("sha-256", &a), 0);
  assert_int_equal(a, DF_HASH_SHA256);
  assert_int_equal(df_hash_algo_parse("sha512", &a), DF_EINVAL);
  assert_int_equal(df_hash_algo_parse("", &a), DF_EINVAL);
  assert_int_equal(df_hash_algo_parse(NULL, &a), DF_EINVAL);
  assert_int_equal(df_hash_hex_len(DF_HASH_SHA256), 64);
  assert_int_equal(df_hash_hex_len(DF_HASH_SHA1), 40);
  assert_int_equal(df_hash_hex_len(DF_HASH_MD5), 32);
  assert_string_equal(df_hash_algo_name(DF_HASH_SHA1), "sha1");
}

static void
test_file_sync_matches_coreutils(void **state)
{
  for (size_t a = 0; a < 3; a++) {
    char ours[DF_HASH_HEX_MAX], theirs[DF_HASH_HEX_MAX];

    assert_int_equal(df_hash_file_sync(datafile, all_algos[a], ours, sizeof(ours)), 0);
    tool_digest(tools[a], datafile, theirs, sizeof(theirs));
    assert_string_equal(ours, theirs);
  }
}

static void
test_file_sync_errors(void **state)
{
  char hex[DF_HASH_HEX_MAX], missing[160], empty[160];
  FILE *f;

  snprintf(missing, sizeof(missing), "%s/no-such-file", tmpdir);
  assert_int_equal(df_hash_file_sync(missing, DF_HASH_SHA256, hex, sizeof(hex)), DF_ENOENT);
  /* A directory opens but cannot be read. */
  assert_int_equal(df_hash_file_sync(tmpdir, DF_HASH_SHA256, hex, sizeof(hex)), DF_EIO);
  assert_int_equal(df_hash_file_sync(datafile, DF_HASH_SHA256, hex, 10), DF_EINVAL);
  /* An empty file is the empty string's digest. */
  snprintf(empty, sizeof(empty), "%s/empty", tmpdir);
  f = fopen(empty, "wb");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(df_hash_file_sync(empty, DF_HASH_MD5, hex, sizeof(hex)), 0);
  assert_string_equal(hex, vectors[6].hex);
  unlink(empty);
}

struct file_result {
  int calls;
  int status;
  char hex[DF_HASH_HEX_MAX];
};

static void
on_file_hashed(void *data, int status, const char *hex)
{
  struct file_result *r = data;

  r->calls++;
  r->status = status;
  if (hex != NULL) snprintf(r->hex, sizeof(r->hex), "%s", hex);
  else r->hex[0] = '\0';
}

static void
test_file_async(void **state)
{
  struct df_loop loop;
  struct file_result results[3], missing;
  char missing_path[160];

  memset(results, 0, sizeof(results));
  memset(&missing, 0, sizeof(missing));
  snprintf(missing_path, sizeof(missing_path), "%s/no-such-file", tmpdir);
  assert_int_equal(df_loop_init(&loop), 0);
  for (size_t a = 0; a < 3; a++) {
    assert_int_equal(df_hash_file(&loop, datafile, all_algos[a], on_file_hashed, &results[a]), 0);
  }
  assert_int_equal(df_hash_file(&loop, missing_path, DF_HASH_SHA256, on_file_hashed, &missing), 0);
  /* Errors that come back at once never reach the callback. */
  assert_int_equal(df_hash_file(&loop, NULL, DF_HASH_SHA256, on_file_hashed, &missing), DF_EINVAL);
  assert_int_equal(df_hash_file(&loop, datafile, (enum df_hash_algo)7, on_file_hashed, &missing),
                   DF_EINVAL);
  /* Nothing runs before the loop does. */
  assert_int_equal(results[0].calls, 0);
  assert_int_equal(df_loop_run(&loop), 0);
  for (size_t a = 0; a < 3; a++) {
    char theirs[DF_HASH_HEX_MAX];

    assert_int_equal(results[a].calls, 1);
    assert_int_equal(results[a].status, 0);
    tool_digest(tools[a], datafile, theirs, sizeof(theirs));
    assert_string_equal(results[a].hex, theirs);
  }
  assert_int_equal(missing.calls, 1);
  assert_int_equal(missing.status, DF_ENOENT);
  assert_string_equal(missing.hex, "");
  assert_int_equal(df_loop_close(&loop), 0);
}

/* ---- the stream hasher ---- */

struct feeder {
  struct df_hash_stream *stream;
  const unsigned char *data;
  size_t size;
  size_t off;
  size_t chunk;
  size_t max_queued;
  size_t max_seen;     /* most bytes ever queued */
  int full_replies;    /* pushes that answered 1 */
  int busy_replies;    /* pushes refused with DF_EBUSY */
  int drains;
  int done_calls;
  int done_status;
  bool finish_returned;
  bool done_before_finish_returned;
  char hex[DF_HASH_HEX_MAX];
};

static void
feed(struct feeder *f)
{
  while (f->off < f->size) {
    size_t len = f->size - f->off < f->chunk ? f->size - f->off : f->chunk;
    int r = df_hash_stream_push(f->stream, f->data + f->off, len);

    assert_true(r == 0 || r == 1);
    f->off += len;
    if (df_hash_stream_queued(f->stream) > f->max_seen) {
      f->max_seen = df_hash_stream_queued(f->stream);
    }
    if (r == 1) {
      f->full_replies++;
      /* Told to wait: another push is refused and not taken. */
      if (f->busy_replies == 0) {
        assert_int_equal(df_hash_stream_push(f->stream, f->data, 1), DF_EBUSY);
        f->busy_replies++;
      }
      return; /* on_drain calls us again */
    }
  }
  assert_int_equal(df_hash_stream_total(f->stream), f->size);
  assert_int_equal(df_hash_stream_finish(f->stream), 0);
  f->finish_returned = true;
}

static void
on_stream_drain(void *data)
{
  struct feeder *f = data;

  f->drains++;
  assert_true(df_hash_stream_queued(f->stream) <= f->max_queued / 2);
  feed(f);
}

static void
on_stream_done(void *data, int status, const char *hex)
{
  struct feeder *f = data;

  f->done_calls++;
  f->done_status = status;
  if (!f->finish_returned) f->done_before_finish_returned = true;
  snprintf(f->hex, sizeof(f->hex), "%s", hex != NULL ? hex : "");
}

static const struct df_hash_stream_callbacks stream_cbs = {
  .on_drain = on_stream_drain,
  .on_done = on_stream_done,
};

static void
run_stream(enum df_hash_algo algo, const unsigned char *data, size_t size, size_t chunk,
           size_t max_queued, struct feeder *f)
{
  struct df_loop loop;

  memset(f, 0, sizeof(*f));
  f->data = data;
  f->size = size;
  f->chunk = chunk;
  f->max_queued = max_queued;
  assert_int_equal(df_loop_init(&loop), 0);
  assert_int_equal(df_hash_stream_new(&loop, algo, max_queued, &stream_cbs, f, &f->stream), 0);
  feed(f);
  assert_int_equal(df_loop_run(&loop), 0);
  assert_int_equal(df_loop_close(&loop), 0);
}

static void
test_stream_matches_one_shot_under_backpressure(void **state)
{
  size_t size = (8u << 20) + 333;
  size_t chunk = 64u << 10;
  size_t max_queued = 256u << 10;
  unsigned char *data = malloc(size);
  struct feeder f;

  assert_non_null(data);
  fill_pattern(data, size, 99);
  for (size_t a = 0; a < 3; a++) {
    char one[DF_HASH_HEX_MAX];

    assert_int_equal(df_hash_buffer_hex(all_algos[a], data, size, one, sizeof(one)), 0);
    run_stream(all_algos[a], data, size, chunk, max_queued, &f);
    assert_int_equal(f.done_calls, 1);
    assert_int_equal(f.done_status, 0);
    assert_string_equal(f.hex, one);
    assert_false(f.done_before_finish_returned);
    /* The queue filled (8 MiB through a 256 KiB queue), the feeder waited,
     * and memory stayed within the bound plus one chunk. */
    assert_true(f.full_replies > 0);
    assert_int_equal(f.busy_replies, 1);
    assert_int_equal(f.drains, f.full_replies);
    assert_true(f.max_seen <= max_queued + chunk);
  }
  free(data);
}

static void
test_stream_odd_chunks_and_empty(void **state)
{
  size_t size = 1000003;
  unsigned char *data = malloc(size);
  struct feeder f;
  char one[DF_HASH_HEX_MAX];

  assert_non_null(data);
  fill_pattern(data, size, 5);
  assert_int_equal(df_hash_buffer_hex(DF_HASH_SHA256, data, size, one, sizeof(one)), 0);
  /* A chunk larger than the whole queue is still taken (then wait). */
  run_stream(DF_HASH_SHA256, data, size, 300007, 100000, &f);
  assert_int_equal(f.done_calls, 1);
  assert_string_equal(f.hex, one);
  run_stream(DF_HASH_SHA256, data, size, 777, 0, &f);
  assert_int_equal(f.done_calls, 1);
  assert_string_equal(f.hex, one);
  /* Nothing pushed: the empty string's digest, still from the loop. */
  run_stream(DF_HASH_SHA256, data, 0, 1, 0, &f);
  assert_int_equal(f.done_calls, 1);
  assert_false(f.done_before_finish_returned);
  assert_string_equal(f.hex, vectors[0].hex);
  free(data);
}

static void
never_called_done(void *data, int status, const char *hex)
{
  fail_msg("on_done after abort");
}

static const struct df_hash_stream_callbacks abort_cbs = {
  .on_drain = NULL,
  .on_done = never_called_done,
};

static void
test_stream_abort_and_misuse(void **state)
{
  struct df_loop loop;
  struct df_hash_stream *s;
  size_t size = 4u << 20;
  unsigned char *data = calloc(1, size);

  assert_non_null(data);
  assert_int_equal(df_loop_init(&loop), 0);
  /* Abort while a batch is on the thread pool: freed later, no callback. */
  assert_int_equal(df_hash_stream_new(&loop, DF_HASH_SHA1, 0, &abort_cbs, NULL, &s), 0);
  assert_int_equal(df_hash_stream_push(s, data, size), 0);
  /* 8 MiB queued: the default bound is reached. */
  assert_int_equal(df_hash_stream_push(s, data, size), 1);
  assert_int_equal(df_hash_stream_push(s, data, 1), DF_EBUSY);
  df_hash_stream_abort(s);
  /* Abort with nothing in flight. */
  assert_int_equal(df_hash_stream_new(&loop, DF_HASH_MD5, 0, &abort_cbs, NULL, &s), 0);
  df_hash_stream_abort(s);
  assert_int_equal(df_loop_run(&loop), 0);
  assert_int_equal(df_hash_stream_new(&loop, (enum df_hash_algo)9, 0, &abort_cbs, NULL, &s),
                   DF_EINVAL);
  assert_int_equal(df_hash_stream_new(&loop, DF_HASH_MD5, 0, NULL, NULL, &s), DF_EINVAL);
  assert_int_equal(df_loop_close(&loop), 0);
  free(data);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_known_vectors),
    cmocka_unit_test(test_streaming_million_a),
    cmocka_unit_test(test_chunked_equals_one_shot),
    cmocka_unit_test(test_final_rules),
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_file_sync_matches_coreutils),
    cmocka_unit_test(test_file_sync_errors),
    cmocka_unit_test(test_file_async),
    cmocka_unit_test(test_stream_matches_one_shot_under_backpressure),
    cmocka_unit_test(test_stream_odd_chunks_and_empty),
    cmocka_unit_test(test_stream_abort_and_misuse),
  };
  return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
