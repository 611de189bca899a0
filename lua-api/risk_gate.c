/* The risk gate (risk_gate.h): the rules per step function, the gate a run
 * keeps in its Lua registry, and the check every device call makes. */
#include "lua-api/risk_gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"

/* The registry key of the run's gate (a light userdata). */
static const char df_risk_gate_key = 0;

struct df_risk_call
df_risk_gate_fastboot(const char *command)
{
  static const char *const reboots[] = {"reboot", "reboot-bootloader", "reboot-recovery",
                                        "reboot-fastboot", "continue", NULL};
  struct df_risk_call c = {DF_RISK_FIRMWARE, false};

  if (strncmp(command, "getvar:", 7) == 0) {
    c.risk = DF_RISK_READ_ONLY;
    return c;
  }
  for (size_t i = 0; reboots[i] != NULL; i++) {
    if (strcmp(command, reboots[i]) == 0) {
      c.risk = DF_RISK_READ_ONLY;
      c.reboot = true;
      return c;
    }
  }
  /* oem, flashing, erase, format, set_active, snapshot-update, reboot-edl,
   * boot, and anything not known: they can change the firmware */
  return c;
}

struct df_risk_call
df_risk_gate_instruct(const char *mode)
{
  if (strcmp(mode, "edl") == 0 || strcmp(mode, "download") == 0) return DF_RISK_CALL_FIRMWARE;
  return DF_RISK_CALL_REBOOT;
}

const char *
df_risk_gate_call_name(struct df_risk_call c, char *buf, size_t buflen)
{
  if (c.reboot && c.risk == DF_RISK_READ_ONLY)
    snprintf(buf, buflen, "reboot");
  else
    snprintf(buf, buflen, "%s%s", df_risk_name(c.risk), c.reboot ? ", reboots" : "");
  return buf;
}

const char *
df_risk_gate_rule(const struct df_risk_gate *g, struct df_risk_call c)
{
  switch (g->phase) {
  case DF_RISK_PHASE_NONE:
    return "calls to the phone are only allowed inside a step's check, fix or verify";
  case DF_RISK_PHASE_CHECK:
    if (c.risk > DF_RISK_READ_ONLY || c.reboot)
      return g->dry_run ? "check() may only read the phone (--dry-run promises the phone does "
                          "not change)"
                        : "check() may only read the phone (it also runs for --dry-run, which "
                          "promises the phone does not change); change it in fix()";
    return NULL;
  case DF_RISK_PHASE_VERIFY:
    if (g->dry_run && (c.risk > DF_RISK_READ_ONLY || c.reboot))
      return "--dry-run promises the phone does not change";
    if (c.risk > DF_RISK_READ_ONLY)
      return g->check_as_verify
               ? "check() (run again to verify) may only read the phone, reboot it and wait "
                 "for it"
               : "verify() may only read the phone, reboot it and wait for it";
    return NULL;
  case DF_RISK_PHASE_FIX:
    if (g->dry_run && (c.risk > DF_RISK_READ_ONLY || c.reboot))
      return "--dry-run promises the phone does not change";
    if (c.risk > g->step_risk) return "it is above the step's declared risk";
    return NULL;
  }
  return "unknown phase";
}

static int
df_risk_gate_install_protected(lua_State *L)
{
  lua_pushvalue(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &df_risk_gate_key);
  return 0;
}

int
df_risk_gate_install(lua_State *L, struct df_risk_gate *g)
{
  lua_pushcfunction(L, df_risk_gate_install_protected);
  lua_pushlightuserdata(L, g);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    return DF_ENOMEM;
  }
  return 0;
}

void
df_risk_gate_clear(struct df_risk_gate *g)
{
  free(g->violation);
  g->violation = NULL;
}

void
df_risk_gate_enter(struct df_risk_gate *g, enum df_risk_phase phase, const char *step_id,
                   enum df_risk step_risk, bool check_as_verify)
{
  df_risk_gate_clear(g);
  g->phase = phase;
  g->step_id = step_id;
  g->step_risk = step_risk;
  g->check_as_verify = check_as_verify;
}

static const char *
df_risk_gate_phase_name(const struct df_risk_gate *g)
{
  switch (g->phase) {
  case DF_RISK_PHASE_CHECK:
    return "check()";
  case DF_RISK_PHASE_FIX:
    return "fix()";
  case DF_RISK_PHASE_VERIFY:
    return g->check_as_verify ? "check() (run again to verify)" : "verify()";
  case DF_RISK_PHASE_NONE:
    break;
  }
  return "outside a step";
}

void
df_risk_gate_check(lua_State *L, const char *what, struct df_risk_call c, const char *detail)
{
  struct df_risk_gate *g;
  const char *rule;
  char cls[64], msg[1024];
  int n;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_risk_gate_key);
  g = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (g == NULL) return; /* no runner: a state made by a test or a tool */
  rule = df_risk_gate_rule(g, c);
  if (rule == NULL) return;
  df_risk_gate_call_name(c, cls, sizeof(cls));
  n = snprintf(msg, sizeof(msg), "recipe %s, step '%s' %s: %s (%s%s%s) is not allowed: %s",
               g->recipe_id != NULL ? g->recipe_id : "?", g->step_id != NULL ? g->step_id : "?",
               df_risk_gate_phase_name(g), what, cls, detail != NULL ? "; " : "",
               detail != NULL ? detail : "", rule);
  if (n > 0 && (size_t)n < sizeof(msg) && g->phase == DF_RISK_PHASE_FIX && !g->dry_run)
    snprintf(msg + n, sizeof(msg) - (size_t)n,
             " %s; declare risk = \"%s\" on the step (and the recipe) if it must do this",
             df_risk_name(g->step_risk), df_risk_name(c.risk));
  if (g->violation == NULL) g->violation = strdup(msg);
  luaL_error(L, "%s", msg);
}

void
df_risk_gate_check_shell(lua_State *L, const char *what, const char *cmdline)
{
  char why[256], label[160];
  struct df_risk_call c = df_risk_gate_shell(cmdline, why, sizeof(why));
  size_t n = strlen(cmdline);

  /* dev:shell("first 60 bytes...") */
  snprintf(label, sizeof(label), "%s(\"%.60s%s\")", what, cmdline, n > 60 ? "..." : "");
  for (char *p = label; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
  df_risk_gate_check(L, label, c, c.risk > DF_RISK_READ_ONLY || c.reboot ? why : NULL);
}
