/* The ADB wire formats as the device side (adbd) reads and writes them: the
 * 24-byte packet header, checksums, version and payload negotiation, the
 * CNXN banner, service names, the shell protocol (shell_v2) and the sync
 * protocol's messages. Pure functions, no I/O: tested by
 * tests/unit/test_sim_adbd_packet.c. Written from AOSP facts (platform-tools
 * 29.0.6: adb/adb.h, adb/adb.cpp, adb/transport.cpp, adb/shell_protocol.h,
 * adb/file_sync_protocol.h, adb/daemon/services.cpp), apart from the host
 * side in plugins/adb so that one misreading cannot hide in both. */
#ifndef DF_SIM_ADBD_PACKET_H
#define DF_SIM_ADBD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* adb/adb.h: A_SYNC, A_CNXN, A_OPEN, A_OKAY, A_CLSE, A_WRTE, A_AUTH. */
#define DF_SIM_ADBD_A_SYNC 0x434e5953u
#define DF_SIM_ADBD_A_CNXN 0x4e584e43u
#define DF_SIM_ADBD_A_OPEN 0x4e45504fu
#define DF_SIM_ADBD_A_OKAY 0x59414b4fu
#define DF_SIM_ADBD_A_CLSE 0x45534c43u
#define DF_SIM_ADBD_A_WRTE 0x45545257u
#define DF_SIM_ADBD_A_AUTH 0x48545541u
#define DF_SIM_ADBD_A_STLS 0x534c5453u

/* adb/adb.h: A_VERSION_MIN, A_VERSION_SKIP_CHECKSUM (= A_VERSION). */
#define DF_SIM_ADBD_VERSION_MIN 0x01000000u
#define DF_SIM_ADBD_VERSION_SKIP_CHECKSUM 0x01000001u
#define DF_SIM_ADBD_VERSION DF_SIM_ADBD_VERSION_SKIP_CHECKSUM

/* adb/adb.h: MAX_PAYLOAD_V1 (CNXN and AUTH must fit it), MAX_PAYLOAD (9+). */
#define DF_SIM_ADBD_MAX_PAYLOAD_V1 4096u
#define DF_SIM_ADBD_MAX_PAYLOAD (1024u * 1024u)

#define DF_SIM_ADBD_HEADER_SIZE 24

/* adb/adb_auth.h: AUTH arg0. */
#define DF_SIM_ADBD_AUTH_TOKEN 1u
#define DF_SIM_ADBD_AUTH_SIGNATURE 2u
#define DF_SIM_ADBD_AUTH_RSAPUBLICKEY 3u
/* adb/adb.h TOKEN_SIZE */
#define DF_SIM_ADBD_TOKEN_SIZE 20

/* One packet header (adb/types.h amessage), host byte order. */
struct df_sim_adbd_msg {
  uint32_t command;
  uint32_t arg0;
  uint32_t arg1;
  uint32_t data_length;
  uint32_t data_check;
  uint32_t magic;
};

/* Little-endian helpers. */
uint32_t df_sim_adbd_get_u32(const uint8_t *p);
void df_sim_adbd_put_u32(uint8_t *p, uint32_t v);
void df_sim_adbd_put_u64(uint8_t *p, uint64_t v);

/* Reads a header. DF_EPROTO when magic != command ^ 0xffffffff
 * (transport.cpp check_header), DF_ETOOBIG when data_length exceeds
 * max_payload (same function: adbd drops the transport for both). */
int df_sim_adbd_header_parse(const uint8_t in[DF_SIM_ADBD_HEADER_SIZE], uint32_t max_payload,
                             struct df_sim_adbd_msg *msg);

/* True for the commands adbd's handle_packet knows (SYNC, CNXN, AUTH, OPEN,
 * OKAY, CLSE, WRTE). Others are logged and ignored by adbd (adb.cpp
 * "handle_packet: what is %08x?!"), not a reason to drop. */
bool df_sim_adbd_command_known(uint32_t command);

/* The u32 sum of the payload bytes (adb.cpp calculate_apacket_checksum). */
uint32_t df_sim_adbd_checksum(const void *data, size_t len);

/* Whether a packet from a peer of this protocol version must carry a real
 * checksum (versions before A_VERSION_SKIP_CHECKSUM). */
bool df_sim_adbd_peer_needs_checksum(uint32_t version);

/* Writes a header for a payload of len bytes; data_check is the sum when
 * with_checksum, else 0. */
void df_sim_adbd_header_write(uint8_t out[DF_SIM_ADBD_HEADER_SIZE], uint32_t command,
                              uint32_t arg0, uint32_t arg1, const void *payload, uint32_t len,
                              bool with_checksum);

/* The version and max payload a transport uses after the peer's CNXN
 * (atransport::update_version: min of both sides). A max payload below 4096
 * is raised to 4096 (every adb accepts MAX_PAYLOAD_V1). */
void df_sim_adbd_negotiate(uint32_t peer_version, uint32_t peer_max_payload, uint32_t *version,
                           uint32_t *max_payload);

/* The device's features (adb/transport.cpp supported_features of an adbd
 * that 29.0.6 understands: every one of these is in its feature list). */
#define DF_SIM_ADBD_FEATURES \
  "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,fixed_push_symlink_timestamp,abb_exec"

/* "<state>::ro.product.name=N;ro.product.model=M;ro.product.device=D;features=F"
 * (adb.cpp get_connection_string). Returns the length, or DF_ETOOBIG when it
 * does not fit out or MAX_PAYLOAD_V1 (adbd refuses such a banner). */
int df_sim_adbd_banner(char *out, size_t outlen, const char *state, const char *name,
                       const char *model, const char *device, const char *features);

/* ---- services (adb/daemon/services.cpp daemon_service_to_fd) ---- */

enum df_sim_adbd_service_kind {
  DF_SIM_ADBD_SVC_UNKNOWN = 0,
  DF_SIM_ADBD_SVC_SHELL,   /* "shell[,args]:cmd" */
  DF_SIM_ADBD_SVC_EXEC,    /* "exec:cmd" */
  DF_SIM_ADBD_SVC_SYNC,    /* "sync:" */
  DF_SIM_ADBD_SVC_REBOOT,  /* "reboot:target" */
  DF_SIM_ADBD_SVC_ROOT,    /* "root:" */
  DF_SIM_ADBD_SVC_UNROOT,  /* "unroot:" */
};

struct df_sim_adbd_service {
  enum df_sim_adbd_service_kind kind;
  bool shell_protocol;  /* shell: "v2" among the args */
  bool pty;             /* shell: "pty" arg, or no command and no "raw" */
  const char *arg;      /* shell/exec: the command; reboot: the target; points into name */
};

/* Parses a service name (without its NUL). Unknown names give kind
 * UNKNOWN; a "shell" name without ':' too (services.cpp ShellService). */
void df_sim_adbd_service_parse(const char *name, struct df_sim_adbd_service *svc);

/* ---- shell protocol (adb/shell_protocol.h) ---- */

enum {
  DF_SIM_ADBD_SHELL_STDIN = 0,
  DF_SIM_ADBD_SHELL_STDOUT = 1,
  DF_SIM_ADBD_SHELL_STDERR = 2,
  DF_SIM_ADBD_SHELL_EXIT = 3,
  DF_SIM_ADBD_SHELL_CLOSE_STDIN = 4,
  DF_SIM_ADBD_SHELL_WINDOW_SIZE = 5,
};
#define DF_SIM_ADBD_SHELL_HEADER_SIZE 5

/* u8 id + u32 LE length. */
void df_sim_adbd_shell_header(uint8_t out[DF_SIM_ADBD_SHELL_HEADER_SIZE], uint8_t id,
                              uint32_t len);

/* Splits the host's byte stream into shell packets, whatever the WRTE
 * boundaries. fn gets each piece of a packet's payload (a packet may come in
 * several pieces; end is true on its last piece; an empty packet gives one
 * call with len 0 and end true). */
struct df_sim_adbd_shell_reader {
  uint8_t header[DF_SIM_ADBD_SHELL_HEADER_SIZE];
  size_t header_len;
  uint8_t id;
  uint32_t left;
  bool in_payload;
};
typedef void (*df_sim_adbd_shell_piece_fn)(void *ctx, uint8_t id, const uint8_t *data,
                                           size_t len, bool end);
void df_sim_adbd_shell_feed(struct df_sim_adbd_shell_reader *r, const uint8_t *data, size_t len,
                            df_sim_adbd_shell_piece_fn fn, void *ctx);

/* ---- sync protocol (adb/file_sync_protocol.h) ---- */

#define DF_SIM_ADBD_SYNC_ID(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define DF_SIM_ADBD_ID_STAT DF_SIM_ADBD_SYNC_ID('S', 'T', 'A', 'T')
#define DF_SIM_ADBD_ID_STA2 DF_SIM_ADBD_SYNC_ID('S', 'T', 'A', '2')
#define DF_SIM_ADBD_ID_LST2 DF_SIM_ADBD_SYNC_ID('L', 'S', 'T', '2')
#define DF_SIM_ADBD_ID_LIST DF_SIM_ADBD_SYNC_ID('L', 'I', 'S', 'T')
#define DF_SIM_ADBD_ID_LIS2 DF_SIM_ADBD_SYNC_ID('L', 'I', 'S', '2')
#define DF_SIM_ADBD_ID_SEND DF_SIM_ADBD_SYNC_ID('S', 'E', 'N', 'D')
#define DF_SIM_ADBD_ID_RECV DF_SIM_ADBD_SYNC_ID('R', 'E', 'C', 'V')
#define DF_SIM_ADBD_ID_DENT DF_SIM_ADBD_SYNC_ID('D', 'E', 'N', 'T')
#define DF_SIM_ADBD_ID_DNT2 DF_SIM_ADBD_SYNC_ID('D', 'N', 'T', '2')
#define DF_SIM_ADBD_ID_DONE DF_SIM_ADBD_SYNC_ID('D', 'O', 'N', 'E')
#define DF_SIM_ADBD_ID_DATA DF_SIM_ADBD_SYNC_ID('D', 'A', 'T', 'A')
#define DF_SIM_ADBD_ID_OKAY DF_SIM_ADBD_SYNC_ID('O', 'K', 'A', 'Y')
#define DF_SIM_ADBD_ID_FAIL DF_SIM_ADBD_SYNC_ID('F', 'A', 'I', 'L')
#define DF_SIM_ADBD_ID_QUIT DF_SIM_ADBD_SYNC_ID('Q', 'U', 'I', 'T')

/* SyncRequest path_length limit, SYNC_DATA_MAX. */
#define DF_SIM_ADBD_SYNC_PATH_MAX 1024
#define DF_SIM_ADBD_SYNC_DATA_MAX (64 * 1024)
#define DF_SIM_ADBD_SYNC_HEADER_SIZE 8     /* id + u32: requests, DATA, DONE, OKAY, FAIL */
#define DF_SIM_ADBD_SYNC_STAT_V1_SIZE 16   /* id mode size mtime */
#define DF_SIM_ADBD_SYNC_STAT_V2_SIZE 72   /* see df_sim_adbd_sync_stat_v2 */
#define DF_SIM_ADBD_SYNC_DENT_V1_SIZE 20   /* id mode size mtime namelen, then name */
#define DF_SIM_ADBD_SYNC_DENT_V2_SIZE 76   /* stat_v2 fields + namelen, then name */

/* What a stat reply carries (struct stat's fields as adbd copies them). */
struct df_sim_adbd_sync_stat {
  uint64_t dev;
  uint64_t ino;
  uint32_t mode;
  uint32_t nlink;
  uint32_t uid;
  uint32_t gid;
  uint64_t size;
  int64_t atime;
  int64_t mtime;
  int64_t ctime;
};

/* Each writes one message and returns its size. */
size_t df_sim_adbd_sync_header(uint8_t out[DF_SIM_ADBD_SYNC_HEADER_SIZE], uint32_t id,
                               uint32_t value);
/* STAT reply: a missing file is all zeros after the id (do_lstat_v1). */
size_t df_sim_adbd_sync_stat_v1(uint8_t out[DF_SIM_ADBD_SYNC_STAT_V1_SIZE],
                                const struct df_sim_adbd_sync_stat *st);
/* STA2/LST2 reply: id, error (errno, 0 on success), dev, ino, mode, nlink,
 * uid, gid, size, atime, mtime, ctime; fields are 0 when error != 0. */
size_t df_sim_adbd_sync_stat_v2(uint8_t out[DF_SIM_ADBD_SYNC_STAT_V2_SIZE], uint32_t id,
                                uint32_t error, const struct df_sim_adbd_sync_stat *st);
/* DENT / DNT2 record header; the name (namelen bytes) follows. */
size_t df_sim_adbd_sync_dent_v1(uint8_t out[DF_SIM_ADBD_SYNC_DENT_V1_SIZE],
                                const struct df_sim_adbd_sync_stat *st, uint32_t namelen);
size_t df_sim_adbd_sync_dent_v2(uint8_t out[DF_SIM_ADBD_SYNC_DENT_V2_SIZE], uint32_t error,
                                const struct df_sim_adbd_sync_stat *st, uint32_t namelen);

/* SEND's "path,mode": the path before the last ',', the mode parsed as
 * strtoul(.., 0) (file_sync_service.cpp do_send_v1). DF_EINVAL for a missing
 * ',' ("missing , in ID_SEND_V1") or a bad number; DF_ETOOBIG when the path
 * does not fit. */
int df_sim_adbd_sync_send_spec(const char *spec, char *path, size_t pathlen, uint32_t *mode);

#endif
