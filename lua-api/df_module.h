/* The df module recipes see (its non-device part): a fresh df table per
 * environment, and the host it talks through (the runner, which turns
 * say/log/progress into events and questions into the CLI's prompts).
 * The API reference is lua-api/meta/df.lua. */
#ifndef DF_LUA_DF_MODULE_H
#define DF_LUA_DF_MODULE_H

#include <stddef.h>

#include <lua.h>

#include "core/log.h"

enum df_question_kind {
  DF_QUESTION_CONFIRM = 0, /* yes or no */
  DF_QUESTION_CHOOSE,      /* one of options */
};

struct df_question {
  enum df_question_kind kind;
  const char *text;
  const char *const *options; /* DF_QUESTION_CHOOSE: noptions labels */
  size_t noptions;
  /* DF_QUESTION_CONFIRM from df.confirm_typed: the code the user must type
   * (exactly) for a yes; anything else is a no. NULL: a plain yes/no. A
   * host that asks gives 1 only when the typed text equals it; --yes
   * answers it like any confirmation. */
  const char *typed;
};

/* The answer to a question: for a confirmation 1 (yes) or 0 (no); for a
 * choice the 1-based index; a negative DF_E* when no answer will come
 * (DF_ECANCELED: the user gave up). Called once, on the loop thread, and
 * may be called before ask returns. */
typedef void (*df_answer_fn)(void *answer_ctx, int answer);

/* One step of a button combination, as the device file writes it. */
struct df_wait_button {
  const char *action;
  const char *const *keys;
  size_t nkeys;
  const char *until; /* NULL when none */
  double seconds;    /* 0 when none */
};

/* What a device call waits for (the "waiting" event): the phone coming
 * back after a reboot, or a person pressing buttons (instruct). */
struct df_wait_info {
  const char *for_what;       /* "reboot", "instruct" */
  const char *serial;
  const char *combo;          /* instruct: the model.modes key ("fastboot"); else NULL */
  const char *mode;           /* the device mode(s) waited for ("bootloader") */
  const char *const *steps;   /* instruct: the steps as sentences */
  size_t nsteps;
  /* instruct: the same steps as the device file has them (action "hold",
   * "release", "press", "plug_usb", "unplug_usb", "wait"; keys such as
   * "volume_down"; until and seconds optional), for a GUI or a test;
   * nbuttons == nsteps. NULL otherwise. */
  const struct df_wait_button *buttons;
  size_t nbuttons;
  unsigned timeout_s;
  const char *message;        /* one sentence for the user */
};

struct df_host_callbacks {
  void (*say)(void *ud, const char *text);   /* a sentence for the user */
  void (*step)(void *ud, const char *text);  /* a headline: what happens now */
  void (*log)(void *ud, enum df_log_level level, const char *text);
  void (*progress)(void *ud, const char *label, double done, double total);
  /* Asks the user. Returns 0 (answer will be called), or a negative DF_E*
   * with answer never called (DF_EUNSUPPORTED: nobody can be asked). */
  int (*ask)(void *ud, const struct df_question *q, df_answer_fn answer, void *answer_ctx);
  /* A device call starts waiting (may be NULL: then it is said). */
  void (*waiting)(void *ud, const struct df_wait_info *w);
};

/* Sets the host of L's state (one per run). cbs must outlive the state;
 * NULL cbs restores the default (say/log to the log, no questions). */
void
df_module_set_host(lua_State *L, const struct df_host_callbacks *cbs, void *ud);

/* Pushes a fresh df table: a df_sandbox_global_fn (df_sandbox_add_global). */
void
df_module_push(lua_State *L);

/* The version string recipes see as df.version. */
#define DF_MODULE_VERSION DF_VERSION

/* ---- for the df_*.c files that fill the table ---- */

/* The host of L's state (a default when none is set) and its userdata. */
const struct df_host_callbacks *
df_module_host(lua_State *L, void **ud);

/* Formats args [first..top] like string.format when there are several,
 * else tostring of the one value; pushes the text and returns it. */
const char *
df_module_format(lua_State *L, int first);

/* Add their functions to the table on top of L. */
void
df_ui_register(lua_State *L);

void
df_sleep_register(lua_State *L);

/* Functions external plugins added (lua-api/plugin.c); may be none. */
void
df_plugin_register_all(lua_State *L);

#endif
