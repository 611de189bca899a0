/* The host's ADB keys, in Google's formats so that a phone that trusts
 * Google's adb trusts droidfix and the reverse: ~/.android/adbkey (RSA 2048,
 * PEM, mode 0600), adbkey.pub (base64 of the 524-byte Android public key
 * struct, then " user@host"), and ADB_VENDOR_KEYS (':'-separated files, or
 * folders whose *.adb_key files are keys). Facts: AOSP adb/client/auth.cpp,
 * libcrypto_utils/android_pubkey.c (platform-tools 29.0.6). */
#ifndef DF_ADB_KEY_H
#define DF_ADB_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/rsa.h"

#define DF_ADB_PUBKEY_SIZE 524u   /* the encoded struct, RSA-2048 only */
#define DF_ADB_MAX_KEYS 16

struct df_adb_keys {
  struct df_rsa *keys[DF_ADB_MAX_KEYS]; /* the user key first */
  char paths[DF_ADB_MAX_KEYS][512];
  int count;
};

/* Folder of the user's key: $ANDROID_USER_HOME, else $HOME/.android. */
int
df_adb_key_dir(char *out, size_t outlen);

/* Loads the user key from dir/adbkey, creating it (and adbkey.pub) when
 * missing, then every ADB_VENDOR_KEYS key. A key file that others can read
 * is used but warned about. Keys that cannot be read are skipped with a
 * warning naming the file; the user key is required. */
int
df_adb_keys_load(struct df_adb_keys *keys, const char *dir);

void
df_adb_keys_free(struct df_adb_keys *keys);

/* The 524-byte public key struct: u32 words (64), u32 n0inv, modulus LE,
 * rr LE, u32 exponent, all little-endian. */
int
df_adb_key_encode_public(const struct df_rsa *key, uint8_t out[DF_ADB_PUBKEY_SIZE]);

/* "<base64> user@host" as written in adbkey.pub and sent in AUTH
 * RSAPUBLICKEY (without the trailing NUL the wire adds). */
int
df_adb_key_public_text(const struct df_rsa *key, char *out, size_t outlen);

#endif
