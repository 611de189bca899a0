/* How fast droidfix-sim takes a fastboot download over loopback: a bare
 * fastboot TCP client (FB01 handshake, 8-byte big-endian frames, as
 * fastboot/tcp.cpp speaks) that sends download:SIZE and then SIZE bytes
 * from memory, as one frame, and waits for OKAY. Nothing is read from disk
 * on this side, so the figure is the phone's intake, not the host's.
 *
 *   fb_intake HOST:PORT SIZE COUNT
 *
 * prints "bytes seconds" for COUNT downloads of SIZE bytes on one
 * connection (timed from the first download command to the last OKAY).
 * Exit 1 on any failure, with the reason on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (4u * 1024 * 1024)

static int
write_all(int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int
read_all(int fd, void *data, size_t len)
{
  char *p = data;

  while (len > 0) {
    ssize_t n = read(fd, p, len);

    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void
put_be64(uint8_t *b, uint64_t v)
{
  for (int i = 7; i >= 0; i--) {
    b[i] = (uint8_t)(v & 0xff);
    v >>= 8;
  }
}

static uint64_t
get_be64(const uint8_t *b)
{
  uint64_t v = 0;

  for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
  return v;
}

static int
send_frame(int fd, const void *data, size_t len)
{
  uint8_t h[8];

  put_be64(h, len);
  if (write_all(fd, h, 8) != 0) return -1;
  return write_all(fd, data, len);
}

/* Reads one reply frame (skipping INFO/TEXT) into reply (NUL-ended). */
static int
read_reply(int fd, char *reply, size_t cap)
{
  for (;;) {
    uint8_t h[8];
    uint64_t len;

    if (read_all(fd, h, 8) != 0) return -1;
    len = get_be64(h);
    if (len >= cap) return -1;
    if (read_all(fd, reply, (size_t)len) != 0) return -1;
    reply[len] = '\0';
    if (strncmp(reply, "INFO", 4) != 0 && strncmp(reply, "TEXT", 4) != 0) return 0;
  }
}

static double
now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
  struct sockaddr_in addr;
  char host[64], reply[256], cmd[64];
  uint8_t hello[4];
  uint64_t size;
  long count;
  int port, fd;
  uint8_t *buf;
  double t0, t1;
  const char *colon;

  if (argc != 4 || (colon = strrchr(argv[1], ':')) == NULL) {
    fprintf(stderr, "usage: fb_intake HOST:PORT SIZE COUNT\n");
    return 2;
  }
  snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[1]), argv[1]);
  port = atoi(colon + 1);
  size = strtoull(argv[2], NULL, 0);
  count = strtol(argv[3], NULL, 0);
  if (size == 0 || size > 0xffffffffu || count <= 0) {
    fprintf(stderr, "fb_intake: SIZE must be 1..4294967295 and COUNT > 0\n");
    return 2;
  }
  buf = malloc(BUF_SIZE);
  if (buf == NULL) return 1;
  for (size_t i = 0; i < BUF_SIZE; i++) buf[i] = (uint8_t)(i * 2654435761u >> 13);

  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "fb_intake: %s is not an IPv4 address\n", host);
    return 2;
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    fprintf(stderr, "fb_intake: cannot connect to %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  if (write_all(fd, "FB01", 4) != 0 || read_all(fd, hello, 4) != 0 || memcmp(hello, "FB", 2) != 0) {
    fprintf(stderr, "fb_intake: no FB01 handshake from %s\n", argv[1]);
    return 1;
  }
  t0 = now();
  for (long i = 0; i < count; i++) {
    uint64_t left = size;
    uint8_t h[8];

    snprintf(cmd, sizeof(cmd), "download:%08llx", (unsigned long long)size);
    if (send_frame(fd, cmd, strlen(cmd)) != 0 || read_reply(fd, reply, sizeof(reply)) != 0 ||
        strncmp(reply, "DATA", 4) != 0) {
      fprintf(stderr, "fb_intake: download refused: %s\n", reply);
      return 1;
    }
    put_be64(h, size); /* the whole payload as one frame, as fastboot does */
    if (write_all(fd, h, 8) != 0) return 1;
    while (left > 0) {
      size_t n = left < BUF_SIZE ? (size_t)left : BUF_SIZE;

      if (write_all(fd, buf, n) != 0) {
        fprintf(stderr, "fb_intake: the phone hung up during the download\n");
        return 1;
      }
      left -= n;
    }
    if (read_reply(fd, reply, sizeof(reply)) != 0 || strncmp(reply, "OKAY", 4) != 0) {
      fprintf(stderr, "fb_intake: download not accepted: %s\n", reply);
      return 1;
    }
  }
  t1 = now();
  printf("%llu %.6f\n", (unsigned long long)(size * (uint64_t)count), t1 - t0);
  close(fd);
  free(buf);
  return 0;
}
