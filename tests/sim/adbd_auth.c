/* ADB auth as a phone does it (adb/daemon/auth.cpp, libcrypto_utils/
 * android_pubkey.c): tokens, the RSAPublicKey struct, signature checks
 * against the accepted keys, and the adb_keys file (the phone's
 * /data/misc/adb/adb_keys, kept in the state directory). OpenSSL 3 EVP. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "core/base64.h"
#include "core/error.h"
#include "tests/sim/adbd_internal.h"

int
df_sim_adbd_token_new(uint8_t token[DF_SIM_ADBD_TOKEN_SIZE])
{
  return RAND_bytes(token, DF_SIM_ADBD_TOKEN_SIZE) == 1 ? 0 : DF_EIO;
}

/* android_pubkey.c android_pubkey_decode: size must cover the struct, the
 * word count must be 64 (2048 bits); only modulus and exponent are used
 * (n0inv and rr are recomputed by the crypto library). */
int
df_sim_adbd_pubkey_decode(const uint8_t *buf, size_t len, EVP_PKEY **key)
{
  uint8_t be[256];
  BIGNUM *n = NULL, *e = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  int err = DF_ECORRUPT;

  *key = NULL;
  if (len < DF_SIM_ADBD_PUBKEY_SIZE || df_sim_adbd_get_u32(buf) != 64)
    return DF_ECORRUPT;
  for (size_t i = 0; i < sizeof(be); i++)
    be[i] = buf[8 + 255 - i]; /* modulus: little-endian bytes at offset 8 */
  n = BN_bin2bn(be, sizeof(be), NULL);
  e = BN_new();
  if (n == NULL || e == NULL || !BN_set_word(e, df_sim_adbd_get_u32(buf + 520)))
    goto done;
  if (BN_is_zero(n))
    goto done;
  bld = OSSL_PARAM_BLD_new();
  if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
    goto done;
  params = OSSL_PARAM_BLD_to_param(bld);
  ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    *key = NULL;
    goto done;
  }
  err = 0;
done:
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return err;
}

/* auth.cpp adbd_auth_verify: the line is cut at the first ' ' or '\t' and
 * must decode to exactly the struct's size. */
int
df_sim_adbd_key_line_decode(const char *line, size_t len, EVP_PKEY **key)
{
  uint8_t buf[DF_SIM_ADBD_PUBKEY_SIZE + 4];
  size_t n = 0;
  long got;

  *key = NULL;
  while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != '\0' && line[n] != '\r')
    n++;
  if (n == 0)
    return DF_ECORRUPT;
  got = df_base64_decode(line, n, buf, sizeof(buf));
  if (got != DF_SIM_ADBD_PUBKEY_SIZE)
    return DF_ECORRUPT;
  return df_sim_adbd_pubkey_decode(buf, (size_t)got, key);
}

/* auth.cpp: RSA_verify(NID_sha1, token, token_size, sig, ...): PKCS#1 v1.5
 * with the SHA-1 DigestInfo, the token taking the digest's place. */
bool
df_sim_adbd_verify(EVP_PKEY *key, const uint8_t token[DF_SIM_ADBD_TOKEN_SIZE],
                   const uint8_t *sig, size_t siglen)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
  bool ok = false;

  if (ctx == NULL)
    return false;
  if (EVP_PKEY_verify_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
      EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha1()) > 0)
    ok = EVP_PKEY_verify(ctx, sig, siglen, token, DF_SIM_ADBD_TOKEN_SIZE) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

static int
read_whole(const char *path, char **data, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;

  *data = NULL;
  *len = 0;
  if (f == NULL)
    return errno == ENOENT ? DF_ENOENT : DF_EIO;
  for (;;) {
    size_t got;

    if (n + 4096 + 1 > cap) {
      char *nb = realloc(buf, cap = (cap + 4096) * 2);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return DF_ENOMEM;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0)
      break;
  }
  fclose(f);
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return 0;
}

bool
df_sim_adbd_keys_verify(const char *path, const uint8_t token[DF_SIM_ADBD_TOKEN_SIZE],
                        const uint8_t *sig, size_t siglen)
{
  char *data, *line;
  size_t len;
  bool ok = false;

  if (read_whole(path, &data, &len) != 0)
    return false;
  line = data;
  while (line < data + len && !ok) {
    char *nl = memchr(line, '\n', (size_t)(data + len - line));
    size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(data + len - line);
    EVP_PKEY *key;

    if (df_sim_adbd_key_line_decode(line, n, &key) == 0) {
      ok = df_sim_adbd_verify(key, token, sig, siglen);
      EVP_PKEY_free(key);
    }
    line += n + 1;
  }
  free(data);
  return ok;
}

/* The base64 part of a key line (up to the first space), for duplicates. */
static size_t
key_part(const char *s, size_t len)
{
  size_t n = 0;

  while (n < len && s[n] != ' ' && s[n] != '\t' && s[n] != '\0' && s[n] != '\n' && s[n] != '\r')
    n++;
  return n;
}

/* auth.cpp adbd_auth_confirm_key: the key must be a NUL-terminated string;
 * the framework's "Allow" writes it as a line of /data/misc/adb/adb_keys. */
int
df_sim_adbd_keys_add(const char *path, const uint8_t *payload, size_t len)
{
  const char *text = (const char *)payload;
  size_t textlen, kl;
  EVP_PKEY *key;
  char *data = NULL;
  size_t dlen = 0;
  int fd, err = 0;

  if (len == 0 || payload[len - 1] != '\0')
    return DF_ECORRUPT;
  textlen = strlen(text);
  if (df_sim_adbd_key_line_decode(text, textlen, &key) != 0)
    return DF_ECORRUPT;
  EVP_PKEY_free(key);
  kl = key_part(text, textlen);
  if (read_whole(path, &data, &dlen) == 0) {
    char *line = data;

    while (line < data + dlen) {
      char *nl = memchr(line, '\n', (size_t)(data + dlen - line));
      size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(data + dlen - line);

      if (key_part(line, n) == kl && memcmp(line, text, kl) == 0) {
        free(data);
        return 0; /* already accepted */
      }
      line += n + 1;
    }
  }
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    free(data);
    return DF_EIO;
  }
  /* A file that does not end in a newline gets one first. */
  if (data != NULL && dlen > 0 && data[dlen - 1] != '\n' && write(fd, "\n", 1) != 1)
    err = DF_EIO;
  if (err == 0 && (write(fd, text, textlen) != (ssize_t)textlen || write(fd, "\n", 1) != 1))
    err = DF_EIO;
  if (err == 0 && fsync(fd) != 0)
    err = DF_EIO;
  close(fd);
  free(data);
  return err;
}
