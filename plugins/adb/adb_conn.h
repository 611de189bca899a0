/* One ADB connection to a phone over any transport: the CNXN handshake, RSA
 * authentication with the host's keys, and streams (OPEN/OKAY/WRTE/CLSE)
 * with ADB's flow control: one WRTE in flight per stream until the phone's
 * OKAY. Many streams run at once on one connection.
 * If a function that takes a callback returns an error, the callback is
 * never called. */
#ifndef DF_ADB_CONN_H
#define DF_ADB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/transport.h"
#include "plugins/adb/adb_key.h"
#include "plugins/adb/adb_packet.h"

struct df_adb_conn;
struct df_adb_stream;
struct df_loop;

struct df_adb_conn_callbacks {
  /* CNXN arrived: the phone is online. */
  void (*on_ready)(void *userdata, const struct df_adb_banner *banner);
  /* Every key was refused and the public key was sent: the phone shows
   * "Allow USB debugging?" now; on_ready follows if the user allows. */
  void (*on_unauthorized)(void *userdata);
  /* The connection is gone (once). Streams got their on_close before. */
  void (*on_gone)(void *userdata, int err);
};

/* Takes ownership of t (already connected), sends CNXN and starts reading.
 * keys are borrowed and must outlive the connection. */
int
df_adb_conn_start(struct df_transport *t, const struct df_adb_keys *keys,
                  const struct df_adb_conn_callbacks *cbs, void *userdata,
                  struct df_adb_conn **out);

/* Closes the transport; every open stream gets on_close(DF_ECANCELED). The
 * connection's memory is freed once the transport has closed; on_gone is
 * not called for a close asked for here. */
void
df_adb_conn_close(struct df_adb_conn *conn);

const struct df_adb_banner *
df_adb_conn_banner(const struct df_adb_conn *conn);

uint32_t
df_adb_conn_max_payload(const struct df_adb_conn *conn);

bool
df_adb_conn_has_feature(const struct df_adb_conn *conn, const char *feature);

const char *
df_adb_conn_description(const struct df_adb_conn *conn);

/* Lets the connection keep time on loop (which must outlive it), for the
 * liveness watch of df_adb_stream_watch. stall_ms 0 picks
 * DROIDFIX_STALL_TIMEOUT seconds, else 30 s. Without a loop, watched
 * streams are not timed (they wait for ever, as before). */
void
df_adb_conn_set_loop(struct df_adb_conn *conn, struct df_loop *loop, unsigned stall_ms);

/* The stall timeout of df_adb_conn_set_loop in ms (0: no loop, no watch). */
unsigned
df_adb_conn_stall_ms(const struct df_adb_conn *conn);

struct df_adb_stream_callbacks {
  /* The phone accepted (0) or refused (DF_EUNSUPPORTED) the service. */
  void (*on_open)(void *userdata, int status);
  /* Bytes from the phone; valid during the call. The OKAY that lets the
   * phone send more goes out just before this call, unless the stream is
   * paused (so after a pause at most one more payload arrives). */
  void (*on_data)(void *userdata, const uint8_t *data, size_t len);
  /* The stream is closed (0: by the phone; else why). Called once; the
   * stream's memory is freed right after. Not called after
   * df_adb_stream_close. */
  void (*on_close)(void *userdata, int status);
};

/* Opens "service" (e.g. "shell,v2,raw:ls", "sync:"). */
int
df_adb_stream_open(struct df_adb_conn *conn, const char *service,
                   const struct df_adb_stream_callbacks *cbs, void *userdata,
                   struct df_adb_stream **out);

typedef void (*df_adb_write_cb)(void *req, int status);

/* Sends len bytes (split into WRTEs of the negotiated max payload). The
 * caller keeps data alive until cb, which runs when the phone acknowledged
 * the last WRTE: so a writer that waits for cb never has more than one
 * payload in flight. cb may be NULL. Only one write at a time per stream
 * (DF_EBUSY). A write pending when the stream ends is dropped: its cb is
 * not called (the stream's on_close is). */
int
df_adb_stream_write(struct df_adb_stream *s, const void *data, size_t len,
                    df_adb_write_cb cb, void *req);

/* Withholds (true) or sends (false) the OKAY for the data last received:
 * back-pressure for a slow consumer. */
void
df_adb_stream_pause(struct df_adb_stream *s, bool paused);

/* Watches s for a phone that stopped answering: while a watched stream is
 * open and the phone has sent nothing on the whole connection for half the
 * stall timeout, droidfix opens a stream to a service no adbd has (adbd
 * answers CLSE at once from its packet thread: adb.cpp, A_OPEN); when the
 * connection then stays silent for the whole timeout and that check has had
 * half of it to come back, every watched stream ends with on_close
 * (DF_ETIMEDOUT). A command that runs long and prints nothing is not
 * stopped: the phone still answers the check. Needs df_adb_conn_set_loop. */
void
df_adb_stream_watch(struct df_adb_stream *s);

/* Sends CLSE and forgets the stream. No callback runs after this, not even
 * a pending write's, and the data of that write is no longer used. */
void
df_adb_stream_close(struct df_adb_stream *s);

#endif
