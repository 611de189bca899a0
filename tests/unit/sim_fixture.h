/* Fixture for the simulated phone's unit tests (test_sim_*.c): a phone in a
 * fresh temporary state directory, run without a loop (reboots complete at
 * once), and a helper to run shell lines. */
#ifndef DF_TEST_SIM_FIXTURE_H
#define DF_TEST_SIM_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

struct sim_fx {
  char dir[64];
  struct df_sim_phone *phone;
  struct df_sim_output o;
};

static int
sim_fx_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Opens a new phone of model with the given faults (NULL-terminated). */
static inline struct df_sim_phone *
sim_fx_open_in(const char *dir, const char *model, const char *const *faults, bool rooted)
{
  struct df_sim_phone_options o = {0};
  size_t n = 0;
  while (faults && faults[n]) {
    n++;
  }
  o.state_dir = dir;
  o.model = model;
  o.faults = faults;
  o.nfaults = n;
  o.rooted = rooted;
  o.serial = "SIMTEST1";
  struct df_sim_phone *phone = NULL;
  char err[512];
  int r = df_sim_phone_open(&o, &phone, err, sizeof(err));
  if (r != 0) {
    fprintf(stderr, "open failed: %s\n", err);
    return NULL;
  }
  return phone;
}

static inline void
sim_fx_new(struct sim_fx *fx, const char *model, const char *const *faults, bool rooted)
{
  memset(fx, 0, sizeof(*fx));
  snprintf(fx->dir, sizeof(fx->dir), "/tmp/df-sim-test-XXXXXX");
  if (mkdtemp(fx->dir) == NULL) {
    abort();
  }
  fx->phone = sim_fx_open_in(fx->dir, model, faults, rooted);
  if (fx->phone == NULL) {
    abort();
  }
}

/* Closes and opens the phone again from its state directory. */
static inline void
sim_fx_reopen(struct sim_fx *fx)
{
  df_sim_phone_free(fx->phone);
  fx->phone = sim_fx_open_in(fx->dir, NULL, NULL, false);
  if (fx->phone == NULL) {
    abort();
  }
}

static inline void
sim_fx_free(struct sim_fx *fx)
{
  df_sim_output_free(&fx->o);
  df_sim_phone_free(fx->phone);
  nftw(fx->dir, sim_fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A cmocka group setup's body: a new phone of model in the fixture *state
 * points to (one at a time: each setup is paired with sim_fx_teardown). */
static inline int
sim_fx_setup(void **state, const char *model, bool rooted)
{
  static struct sim_fx fx;
  sim_fx_new(&fx, model, NULL, rooted);
  *state = &fx;
  return 0;
}

static inline int
sim_fx_teardown(void **state)
{
  sim_fx_free(*state);
  return 0;
}

/* Runs a line as shell (or root); returns its exit code. fx->o keeps the
 * output ("" when empty) until the next run. */
static inline int
sim_fx_sh(struct sim_fx *fx, const char *line, bool root)
{
  df_sim_output_free(&fx->o);
  df_sim_shell_run(fx->phone, line, root, &fx->o);
  df_sim_buf_append(&fx->o.out, "", 0);
  df_sim_buf_append(&fx->o.err, "", 0);
  return fx->o.exit_code;
}

static inline const char *
sim_fx_out(struct sim_fx *fx)
{
  return fx->o.out.data;
}

static inline const char *
sim_fx_err(struct sim_fx *fx)
{
  return fx->o.err.data;
}

static inline bool
sim_fx_fault_active(struct sim_fx *fx, const char *name)
{
  char list[256];
  df_sim_phone_active_faults(fx->phone, list, sizeof(list));
  return strstr(list, name) != NULL;
}

#endif
