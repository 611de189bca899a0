/* droidfix-sim: the simulated phone's command line.
 *   serve   runs a phone (created on first use) on an ADB and a fastboot port
 *   status  prints the phone's state as one JSON object
 *   press   holds a button combination on the running phone */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "tests/sim/link_rate.h"
#include "tests/sim/netfault.h"
#include "tests/sim/sim_internal.h"

static void
usage(FILE *f)
{
  fprintf(f,
          "usage: droidfix-sim serve --state-dir DIR [--model VENDOR/MODEL] [--fault NAME[:SCENARIO]]...\n"
          "                          [--adb-port N] [--fastboot-port N] [--serial S] [--boot-ms N]\n"
          "                          [--auth accept|prompt|reject] [--rooted] [--anti-rollback N]\n"
          "                          [--devices-dir DIR] [--net-fault SPEC] [--link-rate MBPS]\n"
          "       droidfix-sim status --state-dir DIR\n"
          "       droidfix-sim press --state-dir DIR COMBO\n"
          "       droidfix-sim netfault --state-dir DIR SPEC\n"
          "\n"
          "A simulated Android phone that speaks ADB and fastboot over TCP.\n"
          "\n"
          "serve   creates the phone in DIR on first use (default model xiaomi/redmi-k70,\n"
          "        from devices/VENDOR/MODEL.lua), or loads it; prints 'adb 127.0.0.1:PORT'\n"
          "        and 'fastboot 127.0.0.1:PORT', then serves until SIGINT or SIGTERM.\n"
          "        Ports 0 or absent: any free port. --fault breaks the phone (faults are\n"
          "        files in tests/sim/faults/; NAME:SCENARIO or NAME:cause+cause picks causes).\n"
          "        --boot-ms: how long a reboot keeps the phone silent (default 300).\n"
          "        --auth: what the phone's user answers to a new computer's key.\n"
          "        --rooted gives the phone su (until its init_boot, or boot, is flashed);\n"
          "        --anti-rollback sets its bootloader's counter.\n"
          "status  prints serial, model, codename, mode, faults, user_data_sha256 and\n"
          "        partitions as one JSON object.\n"
          "press   stands in for the user holding the model's button combination COMBO\n"
          "        (fastboot, recovery, download, safe-mode) on the phone DIR runs;\n"
          "        wipe-data: the user picks \"Wipe data\" in the recovery menu.\n"
          "netfault arms SPEC (as --net-fault, or 'none') on the running phone DIR,\n"
          "        replacing the armed one; returns once the phone took it.\n"
          "\n"
          "%s%s", df_sim_netfault_usage, df_sim_link_rate_usage);
}

static int
fail_usage(const char *fmt, const char *arg)
{
  fprintf(stderr, "droidfix-sim: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nRun 'droidfix-sim --help' for usage.\n");
  return 2;
}

static bool
parse_int(const char *s, long min, long max, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

/* ---- pid file: which process serves a state directory ---- */

static void
pid_path(const char *dir, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s/sim.pid", dir);
}

static pid_t
running_pid(const char *dir)
{
  char path[PATH_MAX];
  pid_path(dir, path, sizeof(path));
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  long pid = 0;
  if (fscanf(f, "%ld", &pid) != 1) {
    pid = 0;
  }
  fclose(f);
  if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
    return 0;
  }
  return (pid_t)pid;
}

static int
write_file_atomic(const char *path, const char *text)
{
  char tmp[PATH_MAX + 16];
  snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    return df_error_from_errno(errno);
  }
  fputs(text, f);
  if (fclose(f) != 0 || rename(tmp, path) < 0) {
    unlink(tmp);
    return DF_EIO;
  }
  return 0;
}

/* ---- serve ---- */

struct serve {
  struct df_loop loop;
  struct df_sim_phone *phone;
  struct df_sim_adbd *adbd;
  struct df_sim_fastbootd *fb;
  uv_signal_t sigint, sigterm, sigusr1, sigusr2;
  char state_dir[PATH_MAX - 64];
};

static void
on_stop_signal(uv_signal_t *h, int signum)
{
  struct serve *s = h->data;
  df_log_info("droidfix-sim: signal %d, stopping", signum);
  uv_signal_stop(&s->sigint);
  uv_signal_stop(&s->sigterm);
  uv_signal_stop(&s->sigusr1);
  uv_signal_stop(&s->sigusr2);
  df_loop_stop(&s->loop);
}

static void
on_press_signal(uv_signal_t *h, int signum)
{
  struct serve *s = h->data;
  char path[PATH_MAX + 32], combo[64] = "";
  snprintf(path, sizeof(path), "%s/press.request", s->state_dir);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return;
  }
  if (fgets(combo, sizeof(combo), f) == NULL) {
    combo[0] = '\0';
  }
  fclose(f);
  unlink(path);
  combo[strcspn(combo, "\r\n")] = '\0';
  int r = df_sim_phone_press(s->phone, combo);
  if (r < 0) {
    df_log_warn("droidfix-sim: press %s: the %s has no such button combination", combo,
                s->phone->model.name);
  } else {
    df_log_info("droidfix-sim: %s held: rebooting", combo);
  }
}

static uint64_t
netfault_seed(void)
{
  return (uint64_t)df_sim_host_now_ms() ^ ((uint64_t)getpid() << 32);
}

/* droidfix-sim netfault: DIR/netfault.request holds the spec; the file is
 * removed once it is armed (netfault_main waits for that). */
static void
on_netfault_signal(uv_signal_t *h, int signum)
{
  struct serve *s = h->data;
  char path[PATH_MAX + 32], spec[256] = "", err[512];
  struct df_sim_netfault f;

  (void)signum;
  snprintf(path, sizeof(path), "%s/netfault.request", s->state_dir);
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    return;
  }
  if (fgets(spec, sizeof(spec), fp) == NULL) {
    spec[0] = '\0';
  }
  fclose(fp);
  spec[strcspn(spec, "\r\n")] = '\0';
  if (df_sim_netfault_parse(spec, netfault_seed(), &f, err, sizeof(err)) == 0) {
    df_sim_netfault_arm(&f);
  } else {
    df_log_warn("droidfix-sim: %s", err);
  }
  unlink(path);
}

static int
serve_main(int argc, char **argv)
{
  struct df_sim_phone_options o = {0};
  const char *faults[32];
  long adb_port = 0, fb_port = 0, boot_ms = 300, anti = -1;
  struct df_sim_netfault netfault = {0};
  uint64_t link_rate = 0;
  o.faults = faults;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = strcmp(a, "--state-dir") == 0 || strcmp(a, "--model") == 0 ||
                 strcmp(a, "--fault") == 0 || strcmp(a, "--adb-port") == 0 ||
                 strcmp(a, "--fastboot-port") == 0 || strcmp(a, "--serial") == 0 ||
                 strcmp(a, "--boot-ms") == 0 || strcmp(a, "--auth") == 0 ||
                 strcmp(a, "--devices-dir") == 0 || strcmp(a, "--anti-rollback") == 0 ||
                 strcmp(a, "--net-fault") == 0 || strcmp(a, "--link-rate") == 0;
    if (takes && v == NULL) {
      return fail_usage("%s needs a value", a);
    }
    if (strcmp(a, "--state-dir") == 0) {
      o.state_dir = v;
    } else if (strcmp(a, "--model") == 0) {
      o.model = v;
    } else if (strcmp(a, "--fault") == 0) {
      if (o.nfaults >= 32) {
        return fail_usage("too many --fault options%s", "");
      }
      faults[o.nfaults++] = v;
    } else if (strcmp(a, "--adb-port") == 0) {
      if (!parse_int(v, 0, 65535, &adb_port)) {
        return fail_usage("bad --adb-port '%s': give a port number 0-65535 (0: any free port)", v);
      }
    } else if (strcmp(a, "--fastboot-port") == 0) {
      if (!parse_int(v, 0, 65535, &fb_port)) {
        return fail_usage("bad --fastboot-port '%s': give a port number 0-65535 (0: any free port)", v);
      }
    } else if (strcmp(a, "--serial") == 0) {
      if (v[0] == '\0' || strpbrk(v, " :;\t\n") != NULL || strlen(v) > 64) {
        return fail_usage("bad --serial '%s': up to 64 characters, no spaces, ':' or ';'", v);
      }
      o.serial = v;
    } else if (strcmp(a, "--boot-ms") == 0) {
      if (!parse_int(v, 0, 600000, &boot_ms)) {
        return fail_usage("bad --boot-ms '%s': give milliseconds, 0-600000", v);
      }
    } else if (strcmp(a, "--auth") == 0) {
      if (strcmp(v, "accept") == 0) {
        o.auth = DF_SIM_AUTH_ACCEPT;
      } else if (strcmp(v, "prompt") == 0) {
        o.auth = DF_SIM_AUTH_PROMPT;
      } else if (strcmp(v, "reject") == 0) {
        o.auth = DF_SIM_AUTH_REJECT;
      } else {
        return fail_usage("bad --auth '%s': give accept, prompt or reject", v);
      }
    } else if (strcmp(a, "--devices-dir") == 0) {
      o.devices_dir = v;
    } else if (strcmp(a, "--anti-rollback") == 0) {
      if (!parse_int(v, 0, 1000, &anti)) {
        return fail_usage("bad --anti-rollback '%s': give a number 0-1000", v);
      }
    } else if (strcmp(a, "--net-fault") == 0) {
      char err[512];
      if (df_sim_netfault_parse(v, netfault_seed(), &netfault, err, sizeof(err)) != 0) {
        return fail_usage("%s", err);
      }
    } else if (strcmp(a, "--link-rate") == 0) {
      if (!df_sim_link_rate_parse(v, &link_rate)) {
        return fail_usage("bad --link-rate '%s': give megabytes per second, 0.001-10000 "
                          "(e.g. 40 for USB 2.0), or 0 for no limit", v);
      }
    } else if (strcmp(a, "--rooted") == 0) {
      o.rooted = true;
    } else {
      return fail_usage("unknown option '%s'", a);
    }
    if (takes) {
      i++;
    }
  }
  if (o.state_dir == NULL) {
    return fail_usage("serve needs --state-dir DIR (where the phone lives)%s", "");
  }
  if ((adb_port >= 5555 && adb_port <= 5585) || (fb_port >= 5555 && fb_port <= 5585)) {
    fprintf(stderr, "droidfix-sim: warning: ports 5555-5585 are scanned by Google's adb server as "
                    "emulators; pick another port\n");
  }
  o.boot_ms = (int)boot_ms;
  pid_t other = running_pid(o.state_dir);
  if (other) {
    fprintf(stderr, "droidfix-sim: another droidfix-sim (pid %ld) serves %s: stop it first, or use "
                    "another --state-dir\n", (long)other, o.state_dir);
    return 1;
  }

  static struct serve s;
  snprintf(s.state_dir, sizeof(s.state_dir), "%s", o.state_dir);
  char err[1024];
  int r = df_sim_phone_open(&o, &s.phone, err, sizeof(err));
  if (r < 0) {
    fprintf(stderr, "droidfix-sim: %s\n", err[0] ? err : df_strerror(r));
    return 1;
  }
  if (anti >= 0) {
    s.phone->anti_rollback = (int)anti;
    df_sim_phone_changed(s.phone);
  }
  r = df_loop_init(&s.loop);
  if (r < 0) {
    fprintf(stderr, "droidfix-sim: cannot start the event loop: %s\n", df_strerror(r));
    df_sim_phone_free(s.phone);
    return 1;
  }
  int aport = 0, fport = 0;
  r = df_sim_adbd_new(&s.loop, s.phone, (int)adb_port, &s.adbd, &aport);
  if (r < 0) {
    fprintf(stderr, "droidfix-sim: cannot listen for adb on 127.0.0.1:%ld: %s\n", adb_port,
            df_strerror(r));
    goto out;
  }
  r = df_sim_fastbootd_new(&s.loop, s.phone, (int)fb_port, &s.fb, &fport);
  if (r < 0) {
    fprintf(stderr, "droidfix-sim: cannot listen for fastboot on 127.0.0.1:%ld: %s\n", fb_port,
            df_strerror(r));
    goto out;
  }
  df_sim_phone_attach(s.phone, &s.loop, s.adbd, s.fb);
  df_sim_link_rate_set(link_rate);
  if (netfault.kind != DF_SIM_NF_NONE) {
    df_sim_netfault_arm(&netfault);
  }

  char pidfile[PATH_MAX], pidtext[32];
  pid_path(o.state_dir, pidfile, sizeof(pidfile));
  snprintf(pidtext, sizeof(pidtext), "%ld\n", (long)getpid());
  write_file_atomic(pidfile, pidtext);

  uv_signal_init(&s.loop.uv, &s.sigint);
  uv_signal_init(&s.loop.uv, &s.sigterm);
  uv_signal_init(&s.loop.uv, &s.sigusr1);
  uv_signal_init(&s.loop.uv, &s.sigusr2);
  s.sigint.data = s.sigterm.data = s.sigusr1.data = s.sigusr2.data = &s;
  uv_signal_start(&s.sigusr2, on_netfault_signal, SIGUSR2);
  uv_signal_start(&s.sigint, on_stop_signal, SIGINT);
  uv_signal_start(&s.sigterm, on_stop_signal, SIGTERM);
  uv_signal_start(&s.sigusr1, on_press_signal, SIGUSR1);

  printf("adb 127.0.0.1:%d\nfastboot 127.0.0.1:%d\n", aport, fport);
  fflush(stdout);
  df_log_info("droidfix-sim %s (%s) in %s, mode %s", s.phone->serial, s.phone->model.id,
              o.state_dir, df_sim_mode_name(s.phone->mode));
  r = df_loop_run(&s.loop);
  unlink(pidfile);
  r = 0;
out:
  /* A phone stopped mid-reboot comes back where the reboot was going. */
  df_sim_phone_changed(s.phone);
  df_sim_adbd_free(s.adbd);
  df_sim_fastbootd_free(s.fb);
  df_sim_phone_free(s.phone);
  df_loop_close(&s.loop);
  return r < 0 ? 1 : 0;
}

/* ---- status and press ---- */

static int
dir_arg(int argc, char **argv, const char **dir, const char **extra)
{
  *dir = NULL;
  *extra = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--state-dir") == 0) {
      if (i + 1 >= argc) {
        return fail_usage("--state-dir needs a value%s", "");
      }
      *dir = argv[++i];
    } else if (argv[i][0] == '-') {
      return fail_usage("unknown option '%s'", argv[i]);
    } else if (*extra == NULL) {
      *extra = argv[i];
    } else {
      return fail_usage("unexpected argument '%s'", argv[i]);
    }
  }
  if (*dir == NULL) {
    return fail_usage("%s needs --state-dir DIR", argv[1]);
  }
  return 0;
}

static int
status_main(int argc, char **argv)
{
  const char *dir, *extra;
  int r = dir_arg(argc, argv, &dir, &extra);
  if (r) {
    return r;
  }
  if (extra) {
    return fail_usage("status takes no argument ('%s')", extra);
  }
  struct df_sim_phone_options o = {.state_dir = dir, .read_only = true};
  struct df_sim_phone *phone;
  char err[1024];
  r = df_sim_phone_open(&o, &phone, err, sizeof(err));
  if (r < 0) {
    fprintf(stderr, "droidfix-sim: %s\n", err[0] ? err : df_strerror(r));
    return 1;
  }
  struct df_sim_buf b = {0};
  r = df_sim_phone_status_json(phone, &b);
  if (r == 0) {
    fwrite(b.data, 1, b.len, stdout);
  } else {
    fprintf(stderr, "droidfix-sim: cannot read the phone in %s: %s\n", dir, df_strerror(r));
  }
  df_sim_buf_free(&b);
  df_sim_phone_free(phone);
  return r == 0 ? 0 : 1;
}

static int
press_main(int argc, char **argv)
{
  const char *dir, *combo;
  int r = dir_arg(argc, argv, &dir, &combo);
  if (r) {
    return r;
  }
  if (combo == NULL) {
    return fail_usage("press needs a COMBO (fastboot, recovery, download, safe-mode)%s", "");
  }
  struct df_sim_phone_options o = {.state_dir = dir, .read_only = true};
  struct df_sim_phone *phone;
  char err[1024];
  r = df_sim_phone_open(&o, &phone, err, sizeof(err));
  if (r < 0) {
    fprintf(stderr, "droidfix-sim: %s\n", err[0] ? err : df_strerror(r));
    return 1;
  }
  if (strcmp(combo, "wipe-data") != 0 && !df_sim_model_has_mode(&phone->model, combo)) {
    char list[256] = "";
    for (size_t i = 0; i < phone->model.modes.n; i++) {
      size_t used = strlen(list);
      snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", phone->model.modes.v[i].key);
    }
    fprintf(stderr, "droidfix-sim: the %s (%s) has no '%s' button combination; it has: %s\n",
            phone->model.name, phone->model.id, combo, list[0] ? list : "none");
    df_sim_phone_free(phone);
    return 1;
  }
  df_sim_phone_free(phone);
  pid_t pid = running_pid(dir);
  if (pid == 0) {
    fprintf(stderr, "droidfix-sim: no droidfix-sim is running in %s: start it with "
                    "'droidfix-sim serve --state-dir %s'\n", dir, dir);
    return 1;
  }
  char path[PATH_MAX + 32], text[80];
  snprintf(path, sizeof(path), "%s/press.request", dir);
  snprintf(text, sizeof(text), "%s\n", combo);
  if (write_file_atomic(path, text) < 0 || kill(pid, SIGUSR1) < 0) {
    fprintf(stderr, "droidfix-sim: cannot reach the sim (pid %ld) in %s: %s\n", (long)pid, dir,
            strerror(errno));
    return 1;
  }
  return 0;
}

static int
netfault_main(int argc, char **argv)
{
  const char *dir, *spec;
  int r = dir_arg(argc, argv, &dir, &spec);
  if (r) {
    return r;
  }
  if (spec == NULL) {
    return fail_usage("netfault needs a SPEC (e.g. drop:4096:adb, or none)%s", "");
  }
  struct df_sim_netfault f;
  char err[512];
  if (df_sim_netfault_parse(spec, 0, &f, err, sizeof(err)) != 0) {
    return fail_usage("%s", err);
  }
  pid_t pid = running_pid(dir);
  if (pid == 0) {
    fprintf(stderr, "droidfix-sim: no droidfix-sim is running in %s: start it with "
                    "'droidfix-sim serve --state-dir %s'\n", dir, dir);
    return 1;
  }
  char path[PATH_MAX + 32], text[300];
  snprintf(path, sizeof(path), "%s/netfault.request", dir);
  snprintf(text, sizeof(text), "%s\n", spec);
  if (write_file_atomic(path, text) < 0 || kill(pid, SIGUSR2) < 0) {
    fprintf(stderr, "droidfix-sim: cannot reach the sim (pid %ld) in %s: %s\n", (long)pid, dir,
            strerror(errno));
    return 1;
  }
  /* The sim removes the request once the fault is armed. */
  for (int i = 0; i < 1000; i++) {
    if (access(path, F_OK) != 0) {
      return 0;
    }
    usleep(10000);
  }
  unlink(path);
  fprintf(stderr, "droidfix-sim: the sim (pid %ld) in %s did not take the fault in 10 s\n",
          (long)pid, dir);
  return 1;
}

int
main(int argc, char **argv)
{
  if (df_log_init_from_env() < 0) {
    fprintf(stderr, "droidfix-sim: DROIDFIX_LOG must be one of error, warn, info, debug, trace\n");
  }
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *verb = argv[1];
  if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(verb, "--version") == 0) {
    printf("droidfix-sim %s\n", DF_VERSION);
    return 0;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
  }
  if (strcmp(verb, "serve") == 0) {
    return serve_main(argc, argv);
  }
  if (strcmp(verb, "status") == 0) {
    return status_main(argc, argv);
  }
  if (strcmp(verb, "press") == 0) {
    return press_main(argc, argv);
  }
  if (strcmp(verb, "netfault") == 0) {
    return netfault_main(argc, argv);
  }
  return fail_usage("unknown command '%s': use serve, status, press or netfault", verb);
}
