/* droidfix-sim phones as processes, and the children and temporary folder
 * around them, for the umockdev tests (see usb_sims.h). */
#include "tests/unit/usb_sims.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char work[64];
static char bin_dir[512];

int
df_test_work_init(const char *tag)
{
  char dir[160];
  const char *env = getenv("DF_BIN_DIR");

  snprintf(bin_dir, sizeof(bin_dir), "%s", env != NULL ? env : "build/bin");
  snprintf(work, sizeof(work), "/tmp/df-%s-XXXXXX", tag);
  if (mkdtemp(work) == NULL) {
    work[0] = '\0';
    return -1;
  }
  snprintf(dir, sizeof(dir), "%s/home", work);
  mkdir(dir, 0700);
  snprintf(dir, sizeof(dir), "%s/home/.android", work);
  mkdir(dir, 0700);
  return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void
df_test_work_remove(void)
{
  if (work[0] != '\0') nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
df_test_work(void)
{
  return work;
}

const char *
df_test_bin_dir(void)
{
  return bin_dir;
}

char **
df_test_child_env(bool keep_umockdev)
{
  size_t n = 0, k = 0;
  char **env;
  static char home[160];

  while (environ[n] != NULL) n++;
  env = calloc(n + 2, sizeof(*env));
  assert_non_null(env);
  for (size_t i = 0; i < n; i++) {
    const char *e = environ[i];
    if (strncmp(e, "HOME=", 5) == 0 || strncmp(e, "DROIDFIX_CONNECT=", 17) == 0 ||
        strncmp(e, "ANDROID_SERIAL=", 15) == 0)
      continue;
    if (!keep_umockdev &&
        (strncmp(e, "LD_PRELOAD=", 11) == 0 || strncmp(e, "UMOCKDEV_DIR=", 13) == 0))
      continue;
    env[k++] = environ[i];
  }
  snprintf(home, sizeof(home), "HOME=%s/home", work);
  env[k++] = home;
  env[k] = NULL;
  return env;
}

pid_t
df_test_spawn(char *const argv[], bool keep_umockdev, const char *out_path, const char *err_path)
{
  posix_spawn_file_actions_t fa;
  char **env = df_test_child_env(keep_umockdev);
  pid_t pid;
  int r;

  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err_path != NULL)
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  else
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  r = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  return r == 0 ? pid : -1;
}

void
df_test_sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

void
df_test_slurp(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "r");
  size_t n = 0;

  if (f != NULL) {
    n = fread(buf, 1, len - 1, f);
    fclose(f);
  }
  buf[n] = '\0';
}

bool
df_test_port_listens(int port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

  if (fd >= 0) close(fd);
  return ok;
}

bool
df_test_wait_exit(pid_t pid, int *status, int ticks)
{
  for (int i = 0; waitpid(pid, status, WNOHANG) == 0; i++) {
    if (i == ticks) {
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      return false;
    }
    df_test_sleep_ms(10);
  }
  return true;
}

int
df_test_run(const char *name, char *const argv[], bool keep_umockdev, char *out, size_t outlen,
            char *err, size_t errlen)
{
  char out_path[256], err_path[256];
  pid_t pid;
  int status = 0;

  if (out != NULL) out[0] = '\0';
  if (err != NULL) err[0] = '\0';
  snprintf(out_path, sizeof(out_path), "%s/%s.out", work, name);
  snprintf(err_path, sizeof(err_path), "%s/%s.err", work, name);
  pid = df_test_spawn(argv, keep_umockdev, out_path, err_path);
  if (pid < 0) return -1;
  if (!df_test_wait_exit(pid, &status, 6000)) {
    fprintf(stderr, "%s hangs: killed\n", name);
    return -1;
  }
  if (out != NULL) df_test_slurp(out_path, out, outlen);
  if (err != NULL) df_test_slurp(err_path, err, errlen);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
df_test_sim_start(struct df_test_sim *s, const char *name)
{
  char sim[600], out[256], out_path[256], err_path[256], *p;
  char *argv[] = {sim, "serve", "--state-dir", s->dir, "--serial", (char *)s->serial,
                  "--boot-ms", "100", NULL};

  snprintf(sim, sizeof(sim), "%s/droidfix-sim", bin_dir);
  snprintf(s->dir, sizeof(s->dir), "%s/%s", work, name);
  mkdir(s->dir, 0700);
  snprintf(out_path, sizeof(out_path), "%s/%s.out", work, name);
  snprintf(err_path, sizeof(err_path), "%s/%s.err", work, name);
  s->pid = df_test_spawn(argv, false, out_path, err_path);
  if (s->pid < 0) return -1;
  for (int i = 0; i < 100 && s->fb_port == 0; i++) {
    df_test_sleep_ms(100);
    df_test_slurp(out_path, out, sizeof(out));
    if ((p = strstr(out, "adb 127.0.0.1:")) != NULL) s->adb_port = atoi(p + 14);
    if ((p = strstr(out, "fastboot 127.0.0.1:")) != NULL) s->fb_port = atoi(p + 19);
  }
  if (s->fb_port == 0) {
    fprintf(stderr, "droidfix-sim did not start (%s)\n", sim);
    return -1;
  }
  return 0;
}

void
df_test_sim_stop(struct df_test_sim *s)
{
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
  }
  s->pid = 0;
}

int
df_test_sim_tool(const struct df_test_sim *s, const char *verb, const char *arg, char *out,
                 size_t outlen)
{
  char sim[600];
  char *argv[] = {sim, (char *)verb, "--state-dir", (char *)s->dir, (char *)arg, NULL};

  snprintf(sim, sizeof(sim), "%s/droidfix-sim", bin_dir);
  return df_test_run("sim-tool", argv, false, out, outlen, NULL, 0);
}

bool
df_test_sim_mode_is(const struct df_test_sim *s, const char *mode)
{
  static char json[1 << 16];
  char want[64];

  if (df_test_sim_tool(s, "status", NULL, json, sizeof(json)) != 0) return false;
  snprintf(want, sizeof(want), "\"mode\": \"%s\"", mode);
  return strstr(json, want) != NULL;
}

void
df_test_sim_wait_mode(const struct df_test_sim *s, const char *mode, int port)
{
  static char json[1 << 16];

  for (int i = 0; i < 200; i++) {
    if (df_test_sim_mode_is(s, mode) && df_test_port_listens(port)) return;
    df_test_sleep_ms(100);
  }
  df_test_sim_tool(s, "status", NULL, json, sizeof(json));
  fail_msg("droidfix-sim %s did not reach mode %s (port %d): %.200s", s->serial, mode, port, json);
}
