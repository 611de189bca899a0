/* Shared between the ADB device side's files: the server and its
 * connections and streams (adbd.c), auth (adbd_auth.c), services
 * (adbd_services.c) and sync (adbd_sync.c). Not part of the phone contract
 * (phone.h). */
#ifndef DF_SIM_ADBD_INTERNAL_H
#define DF_SIM_ADBD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <uv.h>

#include "tests/sim/adbd_packet.h"
#include "tests/sim/netfault.h"
#include "tests/sim/phone.h"

struct df_sim_adbd_conn;
struct df_sim_adbd_stream;
struct df_sim_adbd_sync;
struct df_sim_adbd_shell;

struct df_sim_adbd {
  struct df_loop *loop;
  struct df_sim_phone *phone;
  int port;                        /* fixed for the life of the process */
  bool enabled;
  uv_tcp_t *server;                /* NULL while the port is closed */
  struct df_sim_adbd_conn *conns;
  /* One WRTE being built (header + max payload): RECV fills it straight from
   * the file, then it goes to the socket before anything else uses it. */
  uint8_t *scratch;
  size_t scratch_size;
};

enum df_sim_adbd_conn_state {
  DF_SIM_ADBD_WAIT_CNXN = 0,       /* nothing from the host yet */
  DF_SIM_ADBD_WAIT_AUTH,           /* token sent, waiting for a signature or a key */
  DF_SIM_ADBD_ONLINE,              /* CNXN sent: services may be opened */
};

struct df_sim_adbd_conn {
  uv_tcp_t tcp;
  struct df_sim_adbd *adbd;        /* NULL once unlinked */
  struct df_sim_adbd_conn *next;
  enum df_sim_adbd_conn_state state;
  bool closing;
  bool drop_after_flush;           /* close once queued output is out */
  /* Before the host's CNXN we know nothing of it: checksum everything
   * (adb.cpp send_connect comment). After it, peer_version decides. */
  bool peer_known;
  uint32_t peer_version;
  uint32_t version;
  uint32_t max_payload;
  uint8_t token[DF_SIM_ADBD_TOKEN_SIZE];
  unsigned failed_auth;
  /* Bytes read and not yet consumed: at most one partial packet at the
   * front between reads. */
  uint8_t *in;
  size_t in_len;
  size_t in_cap;
  struct df_sim_adbd_stream *streams;
  /* Streams closed while a handler may still hold them: freed once the
   * packet being handled is done (reap_streams in adbd.c). */
  struct df_sim_adbd_stream *dead;
  uint32_t next_local_id;
  struct df_sim_nf_conn nf;        /* --net-fault byte counts (netfault.h) */
};

/* What a service does with a stream: data from the host's WRTE, a refill
 * when output is drained (RECV), and cleanup. */
struct df_sim_adbd_stream_ops {
  void (*on_data)(struct df_sim_adbd_stream *s, const uint8_t *data, size_t len);
  /* Called while the stream's filling flag is set, when the host acked our
   * last WRTE and out is empty: writes up to cap bytes of further output
   * into buf and returns their count. It clears filling when done; replies
   * it queues with df_sim_adbd_stream_write go out after buf. */
  size_t (*fill)(struct df_sim_adbd_stream *s, uint8_t *buf, size_t cap);
  void (*on_free)(struct df_sim_adbd_stream *s);
};

struct df_sim_adbd_stream {
  struct df_sim_adbd_conn *conn;
  struct df_sim_adbd_stream *next;
  uint32_t local_id;               /* ours */
  uint32_t remote_id;              /* the host's */
  bool awaiting_okay;              /* one WRTE in flight until the host's OKAY */
  bool close_when_flushed;         /* send CLSE once every byte of out went out */
  bool restart_adbd_when_flushed;  /* root:/unroot: */
  bool opened;                     /* our OKAY went out: output may follow */
  bool filling;                    /* ops->fill has more to give (RECV) */
  bool freed;
  struct df_sim_buf out;           /* output not yet sent */
  size_t out_off;
  const struct df_sim_adbd_stream_ops *ops;
  bool as_root;
  struct df_sim_adbd_shell *shell; /* adbd_services.c */
  struct df_sim_adbd_sync *sync;   /* adbd_sync.c */
};

/* ---- adbd.c: streams ---- */

/* Queues output on the stream and sends what flow control allows. */
void df_sim_adbd_stream_write(struct df_sim_adbd_stream *s, const void *data, size_t len);
/* Sends pending output, refills through ops->fill, and closes the stream
 * when close_when_flushed and nothing is left. */
void df_sim_adbd_stream_pump(struct df_sim_adbd_stream *s);
/* Ends the stream once its output is out. */
void df_sim_adbd_stream_finish(struct df_sim_adbd_stream *s);
/* Closes every connection (adbd restarts: root:, unroot:). */
void df_sim_adbd_restart(struct df_sim_adbd *adbd);

/* ---- adbd_services.c ---- */

/* Starts the named service on a new stream (ops, output). Returns 0, or
 * DF_ENOENT for a service this phone does not offer now (the host gets
 * CLSE). */
int df_sim_adbd_service_open(struct df_sim_adbd_stream *s, const char *name);

/* ---- adbd_sync.c ---- */

int df_sim_adbd_sync_open(struct df_sim_adbd_stream *s);

/* ---- adbd_auth.c ---- */

/* 20 random bytes (auth.cpp adbd_auth_generate_token reads /dev/urandom). */
int df_sim_adbd_token_new(uint8_t token[DF_SIM_ADBD_TOKEN_SIZE]);

/* Size of libcrypto_utils' RSAPublicKey struct (2048-bit keys only). */
#define DF_SIM_ADBD_PUBKEY_SIZE 524

/* Decodes the struct (u32 modulus_size_words = 64, u32 n0inv, modulus[256]
 * LE, rr[256] LE, u32 exponent) into a public key; *key is the caller's
 * (EVP_PKEY_free). DF_ECORRUPT for anything else. */
int df_sim_adbd_pubkey_decode(const uint8_t *buf, size_t len, EVP_PKEY **key);

/* Decodes one adb_keys line ("<base64> user@host"; text after the first
 * space or tab is ignored). */
int df_sim_adbd_key_line_decode(const char *line, size_t len, EVP_PKEY **key);

/* RSA PKCS#1 v1.5 with the SHA-1 DigestInfo over the token used as the
 * digest (auth.cpp: RSA_verify(NID_sha1, token, ...)). */
bool df_sim_adbd_verify(EVP_PKEY *key, const uint8_t token[DF_SIM_ADBD_TOKEN_SIZE],
                        const uint8_t *sig, size_t siglen);

/* Tries every key of the adb_keys file at path (a missing file has none). */
bool df_sim_adbd_keys_verify(const char *path, const uint8_t token[DF_SIM_ADBD_TOKEN_SIZE],
                             const uint8_t *sig, size_t siglen);

/* Accepts the host's AUTH(RSAPUBLICKEY) payload ("<base64> user@host\0"):
 * checks it is NUL-terminated and a valid key, and appends it to the file
 * at path unless it is there. DF_ECORRUPT for a bad key, DF_EIO. */
int df_sim_adbd_keys_add(const char *path, const uint8_t *payload, size_t len);

#endif
