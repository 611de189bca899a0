/* Hashing (SHA-256, SHA-1, MD5) through OpenSSL's EVP API, with no OpenSSL
 * type in sight: a streaming hasher, whole-file hashing (synchronous, or on
 * the libuv thread pool), and a stream hasher that takes chunks from the loop
 * thread and hashes them on the thread pool behind a bounded queue.
 *
 * Hex digests are lowercase, NUL-terminated. Every function that takes a
 * callback and returns an error never calls the callback.
 *
 * libcrypto is loaded at run time (core/crypto_lib.h): when it is missing,
 * df_hash_new and every function that hashes through it return
 * DF_EUNSUPPORTED: at once from the synchronous ones and df_hash_stream_new,
 * through the callback from df_hash_file (it hashes on the thread pool).
 * Naming and parsing algorithms need no library. */
#ifndef DF_CORE_HASH_H
#define DF_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

enum df_hash_algo { DF_HASH_SHA256, DF_HASH_SHA1, DF_HASH_MD5 };

/* Room for the longest hex digest (SHA-256) and its NUL. */
#define DF_HASH_HEX_MAX 65

/* Opaque streaming hasher: new, update any number of times, final_hex, free. */
struct df_hash;

/* DF_EINVAL for an unknown algo, DF_ENOMEM, DF_EIO if OpenSSL refuses. */
int
df_hash_new(enum df_hash_algo algo, struct df_hash **out);

void
df_hash_update(struct df_hash *h, const void *data, size_t len);

/* Writes the lowercase hex digest and a NUL; hexlen must be >= 2*digest+1
 * (DF_EINVAL otherwise, and the hasher is left as it was). After a successful
 * call the hasher is finished: further updates are ignored and another
 * final_hex returns DF_EINVAL. */
int
df_hash_final_hex(struct df_hash *h, char *hex, size_t hexlen);

/* Accepts NULL. */
void
df_hash_free(struct df_hash *h);

/* Hex digits of a digest, without the NUL: 64, 40, 32; 0 for a bad algo. */
size_t
df_hash_hex_len(enum df_hash_algo algo);

/* "sha256", "sha1", "md5" (also "sha-256", "sha-1", any case); DF_EINVAL
 * for anything else. */
int
df_hash_algo_parse(const char *name, enum df_hash_algo *algo);

/* "sha256", "sha1", "md5"; "?" for a bad value. */
const char *
df_hash_algo_name(enum df_hash_algo algo);

/* One-shot digest of a buffer. */
int
df_hash_buffer_hex(enum df_hash_algo algo, const void *data, size_t len, char *hex,
                   size_t hexlen);

/* Called on the loop thread. status 0: hex holds the digest (valid during
 * the call only). Otherwise a df error and hex is NULL. */
typedef void (*df_hash_file_cb)(void *data, int status, const char *hex);

/* Hashes a whole file on the libuv thread pool; cb runs on the loop thread.
 * The path is copied. Returns DF_EINVAL or DF_ENOMEM at once (and cb is never
 * called); a file that cannot be opened or read is reported through cb
 * (DF_ENOENT, DF_EACCES, DF_EIO, ...). */
int
df_hash_file(struct df_loop *loop, const char *path, enum df_hash_algo algo,
             df_hash_file_cb cb, void *data);

/* The same, synchronously: for callers already off the loop, and for tests.
 * Reads in 1 MiB blocks with POSIX_FADV_SEQUENTIAL (the kernel's readahead
 * then overlaps the disk with the hashing). */
int
df_hash_file_sync(const char *path, enum df_hash_algo algo, char *hex, size_t hexlen);

/* The same as df_hash_file_sync for an open descriptor, read from its
 * current offset to EOF. The descriptor is not closed. */
int
df_hash_fd_sync(int fd, enum df_hash_algo algo, char *hex, size_t hexlen);

/* ---- Hashing a stream while it is being sent ----------------------------
 *
 * The loop thread feeds chunks (for example the very buffers it writes to a
 * phone); each is copied into a queue and hashed, in order, on the libuv
 * thread pool, one batch at a time, so the loop never waits for the hash.
 *
 * Back-pressure: the queue holds at most about max_queued bytes (the bytes
 * queued plus those being hashed). df_hash_stream_push returns
 *   0            the chunk was taken, push more;
 *   1            the chunk was taken, but the queue is now full: push nothing
 *                more until on_drain is called;
 *   DF_EBUSY     the chunk was NOT taken: the feeder pushed while told to
 *                wait;
 * so memory stays below max_queued plus one chunk. on_drain runs on the loop
 * thread once the queue has fallen to half of max_queued, and only after a
 * push returned 1.
 *
 * df_hash_stream_finish ends the stream: once every queued byte is hashed,
 * on_done(data, 0, hex) runs on the loop thread and the stream frees itself.
 * df_hash_stream_abort drops the stream instead: no callback is called after
 * it, and the memory is freed as soon as the thread pool lets go of it.
 * Either finish or abort must be called exactly once; the stream pointer is
 * dead after it. All calls are from the loop thread. */
struct df_hash_stream;

struct df_hash_stream_callbacks {
  /* The queue has room again after a push returned 1. May be NULL. */
  void (*on_drain)(void *data);
  /* The digest of everything pushed, after finish. hex is valid during the
   * call only. status is a df error (and hex NULL) if OpenSSL failed. */
  void (*on_done)(void *data, int status, const char *hex);
};

/* max_queued 0 picks the default (8 MiB). cbs must outlive the stream.
 * DF_EINVAL, DF_ENOMEM. */
int
df_hash_stream_new(struct df_loop *loop, enum df_hash_algo algo, size_t max_queued,
                   const struct df_hash_stream_callbacks *cbs, void *data,
                   struct df_hash_stream **out);

/* Copies len bytes into the queue. See above for 0, 1 and DF_EBUSY;
 * DF_ENOMEM, and DF_EINVAL after finish or abort. */
int
df_hash_stream_push(struct df_hash_stream *s, const void *chunk, size_t len);

/* Bytes taken and not yet hashed (queued plus being hashed). */
size_t
df_hash_stream_queued(const struct df_hash_stream *s);

/* Bytes pushed so far. */
uint64_t
df_hash_stream_total(const struct df_hash_stream *s);

/* Ends the stream; on_done runs later, on the loop thread, never from inside
 * this call. Takes ownership of s. On an error (DF_EINVAL if already
 * finished or aborted) on_done never runs. */
int
df_hash_stream_finish(struct df_hash_stream *s);

/* Drops the stream; no callback runs after this. Takes ownership of s. */
void
df_hash_stream_abort(struct df_hash_stream *s);

#endif
