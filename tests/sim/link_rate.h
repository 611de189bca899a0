/* The phone's link rate (serve --link-rate MBPS): how many bytes per second
 * the simulated phone accepts from the host, over ADB and fastboot alike, as
 * a USB cable and the phone's storage would allow. Over loopback the sim
 * otherwise takes bytes as fast as the CPU moves them (about 1 GB/s), which
 * no real phone does.
 *
 * One token bucket for the process (a sim is one phone, and its protocols
 * share the one cable). The protocol servers count what they read
 * (df_sim_link_took) and, at the end of each read callback, let the link
 * hold the connection (df_sim_link_hold): when the bucket is empty, reading
 * stops and starts again once it has refilled. A read may overdraw the
 * bucket by what it took; the wait that follows pays it back, so the rate
 * holds on average over any span longer than a read (1-4 MiB).
 *
 * Only bytes from the host are limited; what the phone sends is not. With no
 * --link-rate (rate 0) nothing is limited and none of this costs anything. */
#ifndef DF_SIM_LINK_RATE_H
#define DF_SIM_LINK_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* ---- the bucket: pure arithmetic on a clock given by the caller ---- */

struct df_sim_link_bucket {
  uint64_t rate;   /* bytes per second; 0: unlimited */
  uint64_t burst;  /* most bytes it holds after a pause */
  double tokens;   /* bytes that may be taken now; below 0: overdrawn */
  uint64_t last_ns;
};

/* A full bucket of rate bytes per second at now_ns; rate 0 is unlimited. */
void df_sim_link_bucket_init(struct df_sim_link_bucket *b, uint64_t rate, uint64_t now_ns);

/* Bytes that may be taken at now_ns (UINT64_MAX when unlimited, 0 when
 * empty or overdrawn). Refills the bucket up to now_ns. */
uint64_t df_sim_link_bucket_room(struct df_sim_link_bucket *b, uint64_t now_ns);

/* n bytes were taken (the bucket may go below 0). */
void df_sim_link_bucket_take(struct df_sim_link_bucket *b, uint64_t n);

/* Nanoseconds from now_ns until the bucket holds a byte again (0: it does
 * now, or it is unlimited). Refills the bucket up to now_ns. */
uint64_t df_sim_link_bucket_wait_ns(struct df_sim_link_bucket *b, uint64_t now_ns);

/* ---- the process's link ---- */

/* Parses MBPS, a decimal number of megabytes (10^6 bytes) per second,
 * 0.001-10000, or 0 / "unlimited" for no limit, into bytes per second.
 * Returns false on anything else. */
bool df_sim_link_rate_parse(const char *text, uint64_t *bytes_per_second);

/* One line per form, for --help. */
extern const char df_sim_link_rate_usage[];

/* Sets the process's link to bytes_per_second (0: unlimited). Call before
 * any connection reads. */
void df_sim_link_rate_set(uint64_t bytes_per_second);

/* Bytes a read may take now (SIZE_MAX when unlimited); a reader that picks
 * its own size (splice) asks this first. */
size_t df_sim_link_room(void);

/* n bytes were read from the host. */
void df_sim_link_took(size_t n);

/* At the end of a read callback: when the bucket is empty, stops reading
 * from stream and, once it has refilled, calls resume(arg) (which normally
 * starts reading again, unless the connection has its own reason not to:
 * netfault.c's df_sim_nf_read_done is the one caller). Nothing when
 * unlimited, when there is room, or when there is no memory to note the
 * stream (it then reads on). Returns true when the stream was held. */
bool df_sim_link_hold(uv_stream_t *stream, void (*resume)(void *arg), void *arg);

/* The stream is closing: a held one is forgotten, resume is never called. */
void df_sim_link_forget(uv_stream_t *stream);

#endif
