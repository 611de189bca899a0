/* The phone's link rate: a token bucket and the one the process reads
 * through, with the connections it holds until it has refilled (see
 * link_rate.h for what is limited and how). */
#include "tests/sim/link_rate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* After a pause the bucket holds at most this many milliseconds of bytes
 * (and at least MIN_BURST): a link does not save up its idle time. */
#define BURST_MS 20
#define MIN_BURST (64 * 1024)

const char df_sim_link_rate_usage[] =
  "  --link-rate MBPS  the phone accepts at most MBPS megabytes (10^6 bytes) per second\n"
  "        from the host, over ADB and fastboot together, as a USB link and the\n"
  "        phone's storage would (e.g. 40 for USB 2.0 high-speed in practice).\n"
  "        Only bytes to the phone are limited. Default: unlimited (0).\n";

/* ---- the bucket ---- */

static void
refill(struct df_sim_link_bucket *b, uint64_t now_ns)
{
  if (b->rate == 0 || now_ns <= b->last_ns)
    return;
  b->tokens += (double)(now_ns - b->last_ns) * (double)b->rate / 1e9;
  if (b->tokens > (double)b->burst)
    b->tokens = (double)b->burst;
  b->last_ns = now_ns;
}

void
df_sim_link_bucket_init(struct df_sim_link_bucket *b, uint64_t rate, uint64_t now_ns)
{
  memset(b, 0, sizeof(*b));
  b->rate = rate;
  b->burst = rate / (1000 / BURST_MS);
  if (b->burst < MIN_BURST)
    b->burst = MIN_BURST;
  b->tokens = (double)b->burst;
  b->last_ns = now_ns;
}

uint64_t
df_sim_link_bucket_room(struct df_sim_link_bucket *b, uint64_t now_ns)
{
  if (b->rate == 0)
    return UINT64_MAX;
  refill(b, now_ns);
  return b->tokens >= 1 ? (uint64_t)b->tokens : 0;
}

void
df_sim_link_bucket_take(struct df_sim_link_bucket *b, uint64_t n)
{
  if (b->rate != 0)
    b->tokens -= (double)n;
}

uint64_t
df_sim_link_bucket_wait_ns(struct df_sim_link_bucket *b, uint64_t now_ns)
{
  if (b->rate == 0)
    return 0;
  refill(b, now_ns);
  if (b->tokens >= 1)
    return 0;
  /* Until one whole byte is there again. */
  return (uint64_t)((1 - b->tokens) * 1e9 / (double)b->rate) + 1;
}

/* ---- the process's link ---- */

bool
df_sim_link_rate_parse(const char *text, uint64_t *bytes_per_second)
{
  char *end;
  double mbps;

  if (strcmp(text, "unlimited") == 0) {
    *bytes_per_second = 0;
    return true;
  }
  if (text[0] < '0' || text[0] > '9')
    return false;
  errno = 0;
  mbps = strtod(text, &end);
  if (errno != 0 || *end != '\0' || end == text)
    return false;
  if (mbps == 0) {
    *bytes_per_second = 0;
    return true;
  }
  if (mbps < 0.001 || mbps > 10000)
    return false;
  *bytes_per_second = (uint64_t)(mbps * 1e6 + 0.5);
  return true;
}

struct held {
  uv_stream_t *stream;
  void (*resume)(void *arg);
  void *arg;
  struct held *next;
};

static struct df_sim_link_bucket the_link;
static struct held *held;
static uv_timer_t timer;
static bool timer_init;

void
df_sim_link_rate_set(uint64_t bytes_per_second)
{
  df_sim_link_bucket_init(&the_link, bytes_per_second, uv_hrtime());
  if (bytes_per_second > 0)
    df_log_info("link: the phone accepts at most %.3f MB/s from the host",
                (double)bytes_per_second / 1e6);
}

size_t
df_sim_link_room(void)
{
  uint64_t room;

  if (the_link.rate == 0)
    return SIZE_MAX;
  room = df_sim_link_bucket_room(&the_link, uv_hrtime());
  return room > SIZE_MAX ? SIZE_MAX : (size_t)room;
}

void
df_sim_link_took(size_t n)
{
  df_sim_link_bucket_take(&the_link, n);
}

static bool
is_held(uv_stream_t *stream)
{
  for (struct held *h = held; h != NULL; h = h->next)
    if (h->stream == stream)
      return true;
  return false;
}

static void on_refilled(uv_timer_t *t);

static void
arm_timer(uv_loop_t *loop)
{
  uint64_t ns = df_sim_link_bucket_wait_ns(&the_link, uv_hrtime());

  if (!timer_init) {
    uv_timer_init(loop, &timer);
    uv_unref((uv_handle_t *)&timer); /* never what keeps the loop alive */
    timer_init = true;
  }
  /* libuv counts whole milliseconds: round up, so the bucket is never
   * found still empty. */
  uv_timer_start(&timer, on_refilled, (ns + 999999) / 1000000, 0);
}

/* Every held connection reads again; they share what has refilled, and
 * whichever overdraws it is held again at the end of its read. */
static void
on_refilled(uv_timer_t *t)
{
  struct held *list = held;

  if (df_sim_link_bucket_wait_ns(&the_link, uv_hrtime()) > 0) {
    arm_timer(t->loop);
    return;
  }
  held = NULL;
  while (list != NULL) {
    struct held *h = list;

    list = h->next;
    h->resume(h->arg);
    free(h);
  }
}

bool
df_sim_link_hold(uv_stream_t *stream, void (*resume)(void *arg), void *arg)
{
  struct held *h;

  if (the_link.rate == 0 || df_sim_link_bucket_wait_ns(&the_link, uv_hrtime()) == 0)
    return false;
  if (is_held(stream)) {
    uv_read_stop(stream);
    return true;
  }
  /* Without memory to remember it the connection cannot be held: it reads
   * on, above the rate, rather than never again. */
  h = malloc(sizeof(*h));
  if (h == NULL)
    return false;
  uv_read_stop(stream);
  h->stream = stream;
  h->resume = resume;
  h->arg = arg;
  h->next = held;
  held = h;
  if (!timer_init || !uv_is_active((uv_handle_t *)&timer))
    arm_timer(stream->loop);
  return true;
}

void
df_sim_link_forget(uv_stream_t *stream)
{
  for (struct held **pp = &held; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->stream == stream) {
      struct held *h = *pp;

      *pp = h->next;
      free(h);
      return;
    }
  }
}
