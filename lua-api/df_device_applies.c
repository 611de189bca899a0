/* Does a recipe apply to a phone? Its applies_to (modes, vendors or
 * models, Android releases) against what is known of the phone. Pure. */
#include <stdio.h>
#include <string.h>

#include "lua-api/df_device.h"
#include "lua-api/recipe.h"

static void
df_applies_list(char *out, size_t outlen, char *const *items, size_t n)
{
  size_t used = 0;

  out[0] = '\0';
  for (size_t i = 0; i < n && used + 2 < outlen; i++) {
    int w = snprintf(out + used, outlen - used, "%s%s", i > 0 ? ", " : "", items[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

bool
df_recipe_applies(const struct df_recipe *r, const struct df_device_facts *f, char *why,
                  size_t whylen)
{
  char list[256];
  bool ok = false;

  for (size_t i = 0; i < r->nmodes && !ok; i++)
    ok = df_device_mode_serves(f->mode, r->modes[i]);
  if (!ok) {
    df_applies_list(list, sizeof(list), r->modes, r->nmodes);
    snprintf(why, whylen, "recipe '%s' works on a phone in %s mode; this phone is in %s mode",
             r->id, list, f->mode);
    return false;
  }
  if (r->nmodels > 0) {
    ok = false;
    for (size_t i = 0; i < r->nmodels && !ok; i++)
      ok = f->model_id != NULL && strcmp(f->model_id, r->models[i]) == 0;
    if (!ok) {
      df_applies_list(list, sizeof(list), r->models, r->nmodels);
      snprintf(why, whylen, "recipe '%s' is for %s; this phone is %s", r->id, list,
               f->model_id != NULL && f->model_id[0] ? f->model_id : "not a known model");
      return false;
    }
  }
  if (r->nvendors > 0) {
    ok = false;
    for (size_t i = 0; i < r->nvendors && !ok; i++)
      ok = f->vendor != NULL && strcmp(f->vendor, r->vendors[i]) == 0;
    if (!ok) {
      df_applies_list(list, sizeof(list), r->vendors, r->nvendors);
      snprintf(why, whylen, "recipe '%s' is for %s phones; this phone is %s", r->id, list,
               f->vendor != NULL && f->vendor[0] ? f->vendor : "of an unknown vendor");
      return false;
    }
  }
  /* An unknown release (fastboot modes cannot tell) does not refuse. */
  if (f->android > 0 && r->android_min > 0 && f->android < r->android_min) {
    snprintf(why, whylen, "recipe '%s' needs Android %d or later; this phone runs Android %d",
             r->id, r->android_min, f->android);
    return false;
  }
  if (f->android > 0 && r->android_max > 0 && f->android > r->android_max) {
    snprintf(why, whylen, "recipe '%s' is for Android %d at most; this phone runs Android %d",
             r->id, r->android_max, f->android);
    return false;
  }
  if (whylen > 0) why[0] = '\0';
  return true;
}
