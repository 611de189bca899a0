/* The ceiling of this machine's loopback for the intake figure: a server
 * that speaks just enough fastboot (FB01, then DATA for every download and
 * OKAY when the bytes are in) and throws the bytes away by splicing them
 * from the socket through a pipe into /dev/null (no copy to user space), so
 * the only costs are the kernel's. The client (bench/fb_intake's logic)
 * runs in the parent, the server in a child.
 *
 *   tcp_sink SIZE COUNT
 *
 * prints "bytes seconds" like fb_intake. */
#define _GNU_SOURCE /* splice, F_SETPIPE_SZ */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (4u * 1024 * 1024)

static int
io_all(int fd, void *data, size_t len, int writing)
{
  char *p = data;

  while (len > 0) {
    ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

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
frame(int fd, const char *text)
{
  uint8_t h[8];

  put_be64(h, strlen(text));
  if (io_all(fd, h, 8, 1) != 0) return -1;
  return io_all(fd, (void *)text, strlen(text), 1);
}

/* The phone's side: FB01, then per download DATA, the bytes, OKAY. */
static int
serve(int fd, uint8_t *buf)
{
  uint8_t h[8];
  char cmd[65], reply[80];
  int pipefd[2] = {-1, -1};
  int devnull = open("/dev/null", O_WRONLY);

  if (devnull < 0 || pipe(pipefd) != 0)
    pipefd[0] = pipefd[1] = -1;
  else
    fcntl(pipefd[0], F_SETPIPE_SZ, 1024 * 1024);
  if (io_all(fd, h, 4, 0) != 0 || io_all(fd, "FB01", 4, 1) != 0) return -1;
  for (;;) {
    uint64_t len;

    if (io_all(fd, h, 8, 0) != 0) return 0; /* the host hung up: done */
    len = get_be64(h);
    if (len > 64 || io_all(fd, cmd, (size_t)len, 0) != 0) return -1;
    cmd[len] = '\0';
    if (strncmp(cmd, "download:", 9) != 0) return -1;
    snprintf(reply, sizeof(reply), "DATA%s", cmd + 9);
    if (frame(fd, reply) != 0 || io_all(fd, h, 8, 0) != 0) return -1;
    len = get_be64(h);
    while (len > 0) {
      ssize_t n = -1;

      if (pipefd[0] >= 0) {
        /* Non-blocking, as droidfix-sim does it: a blocking socket splice
         * waits to fill the pipe and lets the link idle meanwhile. */
        n = splice(fd, NULL, pipefd[1], NULL, len < BUF_SIZE ? (size_t)len : BUF_SIZE,
                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          struct pollfd p = {fd, POLLIN, 0};

          poll(&p, 1, -1);
          continue;
        }
      }
      if (n > 0) {
        ssize_t left = n;

        while (left > 0) {
          ssize_t m = splice(pipefd[0], NULL, devnull, NULL, (size_t)left, SPLICE_F_MOVE);

          if (m <= 0) return -1;
          left -= m;
        }
      } else {
        n = read(fd, buf, len < BUF_SIZE ? (size_t)len : BUF_SIZE);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
      }
      len -= (uint64_t)n;
    }
    if (frame(fd, "OKAY") != 0) return -1;
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
  socklen_t alen = sizeof(addr);
  uint64_t size;
  long count;
  int lfd, fd, status;
  uint8_t *buf, h[8];
  char cmd[64], reply[64];
  pid_t child;
  double t0, t1;

  if (argc != 3) {
    fprintf(stderr, "usage: tcp_sink SIZE COUNT\n");
    return 2;
  }
  size = strtoull(argv[1], NULL, 0);
  count = strtol(argv[2], NULL, 0);
  buf = calloc(1, BUF_SIZE);
  if (buf == NULL || size == 0 || size > 0xffffffffu || count <= 0) return 2;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 1) != 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
    perror("tcp_sink");
    return 1;
  }
  child = fork();
  if (child == 0) {
    int c = accept(lfd, NULL, NULL);

    _exit(c >= 0 && serve(c, buf) == 0 ? 0 : 1);
  }
  close(lfd);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) return 1;
  if (io_all(fd, "FB01", 4, 1) != 0 || io_all(fd, h, 4, 0) != 0) return 1;
  t0 = now();
  for (long i = 0; i < count; i++) {
    uint64_t left = size, len;

    snprintf(cmd, sizeof(cmd), "download:%08llx", (unsigned long long)size);
    if (frame(fd, cmd) != 0 || io_all(fd, h, 8, 0) != 0) return 1;
    len = get_be64(h);
    if (len >= sizeof(reply) || io_all(fd, reply, (size_t)len, 0) != 0) return 1;
    put_be64(h, size);
    if (io_all(fd, h, 8, 1) != 0) return 1;
    while (left > 0) {
      size_t n = left < BUF_SIZE ? (size_t)left : BUF_SIZE;

      if (io_all(fd, buf, n, 1) != 0) return 1;
      left -= n;
    }
    if (io_all(fd, h, 8, 0) != 0) return 1;
    len = get_be64(h);
    if (len >= sizeof(reply) || io_all(fd, reply, (size_t)len, 0) != 0) return 1;
  }
  t1 = now();
  close(fd);
  waitpid(child, &status, 0);
  printf("%llu %.6f\n", (unsigned long long)(size * (uint64_t)count), t1 - t0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
