/* Unit tests of droidfix-sim's ADB device side, the pure parts: packet
 * headers, checksums, negotiation, the banner, service names, shell
 * protocol framing, sync messages, and auth (the 524-byte public key
 * struct, signature checks, the adb_keys file) against a key made here in
 * adbkey's format. Links df_sim_lib. */
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
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/error.h"
#include "tests/sim/adbd_internal.h"
#include "tests/sim/adbd_packet.h"

/* ---- packets ---- */

static void
test_header_roundtrip(void **state)
{
  uint8_t hdr[24];
  struct df_sim_adbd_msg m;
  const char payload[] = "host::features=shell_v2";

  (void)state;
  df_sim_adbd_header_write(hdr, DF_SIM_ADBD_A_CNXN, 0x01000001, 0x100000, payload,
                           sizeof(payload), true);
  /* "CNXN" in little-endian order on the wire. */
  assert_memory_equal(hdr, "CNXN", 4);
  assert_int_equal(df_sim_adbd_header_parse(hdr, DF_SIM_ADBD_MAX_PAYLOAD, &m), 0);
  assert_int_equal(m.command, DF_SIM_ADBD_A_CNXN);
  assert_int_equal(m.arg0, 0x01000001);
  assert_int_equal(m.arg1, 0x100000);
  assert_int_equal(m.data_length, sizeof(payload));
  assert_int_equal(m.data_check, df_sim_adbd_checksum(payload, sizeof(payload)));
  assert_int_equal(m.magic, DF_SIM_ADBD_A_CNXN ^ 0xffffffffu);

  df_sim_adbd_header_write(hdr, DF_SIM_ADBD_A_WRTE, 1, 2, payload, 5, false);
  assert_int_equal(df_sim_adbd_header_parse(hdr, 4096, &m), 0);
  assert_int_equal(m.data_check, 0);
}

static void
test_header_rejects(void **state)
{
  uint8_t hdr[24];
  struct df_sim_adbd_msg m;

  (void)state;
  df_sim_adbd_header_write(hdr, DF_SIM_ADBD_A_OPEN, 1, 0, NULL, 0, true);
  hdr[20] ^= 1; /* magic no longer command ^ 0xffffffff */
  assert_int_equal(df_sim_adbd_header_parse(hdr, 4096, &m), DF_EPROTO);

  df_sim_adbd_header_write(hdr, DF_SIM_ADBD_A_WRTE, 1, 2, NULL, 0, false);
  df_sim_adbd_put_u32(hdr + 12, 4097);
  assert_int_equal(df_sim_adbd_header_parse(hdr, 4096, &m), DF_ETOOBIG);
  assert_int_equal(df_sim_adbd_header_parse(hdr, 4097, &m), 0);
  df_sim_adbd_put_u32(hdr + 12, 0xffffffffu);
  assert_int_equal(df_sim_adbd_header_parse(hdr, DF_SIM_ADBD_MAX_PAYLOAD, &m), DF_ETOOBIG);
}

static void
test_checksum_and_commands(void **state)
{
  const uint8_t bytes[] = {0xff, 0xff, 0x01, 0x00};

  (void)state;
  assert_int_equal(df_sim_adbd_checksum(bytes, sizeof(bytes)), 0x1ff);
  assert_int_equal(df_sim_adbd_checksum("", 0), 0);
  assert_true(df_sim_adbd_peer_needs_checksum(0x01000000));
  assert_false(df_sim_adbd_peer_needs_checksum(0x01000001));
  assert_true(df_sim_adbd_command_known(DF_SIM_ADBD_A_OKAY));
  assert_true(df_sim_adbd_command_known(DF_SIM_ADBD_A_AUTH));
  assert_false(df_sim_adbd_command_known(0x41414141));
  assert_false(df_sim_adbd_command_known(DF_SIM_ADBD_A_STLS));
}

static void
test_negotiate(void **state)
{
  uint32_t v, max;

  (void)state;
  df_sim_adbd_negotiate(0x01000001, 0x100000, &v, &max);
  assert_int_equal(v, 0x01000001);
  assert_int_equal(max, 0x100000);
  df_sim_adbd_negotiate(0x01000000, 4096, &v, &max); /* Android <= 6 era host */
  assert_int_equal(v, 0x01000000);
  assert_int_equal(max, 4096);
  df_sim_adbd_negotiate(0x01000000, 256 * 1024, &v, &max);
  assert_int_equal(max, 256 * 1024);
  df_sim_adbd_negotiate(0x02000000, 8 * 1024 * 1024, &v, &max); /* a future host */
  assert_int_equal(v, 0x01000001);
  assert_int_equal(max, 1024 * 1024);
  df_sim_adbd_negotiate(0x01000001, 16, &v, &max);
  assert_int_equal(max, 4096);
}

static void
test_banner(void **state)
{
  char out[4200];
  char big[4100];

  (void)state;
  assert_int_equal(df_sim_adbd_banner(out, sizeof(out), "device", "vermeer", "23113RKC6C",
                                      "vermeer", "shell_v2,cmd"),
                   (int)strlen("device::ro.product.name=vermeer;ro.product.model=23113RKC6C;"
                               "ro.product.device=vermeer;features=shell_v2,cmd"));
  assert_string_equal(out, "device::ro.product.name=vermeer;ro.product.model=23113RKC6C;"
                           "ro.product.device=vermeer;features=shell_v2,cmd");
  df_sim_adbd_banner(out, sizeof(out), "recovery", "a", "b", "c", DF_SIM_ADBD_FEATURES);
  assert_true(strncmp(out, "recovery::", 10) == 0);
  assert_non_null(strstr(out, ";features=shell_v2,cmd,stat_v2,ls_v2,"));
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(df_sim_adbd_banner(out, sizeof(out), "device", big, "m", "d", "f"),
                   DF_ETOOBIG);
  assert_int_equal(df_sim_adbd_banner(out, 20, "device", "n", "m", "d", "f"), DF_ETOOBIG);
}

static void
test_service_parse(void **state)
{
  struct df_sim_adbd_service s;

  (void)state;
  /* What adb 29 sends for `adb shell echo hi` (TESTING.md). */
  df_sim_adbd_service_parse("shell,v2,TERM=xterm,raw:echo hi", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_SHELL);
  assert_true(s.shell_protocol);
  assert_false(s.pty);
  assert_string_equal(s.arg, "echo hi");

  df_sim_adbd_service_parse("shell:ls -l /sdcard", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_SHELL);
  assert_false(s.shell_protocol);
  assert_false(s.pty);
  assert_string_equal(s.arg, "ls -l /sdcard");

  df_sim_adbd_service_parse("shell:", &s); /* interactive: PTY by default */
  assert_true(s.pty);
  assert_string_equal(s.arg, "");
  df_sim_adbd_service_parse("shell,v2,raw:", &s);
  assert_false(s.pty);
  df_sim_adbd_service_parse("shell,v2,pty:getprop", &s);
  assert_true(s.pty);
  assert_string_equal(s.arg, "getprop");
  df_sim_adbd_service_parse("shell,future_arg:a:b", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_SHELL);
  assert_string_equal(s.arg, "a:b");
  df_sim_adbd_service_parse("shell", &s); /* no ':' */
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_UNKNOWN);

  df_sim_adbd_service_parse("exec:cat '/sdcard/a b'", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_EXEC);
  assert_string_equal(s.arg, "cat '/sdcard/a b'");
  df_sim_adbd_service_parse("sync:", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_SYNC);
  df_sim_adbd_service_parse("reboot:bootloader", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_REBOOT);
  assert_string_equal(s.arg, "bootloader");
  df_sim_adbd_service_parse("reboot:", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_REBOOT);
  assert_string_equal(s.arg, "");
  df_sim_adbd_service_parse("root:", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_ROOT);
  df_sim_adbd_service_parse("unroot:", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_UNROOT);
  df_sim_adbd_service_parse("tcpip:5555", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_UNKNOWN);
  df_sim_adbd_service_parse("no-such-service", &s);
  assert_int_equal(s.kind, DF_SIM_ADBD_SVC_UNKNOWN);
}

/* ---- shell protocol ---- */

struct pieces {
  char text[256];
  size_t len;
  int ends[8];
  int nends;
  int close_stdin;
};

static void
collect_piece(void *ctx, uint8_t id, const uint8_t *data, size_t len, bool end)
{
  struct pieces *p = ctx;

  if (id == DF_SIM_ADBD_SHELL_STDIN) {
    memcpy(p->text + p->len, data, len);
    p->len += len;
  }
  if (id == DF_SIM_ADBD_SHELL_CLOSE_STDIN) {
    assert_int_equal(len, 0);
    p->close_stdin++;
  }
  if (end)
    p->ends[p->nends++] = id;
}

static void
test_shell_framing(void **state)
{
  uint8_t stream[64];
  size_t n = 0;
  struct df_sim_adbd_shell_reader r = {0};
  struct pieces p = {0};

  (void)state;
  df_sim_adbd_shell_header(stream + n, DF_SIM_ADBD_SHELL_STDIN, 6);
  n += 5;
  memcpy(stream + n, "ls -l\n", 6);
  n += 6;
  df_sim_adbd_shell_header(stream + n, DF_SIM_ADBD_SHELL_WINDOW_SIZE, 3);
  n += 5;
  memcpy(stream + n, "1x2", 3);
  n += 3;
  df_sim_adbd_shell_header(stream + n, DF_SIM_ADBD_SHELL_CLOSE_STDIN, 0);
  n += 5;
  assert_int_equal(stream[0], 0);
  assert_int_equal(df_sim_adbd_get_u32(stream + 1), 6);
  /* One byte at a time: packet boundaries are independent of WRTEs. */
  for (size_t i = 0; i < n; i++)
    df_sim_adbd_shell_feed(&r, stream + i, 1, collect_piece, &p);
  assert_int_equal(p.len, 6);
  assert_memory_equal(p.text, "ls -l\n", 6);
  assert_int_equal(p.nends, 3);
  assert_int_equal(p.ends[0], DF_SIM_ADBD_SHELL_STDIN);
  assert_int_equal(p.ends[1], DF_SIM_ADBD_SHELL_WINDOW_SIZE);
  assert_int_equal(p.ends[2], DF_SIM_ADBD_SHELL_CLOSE_STDIN);
  assert_int_equal(p.close_stdin, 1);

  /* All at once gives the same. */
  memset(&p, 0, sizeof(p));
  memset(&r, 0, sizeof(r));
  df_sim_adbd_shell_feed(&r, stream, n, collect_piece, &p);
  assert_int_equal(p.len, 6);
  assert_int_equal(p.nends, 3);
}

/* ---- sync ---- */

static void
test_sync_messages(void **state)
{
  uint8_t m[80];
  struct df_sim_adbd_sync_stat st = {
    .dev = 0x1122, .ino = 77, .mode = 0100644, .nlink = 1, .uid = 2000, .gid = 1015,
    .size = 0x100000001ull, .atime = 1, .mtime = 1700000000, .ctime = 3,
  };

  (void)state;
  assert_int_equal(df_sim_adbd_sync_stat_v1(m, NULL), 16);
  assert_memory_equal(m, "STAT", 4);
  for (int i = 4; i < 16; i++)
    assert_int_equal(m[i], 0); /* absent: zeros (do_lstat_v1) */
  df_sim_adbd_sync_stat_v1(m, &st);
  assert_int_equal(df_sim_adbd_get_u32(m + 4), 0100644);
  assert_int_equal(df_sim_adbd_get_u32(m + 8), 1); /* size cut to 32 bits */
  assert_int_equal(df_sim_adbd_get_u32(m + 12), 1700000000);

  /* stat_v2: id 0, error 4, dev 8, ino 16, mode 24, nlink 28, uid 32,
   * gid 36, size 40, atime 48, mtime 56, ctime 64; 72 bytes. */
  assert_int_equal(df_sim_adbd_sync_stat_v2(m, DF_SIM_ADBD_ID_STA2, 0, &st), 72);
  assert_memory_equal(m, "STA2", 4);
  assert_int_equal(df_sim_adbd_get_u32(m + 4), 0);
  assert_int_equal(df_sim_adbd_get_u32(m + 8), 0x1122);
  assert_int_equal(df_sim_adbd_get_u32(m + 16), 77);
  assert_int_equal(df_sim_adbd_get_u32(m + 24), 0100644);
  assert_int_equal(df_sim_adbd_get_u32(m + 28), 1);
  assert_int_equal(df_sim_adbd_get_u32(m + 32), 2000);
  assert_int_equal(df_sim_adbd_get_u32(m + 36), 1015);
  assert_int_equal(df_sim_adbd_get_u32(m + 40), 1);
  assert_int_equal(df_sim_adbd_get_u32(m + 44), 1);
  assert_int_equal(df_sim_adbd_get_u32(m + 48), 1);
  assert_int_equal(df_sim_adbd_get_u32(m + 56), 1700000000);
  assert_int_equal(df_sim_adbd_get_u32(m + 64), 3);
  df_sim_adbd_sync_stat_v2(m, DF_SIM_ADBD_ID_LST2, 2, &st);
  assert_memory_equal(m, "LST2", 4);
  assert_int_equal(df_sim_adbd_get_u32(m + 4), 2);
  for (int i = 8; i < 72; i++)
    assert_int_equal(m[i], 0);

  assert_int_equal(df_sim_adbd_sync_dent_v1(m, &st, 9), 20);
  assert_memory_equal(m, "DENT", 4);
  assert_int_equal(df_sim_adbd_get_u32(m + 16), 9);
  assert_int_equal(df_sim_adbd_sync_dent_v2(m, 0, &st, 9), 76);
  assert_memory_equal(m, "DNT2", 4);
  assert_int_equal(df_sim_adbd_get_u32(m + 24), 0100644);
  assert_int_equal(df_sim_adbd_get_u32(m + 72), 9);

  assert_int_equal(df_sim_adbd_sync_header(m, DF_SIM_ADBD_ID_DATA, 65536), 8);
  assert_memory_equal(m, "DATA", 4);
  assert_int_equal(df_sim_adbd_get_u32(m + 4), 65536);
}

static void
test_send_spec(void **state)
{
  char path[64];
  uint32_t mode;

  (void)state;
  assert_int_equal(df_sim_adbd_sync_send_spec("/sdcard/x.bin,33188", path, sizeof(path), &mode), 0);
  assert_string_equal(path, "/sdcard/x.bin");
  assert_int_equal(mode, 33188);
  /* The last comma splits: commas in names are fine. */
  assert_int_equal(df_sim_adbd_sync_send_spec("/sdcard/a,b,0755", path, sizeof(path), &mode), 0);
  assert_string_equal(path, "/sdcard/a,b");
  assert_int_equal(mode, 0755); /* strtoul base 0: octal */
  assert_int_equal(df_sim_adbd_sync_send_spec("/sdcard/nocomma", path, sizeof(path), &mode),
                   DF_EINVAL);
  assert_int_equal(df_sim_adbd_sync_send_spec("/sdcard/x,99999999999999999999", path,
                                              sizeof(path), &mode),
                   DF_EINVAL);
  assert_int_equal(df_sim_adbd_sync_send_spec("/a/very/long/path/that/does/not/fit/here/at/all,1",
                                              path, 16, &mode),
                   DF_ETOOBIG);
}

/* ---- auth ---- */

static char tmpdir[256];
static EVP_PKEY *host_key;   /* the "host's" ~/.android/adbkey */
static char host_line[1024]; /* its adbkey.pub line */

/* The 524-byte struct of a public key, built here independently of the
 * sim's decoder (libcrypto_utils/android_pubkey.c android_pubkey_encode). */
static void
encode_pubkey(EVP_PKEY *key, uint8_t out[524])
{
  BIGNUM *n = NULL, *e = NULL, *r32 = BN_new(), *n0inv = BN_new(), *rr = BN_new();
  BN_CTX *ctx = BN_CTX_new();
  uint8_t be[256];

  assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
  assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
  df_sim_adbd_put_u32(out, 64);
  /* n0inv = -1 / n mod 2^32 */
  BN_set_bit(r32, 32);
  BN_mod_inverse(n0inv, n, r32, ctx);
  BN_sub(n0inv, r32, n0inv);
  df_sim_adbd_put_u32(out + 4, (uint32_t)BN_get_word(n0inv));
  assert_int_equal(BN_bn2binpad(n, be, 256), 256);
  for (int i = 0; i < 256; i++)
    out[8 + i] = be[255 - i];
  /* rr = (2^2048)^2 mod n */
  BN_zero(rr);
  BN_set_bit(rr, 4096);
  BN_mod(rr, rr, n, ctx);
  assert_int_equal(BN_bn2binpad(rr, be, 256), 256);
  for (int i = 0; i < 256; i++)
    out[264 + i] = be[255 - i];
  df_sim_adbd_put_u32(out + 520, (uint32_t)BN_get_word(e));
  BN_free(n);
  BN_free(e);
  BN_free(r32);
  BN_free(n0inv);
  BN_free(rr);
  BN_CTX_free(ctx);
}

static EVP_PKEY *
make_adbkey(const char *name, char *line, size_t linelen)
{
  char path[512];
  EVP_PKEY *key = EVP_RSA_gen(2048);
  EVP_PKEY *loaded = NULL;
  uint8_t st[524];
  unsigned char b64[800];
  FILE *f;

  assert_non_null(key);
  /* adbkey: unencrypted PKCS#8 PEM, read back as adb does. */
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
  fclose(f);
  f = fopen(path, "r");
  loaded = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  assert_non_null(loaded);
  EVP_PKEY_free(key);
  encode_pubkey(loaded, st);
  EVP_EncodeBlock(b64, st, sizeof(st));
  snprintf(line, linelen, "%s test@host", (char *)b64);
  return loaded;
}

/* What adb's client does: RSA_sign(NID_sha1, token, 20, ...). */
static size_t
sign_token(EVP_PKEY *key, const uint8_t token[20], uint8_t sig[512])
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
  size_t siglen = 512;

  assert_non_null(ctx);
  assert_true(EVP_PKEY_sign_init(ctx) > 0);
  assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
  assert_true(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha1()) > 0);
  assert_true(EVP_PKEY_sign(ctx, sig, &siglen, token, 20) > 0);
  EVP_PKEY_CTX_free(ctx);
  return siglen;
}

static int
auth_setup(void **state)
{
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-sim-adbd-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  host_key = make_adbkey("adbkey", host_line, sizeof(host_line));
  return 0;
}

static int
auth_teardown(void **state)
{
  char cmd[512];

  (void)state;
  EVP_PKEY_free(host_key);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd);
}

static void
test_pubkey_decode_and_verify(void **state)
{
  uint8_t st[524], token[20], sig[512];
  EVP_PKEY *pub;
  size_t siglen;

  (void)state;
  encode_pubkey(host_key, st);
  assert_int_equal(df_sim_adbd_pubkey_decode(st, sizeof(st), &pub), 0);
  assert_int_equal(df_sim_adbd_token_new(token), 0);
  siglen = sign_token(host_key, token, sig);
  assert_int_equal(siglen, 256);
  assert_true(df_sim_adbd_verify(pub, token, sig, siglen));
  token[0] ^= 1;
  assert_false(df_sim_adbd_verify(pub, token, sig, siglen));
  token[0] ^= 1;
  sig[100] ^= 0x40;
  assert_false(df_sim_adbd_verify(pub, token, sig, siglen));
  sig[100] ^= 0x40;
  assert_false(df_sim_adbd_verify(pub, token, sig, siglen - 1));
  EVP_PKEY_free(pub);

  /* n0inv and rr are not used (android_pubkey_decode ignores them). */
  memset(st + 4, 0xaa, 4);
  memset(st + 264, 0x55, 256);
  assert_int_equal(df_sim_adbd_pubkey_decode(st, sizeof(st), &pub), 0);
  assert_true(df_sim_adbd_verify(pub, token, sig, siglen));
  EVP_PKEY_free(pub);

  /* Only 64-word (2048-bit) keys, and the whole struct. */
  df_sim_adbd_put_u32(st, 32);
  assert_int_equal(df_sim_adbd_pubkey_decode(st, sizeof(st), &pub), DF_ECORRUPT);
  assert_null(pub);
  df_sim_adbd_put_u32(st, 64);
  assert_int_equal(df_sim_adbd_pubkey_decode(st, 523, &pub), DF_ECORRUPT);
}

static void
test_key_lines(void **state)
{
  EVP_PKEY *pub;
  char line[1100];

  (void)state;
  assert_int_equal(df_sim_adbd_key_line_decode(host_line, strlen(host_line), &pub), 0);
  EVP_PKEY_free(pub);
  /* A tab works as the separator too (auth.cpp strpbrk(" \t")). */
  snprintf(line, sizeof(line), "%s", host_line);
  *strchr(line, ' ') = '\t';
  assert_int_equal(df_sim_adbd_key_line_decode(line, strlen(line), &pub), 0);
  EVP_PKEY_free(pub);
  assert_int_equal(df_sim_adbd_key_line_decode("QUFBQQ== x@y", 12, &pub), DF_ECORRUPT);
  assert_int_equal(df_sim_adbd_key_line_decode("", 0, &pub), DF_ECORRUPT);
  assert_int_equal(df_sim_adbd_key_line_decode("!!!! x@y", 8, &pub), DF_ECORRUPT);
}

static int
count_lines(const char *path)
{
  FILE *f = fopen(path, "r");
  int n = 0, c;

  if (f == NULL)
    return -1;
  while ((c = fgetc(f)) != EOF)
    n += c == '\n';
  fclose(f);
  return n;
}

static void
test_keys_file(void **state)
{
  char keys[512], other_line[1024];
  uint8_t token[20], sig[512];
  EVP_PKEY *other;
  size_t siglen, plen;
  FILE *f;

  (void)state;
  snprintf(keys, sizeof(keys), "%s/adb_keys", tmpdir);
  unlink(keys);
  assert_int_equal(df_sim_adbd_token_new(token), 0);
  siglen = sign_token(host_key, token, sig);
  /* No file: no key accepted. */
  assert_false(df_sim_adbd_keys_verify(keys, token, sig, siglen));

  /* The host's RSAPUBLICKEY payload: the .pub line with a NUL. */
  plen = strlen(host_line) + 1;
  assert_int_equal(df_sim_adbd_keys_add(keys, (const uint8_t *)host_line, plen - 1),
                   DF_ECORRUPT); /* not NUL-terminated */
  assert_int_equal(df_sim_adbd_keys_add(keys, (const uint8_t *)"QUFB x\0", 7), DF_ECORRUPT);
  assert_int_equal(count_lines(keys), -1);
  assert_int_equal(df_sim_adbd_keys_add(keys, (const uint8_t *)host_line, plen), 0);
  assert_int_equal(count_lines(keys), 1);
  assert_true(df_sim_adbd_keys_verify(keys, token, sig, siglen));
  /* Accepting the same key again keeps one line. */
  assert_int_equal(df_sim_adbd_keys_add(keys, (const uint8_t *)host_line, plen), 0);
  assert_int_equal(count_lines(keys), 1);

  /* Another host's key: not accepted until added; a bad line on the way is
   * skipped, not fatal. */
  other = make_adbkey("other", other_line, sizeof(other_line));
  siglen = sign_token(other, token, sig);
  assert_false(df_sim_adbd_keys_verify(keys, token, sig, siglen));
  f = fopen(keys, "a");
  fputs("garbage line\n", f);
  fclose(f);
  assert_int_equal(df_sim_adbd_keys_add(keys, (const uint8_t *)other_line,
                                        strlen(other_line) + 1), 0);
  assert_int_equal(count_lines(keys), 3);
  assert_true(df_sim_adbd_keys_verify(keys, token, sig, siglen));
  EVP_PKEY_free(other);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_header_roundtrip),
    cmocka_unit_test(test_header_rejects),
    cmocka_unit_test(test_checksum_and_commands),
    cmocka_unit_test(test_negotiate),
    cmocka_unit_test(test_banner),
    cmocka_unit_test(test_service_parse),
    cmocka_unit_test(test_shell_framing),
    cmocka_unit_test(test_sync_messages),
    cmocka_unit_test(test_send_spec),
    cmocka_unit_test(test_pubkey_decode_and_verify),
    cmocka_unit_test(test_key_lines),
    cmocka_unit_test(test_keys_file),
  };

  return cmocka_run_group_tests(tests, auth_setup, auth_teardown);
}
