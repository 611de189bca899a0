/* Network faults of droidfix-sim (serve --net-fault, droidfix-sim netfault):
 * a connection dropped, stalled, answered FAIL or cut by an unexpected
 * reboot at a chosen byte of what it carries. One fault is armed at a time
 * for the whole process and it fires once: the first connection whose count
 * reaches the byte spends it, so running the same thing again succeeds.
 *
 * A fault is for connections that start (finish the handshake) after it was
 * armed. One armed at start-up (serve --net-fault) is there before any
 * connection, so it is for all of them; one armed on a running phone
 * (droidfix-sim netfault) never fires on a connection already open, such as
 * one a host gave up on during a stall that reads again when the stall
 * ends: the fault is kept for the host's next connection.
 *
 * Counting is per connection and starts after the handshake (ADB: once the
 * phone sent its CNXN; fastboot: once it answered FB01). A connection that
 * carried exactly BYTES bytes (in the counted directions) meets the fault;
 * BYTES 0 fires on the first bytes after the handshake.
 *
 * The protocol servers keep a struct df_sim_nf_conn per connection and ask
 * df_sim_nf_pass how much of what they read or write may go through; a
 * fault that fired is carried out by df_sim_nf_act, through the server's
 * own close (and, for fastboot, FAIL) operations. The same struct knows
 * how the connection reads, so stopping and starting reading again (after
 * a stall, and when --link-rate held it: df_sim_nf_read_done) is here once
 * for both servers. */
#ifndef DF_SIM_NETFAULT_H
#define DF_SIM_NETFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

enum df_sim_nf_kind {
  DF_SIM_NF_NONE = 0,
  DF_SIM_NF_DROP,   /* the connection closes, as a pulled cable */
  DF_SIM_NF_STALL,  /* the phone stops reading (for ms, or for good) */
  DF_SIM_NF_FAIL,   /* fastboot: the download or command is answered FAIL */
  DF_SIM_NF_REBOOT, /* the phone reboots into system (silent for --boot-ms) */
};

#define DF_SIM_NF_ADB 1u
#define DF_SIM_NF_FASTBOOT 2u
#define DF_SIM_NF_IN 1u  /* bytes the phone received */
#define DF_SIM_NF_OUT 2u /* bytes the phone sent */

struct df_sim_netfault {
  enum df_sim_nf_kind kind;
  uint64_t at;       /* the byte where it fires */
  unsigned protos;   /* DF_SIM_NF_ADB | DF_SIM_NF_FASTBOOT */
  unsigned dirs;     /* DF_SIM_NF_IN | DF_SIM_NF_OUT: which bytes count */
  int64_t stall_ms;  /* stall: -1 for good */
  bool random;       /* at was picked from seed */
  uint64_t seed;
};

/* Parses "KIND:BYTES[:WORD]..." (see df_sim_netfault_usage) or "none".
 * Pure: a random BYTES is picked from its seed here ("random" alone takes
 * the seed from seed_if_unset). Returns 0, or DF_EINVAL with err filled. */
int df_sim_netfault_parse(const char *spec, uint64_t seed_if_unset, struct df_sim_netfault *out,
                          char *err, size_t errlen);

/* One line per form, for --help. */
extern const char df_sim_netfault_usage[];

/* Arms fault (a copy) for the process, replacing any armed one; a fault of
 * kind NONE disarms. It is for connections started from now on. */
void df_sim_netfault_arm(const struct df_sim_netfault *fault);

/* ---- per connection ---- */

struct df_sim_phone;

/* What a protocol server tells netfault.c about its connections: one static
 * const of the server's, shared by all of them. conn below is the server's
 * own connection. */
struct df_sim_nf_server {
  unsigned proto;          /* DF_SIM_NF_ADB or DF_SIM_NF_FASTBOOT */
  uv_alloc_cb alloc_cb;    /* what reading is started with */
  uv_read_cb read_cb;
  /* Closes the connection, queued replies first (drop, reboot, and when
   * reading cannot start again). */
  void (*close)(void *conn);
  /* Answers a fail (fastboot); NULL where the protocol has no answer. */
  void (*fail)(void *conn);
};

struct df_sim_nf_conn {
  const struct df_sim_nf_server *server;
  void *conn;                 /* the server's connection */
  struct df_sim_phone *phone; /* the phone it belongs to; NULL once closed */
  uv_stream_t *stream;        /* NULL once closed */
  unsigned proto;             /* server->proto */
  bool started;               /* handshake done: bytes count */
  uint64_t number;            /* of the process's started connections, from 1 */
  uint64_t in, out;
  enum df_sim_nf_kind due;    /* fired, not yet carried out */
  bool failed_download;       /* fastboot: the download under way is answered FAIL */
  bool fail_command;          /* fastboot: the next command is answered FAIL */
  bool stalled;
  int64_t stall_ms;           /* of the stall that fired here */
};

/* c belongs to conn, a connection of server reading from stream (may be
 * NULL, as in tests: nothing is then stopped or started) on phone (may be
 * NULL: a reboot then only closes). */
void df_sim_nf_conn_init(struct df_sim_nf_conn *c, const struct df_sim_nf_server *server,
                         void *conn, uv_stream_t *stream, struct df_sim_phone *phone);
/* The handshake is done: from now on bytes count, toward a fault armed
 * before now (not toward one armed later). */
void df_sim_nf_conn_start(struct df_sim_nf_conn *c);
/* The connection is closing: no stall timer and no link hold (link_rate.h)
 * touches it from now on. */
void df_sim_nf_conn_closed(struct df_sim_nf_conn *c);

/* How many of len bytes (dir: DF_SIM_NF_IN or DF_SIM_NF_OUT) may go
 * through before the fault point; they are counted. When the point is
 * reached the fault fires: due is set and the armed fault is spent. A stall
 * lets the whole piece through (the phone stops reading after it). While a
 * fault is due, nothing more is received (0) and, unless it is a stall,
 * nothing more is sent. */
size_t df_sim_nf_pass(struct df_sim_nf_conn *c, unsigned dir, size_t len);

/* How many bytes may still go through (UINT64_MAX: no fault ahead), without
 * counting them: for a reader that learns only afterwards how many it took
 * (splice), which then counts them with df_sim_nf_pass. */
uint64_t df_sim_nf_room(const struct df_sim_nf_conn *c, unsigned dir);

/* The fault due on this connection (then cleared), or DF_SIM_NF_NONE. */
enum df_sim_nf_kind df_sim_nf_take_due(struct df_sim_nf_conn *c);

/* Stops reading from the connection; with a stall_ms, reading starts again
 * after that long. */
void df_sim_nf_stall(struct df_sim_nf_conn *c);

/* Carries out the fault due on c (netfault.h's top), then clears it:
 * stall stops reading, drop closes, reboot reboots the phone into system
 * and closes, fail calls server->fail. Nothing when none is due. */
void df_sim_nf_act(struct df_sim_nf_conn *c);

/* At the end of a read callback: unless the connection closed or stalled,
 * --link-rate may hold it (df_sim_link_hold); it reads again once the link
 * has room, unless it closed or stalled in between. */
void df_sim_nf_read_done(struct df_sim_nf_conn *c);

#endif
