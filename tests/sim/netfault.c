/* Network faults of droidfix-sim: the spec parser, the one fault armed for
 * the process, the per-connection byte counts that decide when it fires
 * (netfault.h says what each fault does and how bytes are counted), and
 * where a connection of either server stops and starts reading. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/link_rate.h"
#include "tests/sim/netfault.h"
#include "tests/sim/phone.h"

/* A random point lies in [0, within); 1 MiB covers the headers and the
 * first data of any transfer. */
#define DEFAULT_WITHIN (1024u * 1024)

const char df_sim_netfault_usage[] =
  "  --net-fault KIND:BYTES[:WORD]...  a network fault, fired once at byte BYTES of a\n"
  "        connection (counted per connection after the handshake; ADB: after the\n"
  "        phone's CNXN, fastboot: after FB01). It is for connections whose handshake\n"
  "        ends after it was armed: given here, every connection; armed on a running\n"
  "        phone (droidfix-sim netfault), one already open never meets it. KIND:\n"
  "          drop    the phone closes the connection (a pulled cable)\n"
  "          stall   the phone stops reading (ms=N: for N ms; default for good)\n"
  "          fail    fastboot: a download under way is answered FAIL at once (the\n"
  "                  rest is read and thrown away); else the next command is\n"
  "                  answered FAIL instead of being run\n"
  "          reboot  the phone reboots into system (silent for --boot-ms)\n"
  "        BYTES: a number, 'random' or 'random=SEED' (a byte below within=N,\n"
  "        default 1048576; the pick is logged). WORDs: adb or fastboot (which\n"
  "        protocol, default both; fail is fastboot only), in or out (bytes the\n"
  "        phone received or sent, default both summed; fail counts in only),\n"
  "        ms=N (stall), within=N (random). 'none' disarms. Examples:\n"
  "        drop:65536:adb:in  stall:0:fastboot:ms=2000  reboot:random=7\n";

static struct df_sim_netfault armed;
/* Connections past their handshake so far, and how many there were when
 * the armed fault was set: it is for the ones started after that. */
static uint64_t conns_started;
static uint64_t armed_after;
static struct df_sim_nf_conn *stalled_conn; /* the one a stall timer restarts */
static uv_timer_t stall_timer;
static bool stall_timer_init;

static const char *
kind_name(enum df_sim_nf_kind k)
{
  switch (k) {
  case DF_SIM_NF_DROP: return "drop";
  case DF_SIM_NF_STALL: return "stall";
  case DF_SIM_NF_FAIL: return "fail";
  case DF_SIM_NF_REBOOT: return "reboot";
  default: return "none";
  }
}

static bool
parse_u64(const char *s, size_t len, uint64_t *out)
{
  char buf[32], *end;
  unsigned long long v;

  if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
    return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  errno = 0;
  v = strtoull(buf, &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  *out = v;
  return true;
}

/* splitmix64: a fixed function of the seed, so a seed names one point. */
static uint64_t
mix(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int
bad(char *err, size_t errlen, const char *spec, const char *why)
{
  snprintf(err, errlen, "bad --net-fault '%s': %s", spec, why);
  return DF_EINVAL;
}

int
df_sim_netfault_parse(const char *spec, uint64_t seed_if_unset, struct df_sim_netfault *out,
                      char *err, size_t errlen)
{
  struct df_sim_netfault f = {.protos = DF_SIM_NF_ADB | DF_SIM_NF_FASTBOOT,
                              .dirs = DF_SIM_NF_IN | DF_SIM_NF_OUT, .stall_ms = -1};
  uint64_t within = DEFAULT_WITHIN;
  unsigned protos = 0, dirs = 0;
  const char *p = spec, *colon;
  size_t len;
  int field = 0;

  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (strcmp(spec, "none") == 0) {
    memset(out, 0, sizeof(*out));
    return 0;
  }
  for (;;) {
    colon = strchr(p, ':');
    len = colon != NULL ? (size_t)(colon - p) : strlen(p);
    if (field == 0) {
      if (len == 4 && strncmp(p, "drop", 4) == 0)
        f.kind = DF_SIM_NF_DROP;
      else if (len == 5 && strncmp(p, "stall", 5) == 0)
        f.kind = DF_SIM_NF_STALL;
      else if (len == 4 && strncmp(p, "fail", 4) == 0)
        f.kind = DF_SIM_NF_FAIL;
      else if (len == 6 && strncmp(p, "reboot", 6) == 0)
        f.kind = DF_SIM_NF_REBOOT;
      else
        return bad(err, errlen, spec, "the kind is drop, stall, fail or reboot (or 'none')");
    } else if (field == 1) {
      if (len == 6 && strncmp(p, "random", 6) == 0) {
        f.random = true;
        f.seed = seed_if_unset;
      } else if (len > 7 && strncmp(p, "random=", 7) == 0) {
        f.random = true;
        if (!parse_u64(p + 7, len - 7, &f.seed))
          return bad(err, errlen, spec, "random=SEED takes a number");
      } else if (!parse_u64(p, len, &f.at)) {
        return bad(err, errlen, spec, "BYTES is a number, 'random' or 'random=SEED'");
      }
    } else if (len == 3 && strncmp(p, "adb", 3) == 0) {
      protos |= DF_SIM_NF_ADB;
    } else if (len == 8 && strncmp(p, "fastboot", 8) == 0) {
      protos |= DF_SIM_NF_FASTBOOT;
    } else if (len == 2 && strncmp(p, "in", 2) == 0) {
      dirs |= DF_SIM_NF_IN;
    } else if (len == 3 && strncmp(p, "out", 3) == 0) {
      dirs |= DF_SIM_NF_OUT;
    } else if (len > 3 && strncmp(p, "ms=", 3) == 0) {
      uint64_t ms;
      if (f.kind != DF_SIM_NF_STALL)
        return bad(err, errlen, spec, "ms=N goes with stall only");
      if (!parse_u64(p + 3, len - 3, &ms) || ms > 3600000)
        return bad(err, errlen, spec, "ms=N takes milliseconds, 0-3600000");
      f.stall_ms = (int64_t)ms;
    } else if (len > 7 && strncmp(p, "within=", 7) == 0) {
      if (!parse_u64(p + 7, len - 7, &within) || within == 0)
        return bad(err, errlen, spec, "within=N takes a number above 0");
    } else {
      return bad(err, errlen, spec, "a WORD is adb, fastboot, in, out, ms=N or within=N");
    }
    field++;
    if (colon == NULL)
      break;
    p = colon + 1;
  }
  if (field < 2)
    return bad(err, errlen, spec, "give KIND:BYTES, e.g. drop:4096");
  if (protos != 0)
    f.protos = protos;
  if (dirs != 0)
    f.dirs = dirs;
  if (f.kind == DF_SIM_NF_FAIL) {
    if (protos & DF_SIM_NF_ADB)
      return bad(err, errlen, spec, "fail is a fastboot answer; ADB has none");
    if (dirs & DF_SIM_NF_OUT)
      return bad(err, errlen, spec, "fail counts bytes the phone received (in) only");
    f.protos = DF_SIM_NF_FASTBOOT;
    f.dirs = DF_SIM_NF_IN;
  }
  if (f.random)
    f.at = mix(f.seed) % within;
  *out = f;
  return 0;
}

void
df_sim_netfault_arm(const struct df_sim_netfault *fault)
{
  if (fault == NULL || fault->kind == DF_SIM_NF_NONE) {
    memset(&armed, 0, sizeof(armed));
    df_log_info("net-fault: disarmed");
    return;
  }
  armed = *fault;
  armed_after = conns_started;
  if (armed.random)
    df_log_info("net-fault: %s armed at byte %" PRIu64 " (random, seed %" PRIu64 ")",
                kind_name(armed.kind), armed.at, armed.seed);
  else
    df_log_info("net-fault: %s armed at byte %" PRIu64, kind_name(armed.kind), armed.at);
}

/* ---- per connection ---- */

void
df_sim_nf_conn_init(struct df_sim_nf_conn *c, const struct df_sim_nf_server *server,
                    void *conn, uv_stream_t *stream, struct df_sim_phone *phone)
{
  memset(c, 0, sizeof(*c));
  c->server = server;
  c->conn = conn;
  c->stream = stream;
  c->phone = phone;
  c->proto = server->proto;
}

void
df_sim_nf_conn_start(struct df_sim_nf_conn *c)
{
  c->started = true;
  c->number = ++conns_started;
}

void
df_sim_nf_conn_closed(struct df_sim_nf_conn *c)
{
  if (c->started)
    df_log_debug("net-fault: %s connection closed after %" PRIu64 " bytes in, %" PRIu64 " out",
                 c->proto == DF_SIM_NF_ADB ? "adb" : "fastboot", c->in, c->out);
  if (stalled_conn == c) {
    stalled_conn = NULL;
    if (stall_timer_init)
      uv_timer_stop(&stall_timer);
  }
  if (c->stream != NULL)
    df_sim_link_forget(c->stream);
  c->stream = NULL;
  c->phone = NULL;
}

/* Whether the armed fault counts bytes of dir on c: a connection started
 * before the arm never meets it (it may be one a host gave up on, living on
 * in the sim). */
static bool
armed_for(const struct df_sim_nf_conn *c, unsigned dir)
{
  return armed.kind != DF_SIM_NF_NONE && c->number > armed_after && (armed.protos & c->proto) &&
         (armed.dirs & dir);
}

size_t
df_sim_nf_pass(struct df_sim_nf_conn *c, unsigned dir, size_t len)
{
  uint64_t pos, allowed;

  if (c->due != DF_SIM_NF_NONE)
    return dir == DF_SIM_NF_OUT && c->due == DF_SIM_NF_STALL ? len : 0;
  if (!c->started)
    return len;
  if (!armed_for(c, dir)) {
    if (dir == DF_SIM_NF_IN)
      c->in += len;
    else
      c->out += len;
    return len;
  }
  pos = (armed.dirs & DF_SIM_NF_IN ? c->in : 0) + (armed.dirs & DF_SIM_NF_OUT ? c->out : 0);
  allowed = len;
  if (pos + len >= armed.at) {
    /* pos > at cannot happen: the fault was armed before the connection
     * started, when its count was 0. */
    allowed = armed.at > pos ? armed.at - pos : 0;
    if (armed.kind == DF_SIM_NF_STALL)
      allowed = len;
    c->due = armed.kind;
    c->stall_ms = armed.stall_ms;
    if (armed.kind == DF_SIM_NF_FAIL)
      c->fail_command = true; /* df_sim_nf_take_due's caller decides which */
    df_log_info("net-fault: %s fires at byte %" PRIu64 " of a%s %s connection "
                "(%" PRIu64 " in, %" PRIu64 " out)",
                kind_name(armed.kind), pos + allowed,
                c->proto == DF_SIM_NF_ADB ? "n" : "",
                c->proto == DF_SIM_NF_ADB ? "adb" : "fastboot",
                c->in + (dir == DF_SIM_NF_IN ? allowed : 0),
                c->out + (dir == DF_SIM_NF_OUT ? allowed : 0));
    memset(&armed, 0, sizeof(armed));
  }
  if (dir == DF_SIM_NF_IN)
    c->in += allowed;
  else
    c->out += allowed;
  return (size_t)allowed;
}

uint64_t
df_sim_nf_room(const struct df_sim_nf_conn *c, unsigned dir)
{
  uint64_t pos;

  if (c->due != DF_SIM_NF_NONE)
    return dir == DF_SIM_NF_OUT && c->due == DF_SIM_NF_STALL ? UINT64_MAX : 0;
  if (!c->started || !armed_for(c, dir))
    return UINT64_MAX;
  pos = (armed.dirs & DF_SIM_NF_IN ? c->in : 0) + (armed.dirs & DF_SIM_NF_OUT ? c->out : 0);
  return armed.at > pos ? armed.at - pos : 0;
}

enum df_sim_nf_kind
df_sim_nf_take_due(struct df_sim_nf_conn *c)
{
  enum df_sim_nf_kind k = c->due;

  c->due = DF_SIM_NF_NONE;
  return k;
}

/* Starts reading again (after a stall, or when the link has room) unless
 * the connection closed or stalled meanwhile; one that cannot read is
 * closed. */
static void
read_again(struct df_sim_nf_conn *c)
{
  int rc;

  if (c->stream == NULL || c->stalled)
    return;
  rc = uv_read_start(c->stream, c->server->alloc_cb, c->server->read_cb);
  if (rc != 0 && rc != UV_EALREADY) {
    df_log_warn("net-fault: cannot read from a %s connection again: %s; closing it",
                c->proto == DF_SIM_NF_ADB ? "adb" : "fastboot", uv_strerror(rc));
    c->server->close(c->conn);
  }
}

static void
on_stall_over(uv_timer_t *t)
{
  struct df_sim_nf_conn *c = stalled_conn;

  (void)t;
  stalled_conn = NULL;
  if (c == NULL || c->stream == NULL)
    return;
  c->stalled = false;
  df_log_info("net-fault: the stall is over; reading again");
  read_again(c);
}

void
df_sim_nf_stall(struct df_sim_nf_conn *c)
{
  if (c->stream == NULL)
    return;
  uv_read_stop(c->stream);
  c->stalled = true;
  if (c->stall_ms < 0)
    return;
  if (!stall_timer_init) {
    uv_timer_init(c->stream->loop, &stall_timer);
    stall_timer_init = true;
  }
  stalled_conn = c;
  uv_timer_start(&stall_timer, on_stall_over, (uint64_t)c->stall_ms, 0);
}

void
df_sim_nf_act(struct df_sim_nf_conn *c)
{
  switch (df_sim_nf_take_due(c)) {
  case DF_SIM_NF_NONE:
    return;
  case DF_SIM_NF_STALL:
    df_sim_nf_stall(c);
    return;
  case DF_SIM_NF_FAIL:
    if (c->server->fail != NULL)
      c->server->fail(c->conn);
    return;
  case DF_SIM_NF_REBOOT:
    if (c->phone != NULL)
      df_sim_phone_reboot(c->phone, "");
    c->server->close(c->conn);
    return;
  case DF_SIM_NF_DROP:
  default:
    c->server->close(c->conn);
    return;
  }
}

/* --link-rate: the link has room again (link_rate.h). */
static void
link_resume(void *arg)
{
  read_again(arg);
}

void
df_sim_nf_read_done(struct df_sim_nf_conn *c)
{
  if (c->stream != NULL && !c->stalled)
    df_sim_link_hold(c->stream, link_resume, c);
}
