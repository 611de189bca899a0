/* Shared between the fastboot device side's files: the server and its
 * connections (fastbootd.c), the command handlers (fastbootd_commands.c).
 * Not part of the phone contract (phone.h). */
#ifndef DF_SIM_FASTBOOTD_INTERNAL_H
#define DF_SIM_FASTBOOTD_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tests/sim/netfault.h"
#include "tests/sim/phone.h"

/* fastboot 29.0.6 sends commands of at most 64 bytes (fastboot_driver.cpp
 * FB_COMMAND_SZ); responses are at most 256 bytes (FB_RESPONSE_SZ). */
#define DF_SIM_FB_COMMAND_MAX 64
#define DF_SIM_FB_RESPONSE_MAX 256
/* A command frame longer than this is not a confused host but garbage: the
 * connection is dropped instead of answered. */
#define DF_SIM_FB_FRAME_GARBAGE 4096

struct df_sim_fb_conn;

struct df_sim_fastbootd {
  struct df_loop *loop;
  struct df_sim_phone *phone;
  int port;                      /* fixed for the life of the process */
  bool enabled;
  uv_tcp_t *server;              /* NULL while the port is closed */
  struct df_sim_fb_conn *conns;  /* open connections */
  uint64_t next_conn_id;
  /* The device's download buffer: the file at df_sim_phone_download_path,
   * valid after a complete download:. A new file (inode) every time. One
   * for all connections: the download completed last replaces it
   * (fastbootd.c's top says why). */
  bool have_download;
  uint64_t download_size;
  char *read_buf;                /* one big buffer: reads go through it */
  size_t read_buf_size;
};

enum df_sim_fb_conn_state {
  DF_SIM_FB_HANDSHAKE = 0,
  DF_SIM_FB_FRAME_HEADER,
  DF_SIM_FB_FRAME_BODY,
};

struct df_sim_fb_conn {
  uv_tcp_t tcp;
  struct df_sim_fastbootd *fb;   /* NULL once the server is gone */
  struct df_sim_fb_conn *next;
  uint64_t id;
  enum df_sim_fb_conn_state state;
  bool closing;
  uint8_t header[8];
  size_t header_len;
  uint64_t frame_left;           /* body bytes of the current frame still due */
  char command[DF_SIM_FB_FRAME_GARBAGE + 1];
  size_t command_len;
  /* A download in progress on this connection. */
  bool downloading;
  int download_fd;
  int splice_pipe[2];            /* -1 when splice is not used */
  uint64_t download_size;
  uint64_t download_left;
  char download_tmp[PATH_MAX];
  struct df_sim_nf_conn nf;      /* --net-fault byte counts (netfault.h) */
};

/* Sends one response ("OKAY", "FAIL", "INFO", "DATA") with its text, cut to
 * 256 bytes, framed for TCP. */
void df_sim_fb_reply(struct df_sim_fb_conn *conn, const char *kind, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Starts receiving size bytes of download data (after DATA was sent).
 * Returns 0 or a df error (then nothing was started). */
int df_sim_fb_download_begin(struct df_sim_fb_conn *conn, uint64_t size);

/* Takes a partition file out of the way before it gets new content: kept as
 * the next download buffer when nothing else links to it, else unlinked. */
int df_sim_fb_retire_file(struct df_sim_fastbootd *fb, const char *path);

/* Runs one command (text without NUL, len <= DF_SIM_FB_COMMAND_MAX). */
void df_sim_fb_dispatch(struct df_sim_fb_conn *conn, const char *command);

/* Flash helpers (fastbootd_commands.c) used by the dispatcher. */
int df_sim_fb_parse_u64(const char *text, uint64_t *out);

#endif
