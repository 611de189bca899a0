/* A verb's way to a phone: the loop, the ADB keys, the endpoints (--connect,
 * DROIDFIX_CONNECT, else USB), finding the phones there, picking one
 * (--device / ANDROID_SERIAL, the only one, or asking), and running the loop
 * until an operation is done. Every message about finding a phone is
 * written here, once, saying what was tried and what to do. */
#ifndef DF_CLI_SESSION_H
#define DF_CLI_SESSION_H

#include <stdbool.h>

#include "cli/cli.h"
#include "core/loop.h"
#include "plugins/device.h"
#include "plugins/device_find.h"

struct df_usb;

struct df_cli_session {
  struct df_cli *cli;
  struct df_loop loop;
  bool loop_ready;
  struct df_adb_keys keys;
  bool keys_loaded;
  struct df_endpoint eps[DF_DEVICE_FIND_MAX];
  int neps;
  struct df_endpoint_owners owners; /* which phone answered where: the waits' */
  struct df_usb *usb;
  struct df_device *dev;
};

/* Sets up the loop, the endpoints and the ADB keys. Returns DF_CLI_EXIT_OK,
 * or an exit code after telling the user why not (s is closed then). */
int
df_cli_session_start(struct df_cli *cli, struct df_cli_session *s);

/* Every phone that answers now: at the endpoints, or over USB when there
 * are none. NULL only when out of memory. Free with df_device_list_free. */
struct df_device_list *
df_cli_session_find(struct df_cli_session *s);

/* Finds the phone to work on. Returns DF_CLI_EXIT_OK with s->dev set, or
 * an exit code after telling the user why not (s is closed then). */
int
df_cli_session_open(struct df_cli *cli, struct df_cli_session *s);

/* Runs the loop until *done is true. */
void
df_cli_session_run_until(struct df_cli_session *s, const bool *done);

/* Waits for the same phone to come back in one of modes (DF_DEVICE_MODE_BIT
 * mask), replacing s->dev; says what it waits for. Returns 0 or a df error. */
int
df_cli_session_wait_for(struct df_cli_session *s, unsigned modes, unsigned timeout_ms);

void
df_cli_session_close(struct df_cli_session *s);

#endif
