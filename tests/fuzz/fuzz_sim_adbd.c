/* Fuzzes the device-side parsers of droidfix-sim (tests/sim/adbd_packet.h,
 * and the number parser of the sim's fastboot commands) with what a host
 * could send, and cross-checks them against the host side's own parsers in
 * plugins/adb, written apart from them:
 *   - a 24-byte header both sides know the command of is accepted by both or
 *     refused by both, with the same fields;
 *   - the sim's shell reader and the host's shell decoder turn one byte
 *     stream (fed in random pieces to the sim) into the same streams, and
 *     the sim's end flag comes exactly on a packet's last piece;
 *   - a service name's argument points into the name; SEND's "path,mode"
 *     gives back the path before the last comma; negotiation stays within
 *     4096..1 MiB; the sim's fastboot numbers read as strtoull reads them. */
#include "tests/fuzz/fuzz_util.h"

#include <errno.h>

#include "core/error.h"
#include "plugins/adb/adb_packet.h"
#include "plugins/adb/adb_shell_protocol.h"
#include "tests/sim/adbd_packet.h"
#include "tests/sim/fastbootd_internal.h"

struct streams {
  struct df_fuzz_log log;
  struct df_fuzz_log cur;
  int cur_id;
};

static void
flush(struct streams *s)
{
  if (s->cur_id < 0) return;
  df_fuzz_log_u64(&s->log, (uint64_t)s->cur_id);
  df_fuzz_log_u64(&s->log, s->cur.len);
  df_fuzz_log_put(&s->log, s->cur.p, s->cur.len);
  s->cur.len = 0;
  s->cur_id = -1;
}

static void
add(struct streams *s, uint8_t id, const uint8_t *data, size_t len)
{
  if (len == 0) {
    flush(s);
    df_fuzz_log_u64(&s->log, 0x100u + id);
    return;
  }
  if (s->cur_id != id) flush(s);
  s->cur_id = id;
  df_fuzz_log_put(&s->cur, data, len);
}

static int
host_piece(void *ctx, uint8_t id, const uint8_t *data, size_t len)
{
  add(ctx, id, data, len);
  return 0;
}

static void
sim_piece(void *ctx, uint8_t id, const uint8_t *data, size_t len, bool end)
{
  add(ctx, id, data, len);
  (void)end;
}

/* The whole stream in one call: each packet must come as one piece, at the
 * offset and length its header gives (cut by the end of the stream), with
 * end set when the packet is complete. The walk below is the reference. */
struct sim_walk {
  struct streams s;
  const uint8_t *stream;
  size_t size;
  size_t next;   /* where the next packet's header starts */
};

static void
sim_piece_checked(void *ctx, uint8_t id, const uint8_t *data, size_t len, bool end)
{
  struct sim_walk *w = ctx;
  size_t off = (size_t)(data - w->stream), pos = w->next;
  uint64_t plen, have;

  DF_FUZZ_CHECK(pos + 5 <= w->size, "a piece with no header left (at %zu)", pos);
  plen = (uint64_t)w->stream[pos + 1] | (uint64_t)w->stream[pos + 2] << 8 |
         (uint64_t)w->stream[pos + 3] << 16 | (uint64_t)w->stream[pos + 4] << 24;
  have = w->size - pos - 5 < plen ? w->size - pos - 5 : plen;
  DF_FUZZ_CHECK(id == w->stream[pos] && off == pos + 5 && len == have && end == (have == plen),
                "piece id %u at %zu+%zu end %d; expected id %u at %zu+%llu end %d", id, off, len,
                end, w->stream[pos], pos + 5, (unsigned long long)have, have == plen);
  DF_FUZZ_CHECK(len > 0 || plen == 0, "an empty piece of a packet of %llu bytes",
                (unsigned long long)plen);
  w->next = pos + 5 + (size_t)have;
  sim_piece(&w->s, id, data, len, end);
}

static void
check_shell(const uint8_t *data, size_t size)
{
  struct df_fuzz_rng rng;
  struct streams host = {.cur_id = -1};
  struct sim_walk sim = {.s = {.cur_id = -1}, .stream = data, .size = size, .next = 0};
  struct df_shell_decoder d;
  struct df_sim_adbd_shell_reader r;

  df_shell_decoder_init(&d);
  DF_FUZZ_CHECK(df_shell_decoder_feed(&d, data, size, host_piece, &host) == 0, "host feed");
  flush(&host);

  memset(&r, 0, sizeof(r));
  df_fuzz_rng_seed(&rng, data, size);
  /* Whole stream in one call first, for the end-flag walk. */
  df_sim_adbd_shell_feed(&r, data, size, sim_piece_checked, &sim);
  /* What is left: part of a header, or a header whose payload has not come. */
  DF_FUZZ_CHECK(size - sim.next < 5 ||
                  (size - sim.next == 5 && (data[sim.next + 1] | data[sim.next + 2] |
                                            data[sim.next + 3] | data[sim.next + 4]) != 0),
                "a whole packet at %zu was not read", sim.next);
  flush(&sim.s);
  DF_FUZZ_CHECK(df_fuzz_log_equal(&host.log, &sim.s.log), "host and sim read the stream apart");

  /* Then in random pieces. */
  struct streams cut = {.cur_id = -1};
  memset(&r, 0, sizeof(r));
  for (size_t off = 0; off < size;) {
    size_t n = df_fuzz_piece(&rng, size - off);
    df_sim_adbd_shell_feed(&r, data + off, n, sim_piece, &cut);
    off += n;
  }
  flush(&cut);
  DF_FUZZ_CHECK(df_fuzz_log_equal(&host.log, &cut.log), "the sim reads pieces otherwise");
  df_fuzz_log_free(&host.log);
  df_fuzz_log_free(&host.cur);
  df_fuzz_log_free(&sim.s.log);
  df_fuzz_log_free(&sim.s.cur);
  df_fuzz_log_free(&cut.log);
  df_fuzz_log_free(&cut.cur);
}

static void
check_header(const uint8_t *data, size_t size)
{
  uint8_t raw[DF_ADB_HEADER_SIZE] = {0};
  struct df_adb_header h;
  struct df_sim_adbd_msg m;
  int host, sim;

  memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
  host = df_adb_header_decode(raw, DF_ADB_MAX_PAYLOAD_LEGACY, &h);
  sim = df_sim_adbd_header_parse(raw, DF_SIM_ADBD_MAX_PAYLOAD_V1, &m);
  DF_FUZZ_CHECK(sim == 0 || sim == DF_EPROTO || sim == DF_ETOOBIG, "sim: %d", sim);
  if (!df_sim_adbd_command_known(m.command) || strcmp(df_adb_command_name(h.command), "????") == 0)
    return;
  DF_FUZZ_CHECK((host == 0) == (sim == 0), "host %d, sim %d", host, sim);
  if (host == 0)
    DF_FUZZ_CHECK(h.command == m.command && h.arg0 == m.arg0 && h.arg1 == m.arg1 &&
                    h.data_length == m.data_length && h.data_check == m.data_check,
                  "fields differ");
}

static void
check_strings(const uint8_t *data, size_t size)
{
  char text[2048], path[64];
  size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
  struct df_sim_adbd_service svc;
  uint32_t mode = 0;
  uint64_t v;
  int rc;

  memcpy(text, data, n);
  text[n] = '\0';
  df_sim_adbd_service_parse(text, &svc);
  DF_FUZZ_CHECK(svc.arg != NULL, "no argument");
  if (svc.arg[0] != '\0')
    DF_FUZZ_CHECK(svc.arg > text && svc.arg <= text + strlen(text), "argument outside the name");
  if (svc.kind == DF_SIM_ADBD_SVC_SHELL) DF_FUZZ_CHECK(strncmp(text, "shell", 5) == 0, "shell");

  rc = df_sim_adbd_sync_send_spec(text, path, sizeof(path), &mode);
  if (rc == 0) {
    const char *comma = strrchr(text, ',');
    DF_FUZZ_CHECK(comma != NULL && strlen(path) == (size_t)(comma - text) &&
                    memcmp(path, text, strlen(path)) == 0, "SEND path");
  } else {
    DF_FUZZ_CHECK(rc == DF_EINVAL || rc == DF_ETOOBIG, "SEND: %d", rc);
  }

  rc = df_sim_fb_parse_u64(text, &v);
  if (rc == 0) {
    char *end;
    errno = 0;
    unsigned long long want = strtoull(text, &end, 0);
    DF_FUZZ_CHECK(errno == 0 && *end == '\0' && want == v && text[0] != '-' && text[0] != '+',
                  "\"%s\" read as %llu", text, (unsigned long long)v);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_header(data, size);
  check_shell(data, size);
  check_strings(data, size);
  if (size >= 8) {
    uint32_t version, max;
    df_sim_adbd_negotiate(df_sim_adbd_get_u32(data), df_sim_adbd_get_u32(data + 4), &version,
                          &max);
    DF_FUZZ_CHECK(version <= DF_SIM_ADBD_VERSION && max >= DF_SIM_ADBD_MAX_PAYLOAD_V1 &&
                    max <= DF_SIM_ADBD_MAX_PAYLOAD, "negotiated %#x, %u", version, max);
  }
  return 0;
}
