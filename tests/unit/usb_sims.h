/* droidfix-sim phones as processes of their own for the tests run under
 * umockdev-wrapper (test_*_umockdev.c), and what runs around them: the
 * test's temporary folder (with HOME in it), children spawned with or
 * without umockdev's preload, a child run to its end. The USB side of the
 * phones is tests/unit/usb_bridge.h. Failures inside a test are cmocka
 * failures; the group setup's helpers return -1 instead. */
#ifndef DF_TEST_USB_SIMS_H
#define DF_TEST_USB_SIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One droidfix-sim serving a phone: serial is set by the test, the rest
 * by df_test_sim_start. */
struct df_test_sim {
  const char *serial;
  char dir[128]; /* its state folder, WORK/NAME */
  pid_t pid;
  int adb_port, fb_port;
};

/* Makes the test's temporary folder /tmp/df-TAG-XXXXXX with home/.android
 * in it, and reads DF_BIN_DIR (build/bin if unset). 0, or -1. */
int
df_test_work_init(const char *tag);

/* Removes the folder and all in it (nothing before df_test_work_init). */
void
df_test_work_remove(void);

/* The folder, and the binaries' folder. */
const char *
df_test_work(void);
const char *
df_test_bin_dir(void);

/* envp for a child: this process's environment, without umockdev's preload
 * unless keep_umockdev (the droidfix binary must see the testbed's USB
 * devices; the sim must not), with HOME in the test's folder, and never a
 * DROIDFIX_CONNECT or ANDROID_SERIAL from outside. The caller frees the
 * array (not the strings). */
char **
df_test_child_env(bool keep_umockdev);

/* Spawns argv with df_test_child_env, stdin from /dev/null, stdout to
 * out_path, stderr to err_path (/dev/null if NULL). The pid, or -1. */
pid_t
df_test_spawn(char *const argv[], bool keep_umockdev, const char *out_path,
              const char *err_path);

void
df_test_sleep_ms(long ms);

/* Reads a whole (small) file into buf; "" if it cannot. */
void
df_test_slurp(const char *path, char *buf, size_t len);

bool
df_test_port_listens(int port);

/* Waits for pid to end, checking every 10 ms; after ticks checks it is
 * killed (a hang: a failure, not a measure of speed) and false returned. */
bool
df_test_wait_exit(pid_t pid, int *status, int ticks);

/* Runs argv to its end (a hung child is killed after a minute). Output goes
 * to WORK/NAME.out and .err, read into out and err when given. Returns the
 * exit code, or -1. */
int
df_test_run(const char *name, char *const argv[], bool keep_umockdev, char *out, size_t outlen,
            char *err, size_t errlen);

/* Starts droidfix-sim serve for s->serial in WORK/NAME (output in
 * WORK/NAME.out and .err) and waits for its ports. 0, or -1 if it did not
 * announce its fastboot port. */
int
df_test_sim_start(struct df_test_sim *s, const char *name);

/* Ends the sim (SIGTERM) and waits for it. */
void
df_test_sim_stop(struct df_test_sim *s);

/* droidfix-sim VERB --state-dir DIR [ARG] to its end; its exit code. */
int
df_test_sim_tool(const struct df_test_sim *s, const char *verb, const char *arg, char *out,
                 size_t outlen);

/* The sim's own account (droidfix-sim status) of the phone's mode. */
bool
df_test_sim_mode_is(const struct df_test_sim *s, const char *mode);

/* Waits (up to 20 s) for the sim to be in mode, serving on port; a cmocka
 * failure if it is not. */
void
df_test_sim_wait_mode(const struct df_test_sim *s, const char *mode, int port);

#endif
