/* The risk gate: what each device call may do to a phone, and whether the
 * step function running now may do it. Every df.Device method (and
 * df.instruct, df.backup.create/restore) calls df_risk_gate_check first;
 * the runner says which step function runs (df_risk_gate_enter). The rules:
 *   check()  (and all of --dry-run): read-only calls only, no reboot;
 *   fix():   calls up to the step's declared risk, reboots allowed;
 *   verify(): read-only calls, reboots and waits.
 * A refused call raises (a recipe bug, not an I/O failure) and is kept in
 * the gate, so the runner fails the step even when the recipe pcall'd it.
 * The classifiers of shell command lines and fastboot commands are pure
 * functions (tests/unit/test_risk_gate.c). */
#ifndef DF_LUA_RISK_GATE_H
#define DF_LUA_RISK_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "lua-api/recipe.h"

/* What one call can do to the phone. */
struct df_risk_call {
  enum df_risk risk; /* the most it can change */
  bool reboot;       /* it restarts the phone or changes its mode */
};

#define DF_RISK_CALL_READ ((struct df_risk_call){DF_RISK_READ_ONLY, false})
#define DF_RISK_CALL_USER_DATA ((struct df_risk_call){DF_RISK_USER_DATA, false})
#define DF_RISK_CALL_FIRMWARE ((struct df_risk_call){DF_RISK_FIRMWARE, false})
#define DF_RISK_CALL_REBOOT ((struct df_risk_call){DF_RISK_READ_ONLY, true})

/* The class of a shell command line for dev:shell. Read-only only when
 * every command in it (split on |, &&, ||, ;, &, newlines, parentheses)
 * runs a program of the read-only list with read-only arguments, with no
 * output redirection but to /dev/null or another descriptor and no command
 * substitution. Known app-data commands (pm clear, am force-stop, settings
 * put, cmd appops reset ...) are app-data; writes to block devices and
 * partition tools are firmware; everything else, and anything not
 * understood, is user-data. why (may be NULL) gets the command that set the
 * class and the reason, e.g. "pm clear com.x: clears an app's data". */
struct df_risk_call
df_risk_gate_shell(const char *cmdline, char *why, size_t whylen);

/* The class of a raw fastboot command (dev:fastboot): "getvar:..." is
 * read-only; reboot, reboot-bootloader/-recovery/-fastboot and continue
 * reboot; everything else (oem, flashing, erase, format, set_active,
 * reboot-edl, unknown) is firmware. */
struct df_risk_call
df_risk_gate_fastboot(const char *command);

/* df.instruct(dev, MODE): the person restarts the phone into MODE, a
 * reboot; "edl" and "download" (the chip's and Samsung's flashing modes)
 * count as firmware. */
struct df_risk_call
df_risk_gate_instruct(const char *mode);

/* "read-only", "app-data, reboots", "reboot", ... for messages. */
const char *
df_risk_gate_call_name(struct df_risk_call c, char *buf, size_t buflen);

enum df_risk_phase {
  DF_RISK_PHASE_NONE = 0, /* no step function runs: every call is refused */
  DF_RISK_PHASE_CHECK,
  DF_RISK_PHASE_FIX,
  DF_RISK_PHASE_VERIFY,
};

/* One run's gate, owned by the runner (strings borrowed from its recipe). */
struct df_risk_gate {
  const char *recipe_id;
  const char *step_id;
  enum df_risk_phase phase;
  enum df_risk step_risk;
  bool dry_run;
  bool check_as_verify; /* VERIFY phase running check() again (no verify) */
  char *violation;      /* the first refused call of this step function */
};

/* Why c is refused in g's phase ("check() may only read the phone ..."),
 * or NULL when it is allowed. Pure. */
const char *
df_risk_gate_rule(const struct df_risk_gate *g, struct df_risk_call c);

/* Makes g the gate of L's device calls (g must outlive L's use). Returns 0
 * or DF_ENOMEM. Without a gate (a state no runner made) calls are allowed. */
int
df_risk_gate_install(lua_State *L, struct df_risk_gate *g);

/* Enters a step function: phase and step; clears the last violation. */
void
df_risk_gate_enter(struct df_risk_gate *g, enum df_risk_phase phase, const char *step_id,
                   enum df_risk step_risk, bool check_as_verify);

/* Frees the violation message. */
void
df_risk_gate_clear(struct df_risk_gate *g);

/* The call every device method makes before touching the phone: raises
 * "recipe R, step 'S' check(): WHAT (CLASS) is not allowed: RULE" when
 * the call is refused (and keeps it in the gate). detail: the shell
 * command's culprit, or NULL. */
void
df_risk_gate_check(lua_State *L, const char *what, struct df_risk_call c, const char *detail);

/* df_risk_gate_check for dev:shell: classifies cmdline first. */
void
df_risk_gate_check_shell(lua_State *L, const char *what, const char *cmdline);

#endif
