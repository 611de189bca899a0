/* The ADB wire formats on the device side: headers, checksums, negotiation,
 * banner, service names, shell protocol and sync messages. Pure functions;
 * each cites the AOSP file (platform-tools 29.0.6 era) its facts come from. */
#include "tests/sim/adbd_packet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

uint32_t
df_sim_adbd_get_u32(const uint8_t *p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void
df_sim_adbd_put_u32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

void
df_sim_adbd_put_u64(uint8_t *p, uint64_t v)
{
  df_sim_adbd_put_u32(p, (uint32_t)v);
  df_sim_adbd_put_u32(p + 4, (uint32_t)(v >> 32));
}

/* adb/transport.cpp check_header: bad magic or data_length above the
 * transport's max payload make adbd drop the connection. */
int
df_sim_adbd_header_parse(const uint8_t in[DF_SIM_ADBD_HEADER_SIZE], uint32_t max_payload,
                         struct df_sim_adbd_msg *msg)
{
  msg->command = df_sim_adbd_get_u32(in);
  msg->arg0 = df_sim_adbd_get_u32(in + 4);
  msg->arg1 = df_sim_adbd_get_u32(in + 8);
  msg->data_length = df_sim_adbd_get_u32(in + 12);
  msg->data_check = df_sim_adbd_get_u32(in + 16);
  msg->magic = df_sim_adbd_get_u32(in + 20);
  if (msg->magic != (msg->command ^ 0xffffffffu))
    return DF_EPROTO;
  if (msg->data_length > max_payload)
    return DF_ETOOBIG;
  return 0;
}

/* adb/adb.cpp handle_packet's cases. */
bool
df_sim_adbd_command_known(uint32_t command)
{
  switch (command) {
  case DF_SIM_ADBD_A_SYNC:
  case DF_SIM_ADBD_A_CNXN:
  case DF_SIM_ADBD_A_AUTH:
  case DF_SIM_ADBD_A_OPEN:
  case DF_SIM_ADBD_A_OKAY:
  case DF_SIM_ADBD_A_CLSE:
  case DF_SIM_ADBD_A_WRTE:
    return true;
  default:
    return false;
  }
}

/* adb/adb.cpp calculate_apacket_checksum: a plain sum of the bytes. */
uint32_t
df_sim_adbd_checksum(const void *data, size_t len)
{
  const uint8_t *p = data;
  uint32_t sum = 0;

  for (size_t i = 0; i < len; i++)
    sum += p[i];
  return sum;
}

/* adb/adb.h: A_VERSION_SKIP_CHECKSUM; peers below it (Android <= 8.1)
 * compute and check the sum. */
bool
df_sim_adbd_peer_needs_checksum(uint32_t version)
{
  return version < DF_SIM_ADBD_VERSION_SKIP_CHECKSUM;
}

void
df_sim_adbd_header_write(uint8_t out[DF_SIM_ADBD_HEADER_SIZE], uint32_t command, uint32_t arg0,
                         uint32_t arg1, const void *payload, uint32_t len, bool with_checksum)
{
  df_sim_adbd_put_u32(out, command);
  df_sim_adbd_put_u32(out + 4, arg0);
  df_sim_adbd_put_u32(out + 8, arg1);
  df_sim_adbd_put_u32(out + 12, len);
  df_sim_adbd_put_u32(out + 16, with_checksum && len > 0 ? df_sim_adbd_checksum(payload, len) : 0);
  df_sim_adbd_put_u32(out + 20, command ^ 0xffffffffu);
}

/* adb/transport.cpp atransport::update_version: each side uses the smaller
 * version and the smaller max payload. */
void
df_sim_adbd_negotiate(uint32_t peer_version, uint32_t peer_max_payload, uint32_t *version,
                      uint32_t *max_payload)
{
  *version = peer_version < DF_SIM_ADBD_VERSION ? peer_version : DF_SIM_ADBD_VERSION;
  *max_payload = peer_max_payload < DF_SIM_ADBD_MAX_PAYLOAD ? peer_max_payload
                                                             : DF_SIM_ADBD_MAX_PAYLOAD;
  if (*max_payload < DF_SIM_ADBD_MAX_PAYLOAD_V1)
    *max_payload = DF_SIM_ADBD_MAX_PAYLOAD_V1;
}

/* adb/adb.cpp get_connection_string and send_connect (the banner must fit
 * MAX_PAYLOAD_V1). */
int
df_sim_adbd_banner(char *out, size_t outlen, const char *state, const char *name,
                   const char *model, const char *device, const char *features)
{
  int n = snprintf(out, outlen,
                   "%s::ro.product.name=%s;ro.product.model=%s;ro.product.device=%s;features=%s",
                   state, name, model, device, features);
  if (n < 0 || (size_t)n >= outlen || (size_t)n > DF_SIM_ADBD_MAX_PAYLOAD_V1)
    return DF_ETOOBIG;
  return n;
}

static bool
consume_prefix(const char **s, const char *prefix)
{
  size_t n = strlen(prefix);

  if (strncmp(*s, prefix, n) != 0)
    return false;
  *s += n;
  return true;
}

/* adb/daemon/services.cpp ShellService: "shell[,arg1,arg2,...]:[command]";
 * args "raw", "pty", "v2", "TERM=..."; unknown args are ignored; PTY by
 * default when the command is empty, raw otherwise. */
static void
parse_shell(const char *rest, struct df_sim_adbd_service *svc)
{
  const char *colon = strchr(rest, ':');
  const char *p = rest;
  bool raw = false, pty = false;

  if (colon == NULL) {
    svc->kind = DF_SIM_ADBD_SVC_UNKNOWN;
    return;
  }
  while (p < colon) {
    const char *end = memchr(p, ',', (size_t)(colon - p));
    size_t n;

    if (end == NULL)
      end = colon;
    n = (size_t)(end - p);
    if (n == 3 && memcmp(p, "raw", 3) == 0)
      raw = true, pty = false;
    else if (n == 3 && memcmp(p, "pty", 3) == 0)
      pty = true, raw = false;
    else if (n == 2 && memcmp(p, "v2", 2) == 0)
      svc->shell_protocol = true;
    p = end + 1;
  }
  svc->kind = DF_SIM_ADBD_SVC_SHELL;
  svc->arg = colon + 1;
  svc->pty = pty || (!raw && svc->arg[0] == '\0');
}

/* adb/daemon/services.cpp daemon_service_to_fd: the prefixes it tests. */
void
df_sim_adbd_service_parse(const char *name, struct df_sim_adbd_service *svc)
{
  const char *rest = name;

  memset(svc, 0, sizeof(*svc));
  svc->arg = "";
  if (consume_prefix(&rest, "reboot:")) {
    svc->kind = DF_SIM_ADBD_SVC_REBOOT;
    svc->arg = rest;
  } else if (strncmp(name, "root:", 5) == 0) {
    svc->kind = DF_SIM_ADBD_SVC_ROOT;
  } else if (strncmp(name, "unroot:", 7) == 0) {
    svc->kind = DF_SIM_ADBD_SVC_UNROOT;
  } else if (consume_prefix(&rest, "shell")) {
    parse_shell(rest, svc);
  } else if (consume_prefix(&rest, "exec:")) {
    svc->kind = DF_SIM_ADBD_SVC_EXEC;
    svc->arg = rest;
  } else if (strncmp(name, "sync:", 5) == 0) {
    svc->kind = DF_SIM_ADBD_SVC_SYNC;
  } else {
    svc->kind = DF_SIM_ADBD_SVC_UNKNOWN;
  }
}

/* adb/shell_protocol.h ShellProtocol::Header: u8 id, u32 length (LE). */
void
df_sim_adbd_shell_header(uint8_t out[DF_SIM_ADBD_SHELL_HEADER_SIZE], uint8_t id, uint32_t len)
{
  out[0] = id;
  df_sim_adbd_put_u32(out + 1, len);
}

void
df_sim_adbd_shell_feed(struct df_sim_adbd_shell_reader *r, const uint8_t *data, size_t len,
                       df_sim_adbd_shell_piece_fn fn, void *ctx)
{
  while (len > 0) {
    if (!r->in_payload) {
      size_t take = DF_SIM_ADBD_SHELL_HEADER_SIZE - r->header_len;

      if (take > len)
        take = len;
      memcpy(r->header + r->header_len, data, take);
      r->header_len += take;
      data += take;
      len -= take;
      if (r->header_len < DF_SIM_ADBD_SHELL_HEADER_SIZE)
        return;
      r->header_len = 0;
      r->id = r->header[0];
      r->left = df_sim_adbd_get_u32(r->header + 1);
      if (r->left == 0) {
        fn(ctx, r->id, data, 0, true);
        continue;
      }
      r->in_payload = true;
      continue; /* no empty piece when the payload has not come yet */
    }
    {
      size_t take = r->left < len ? r->left : len;

      r->left -= (uint32_t)take;
      if (r->left == 0)
        r->in_payload = false;
      fn(ctx, r->id, data, take, r->left == 0);
      data += take;
      len -= take;
    }
  }
}

size_t
df_sim_adbd_sync_header(uint8_t out[DF_SIM_ADBD_SYNC_HEADER_SIZE], uint32_t id, uint32_t value)
{
  df_sim_adbd_put_u32(out, id);
  df_sim_adbd_put_u32(out + 4, value);
  return DF_SIM_ADBD_SYNC_HEADER_SIZE;
}

/* file_sync_protocol.h syncmsg.stat_v1: id, mode, size, time (u32 each). */
size_t
df_sim_adbd_sync_stat_v1(uint8_t out[DF_SIM_ADBD_SYNC_STAT_V1_SIZE],
                         const struct df_sim_adbd_sync_stat *st)
{
  df_sim_adbd_put_u32(out, DF_SIM_ADBD_ID_STAT);
  df_sim_adbd_put_u32(out + 4, st != NULL ? st->mode : 0);
  df_sim_adbd_put_u32(out + 8, st != NULL ? (uint32_t)st->size : 0);
  df_sim_adbd_put_u32(out + 12, st != NULL ? (uint32_t)st->mtime : 0);
  return DF_SIM_ADBD_SYNC_STAT_V1_SIZE;
}

/* The stat_v2 fields after id and error, 64 bytes (file_sync_protocol.h). */
static void
put_stat_v2_fields(uint8_t *p, const struct df_sim_adbd_sync_stat *st)
{
  static const struct df_sim_adbd_sync_stat zero;

  if (st == NULL)
    st = &zero;
  df_sim_adbd_put_u64(p, st->dev);
  df_sim_adbd_put_u64(p + 8, st->ino);
  df_sim_adbd_put_u32(p + 16, st->mode);
  df_sim_adbd_put_u32(p + 20, st->nlink);
  df_sim_adbd_put_u32(p + 24, st->uid);
  df_sim_adbd_put_u32(p + 28, st->gid);
  df_sim_adbd_put_u64(p + 32, st->size);
  df_sim_adbd_put_u64(p + 40, (uint64_t)st->atime);
  df_sim_adbd_put_u64(p + 48, (uint64_t)st->mtime);
  df_sim_adbd_put_u64(p + 56, (uint64_t)st->ctime);
}

/* file_sync_protocol.h syncmsg.stat_v2 (72 bytes, packed):
 * u32 id, u32 error, u64 dev, u64 ino, u32 mode, u32 nlink, u32 uid,
 * u32 gid, u64 size, i64 atime, i64 mtime, i64 ctime. */
size_t
df_sim_adbd_sync_stat_v2(uint8_t out[DF_SIM_ADBD_SYNC_STAT_V2_SIZE], uint32_t id, uint32_t error,
                         const struct df_sim_adbd_sync_stat *st)
{
  df_sim_adbd_put_u32(out, id);
  df_sim_adbd_put_u32(out + 4, error);
  put_stat_v2_fields(out + 8, error == 0 ? st : NULL);
  return DF_SIM_ADBD_SYNC_STAT_V2_SIZE;
}

/* file_sync_protocol.h syncmsg.dent_v1: id, mode, size, mtime, namelen. */
size_t
df_sim_adbd_sync_dent_v1(uint8_t out[DF_SIM_ADBD_SYNC_DENT_V1_SIZE],
                         const struct df_sim_adbd_sync_stat *st, uint32_t namelen)
{
  df_sim_adbd_put_u32(out, DF_SIM_ADBD_ID_DENT);
  df_sim_adbd_put_u32(out + 4, st->mode);
  df_sim_adbd_put_u32(out + 8, (uint32_t)st->size);
  df_sim_adbd_put_u32(out + 12, (uint32_t)st->mtime);
  df_sim_adbd_put_u32(out + 16, namelen);
  return DF_SIM_ADBD_SYNC_DENT_V1_SIZE;
}

/* file_sync_protocol.h syncmsg.dent_v2: the stat_v2 layout (id DNT2)
 * followed by u32 namelen: 76 bytes. */
size_t
df_sim_adbd_sync_dent_v2(uint8_t out[DF_SIM_ADBD_SYNC_DENT_V2_SIZE], uint32_t error,
                         const struct df_sim_adbd_sync_stat *st, uint32_t namelen)
{
  df_sim_adbd_put_u32(out, DF_SIM_ADBD_ID_DNT2);
  df_sim_adbd_put_u32(out + 4, error);
  put_stat_v2_fields(out + 8, error == 0 ? st : NULL);
  df_sim_adbd_put_u32(out + 72, namelen);
  return DF_SIM_ADBD_SYNC_DENT_V2_SIZE;
}

/* adb/daemon/file_sync_service.cpp do_send_v1: the last ',' splits the path
 * from the mode; the mode is strtoul(.., 0) with errno checked. */
int
df_sim_adbd_sync_send_spec(const char *spec, char *path, size_t pathlen, uint32_t *mode)
{
  const char *comma = strrchr(spec, ',');
  char *end;
  unsigned long m;
  size_t n;

  if (comma == NULL)
    return DF_EINVAL;
  n = (size_t)(comma - spec);
  if (n >= pathlen)
    return DF_ETOOBIG;
  errno = 0;
  m = strtoul(comma + 1, &end, 0);
  if (errno != 0 || m > 0xffffffffu)
    return DF_EINVAL;
  memcpy(path, spec, n);
  path[n] = '\0';
  *mode = (uint32_t)m;
  return 0;
}
