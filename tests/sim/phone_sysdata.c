/* What Android's system services keep in files under /data/system, which
 * the sim keeps in the same places of its file tree: the daily snapshot of
 * storage sizes (DiskStatsLoggingService -> diskstats_cache.json, read back
 * by `dumpsys diskstats`) and master sync (SyncStorageEngine's
 * sync/accounts.xml, read by `dumpsys content`). Facts from AOSP
 * frameworks/base services/core/java/com/android/server/storage/
 * DiskStatsLoggingService.java and DiskStatsFileLogger.java, and
 * services/core/java/com/android/server/content/SyncStorageEngine.java. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

int
df_sim_phone_diskstats_job(struct df_sim_phone *phone)
{
  /* DiskStatsFileLogger.getJsonRepresentation: one JSON object on one line,
   * sizes in bytes; per package appSizes is the code, appDataSizes the data
   * (StorageStats.getDataBytes(), which includes the cache) and cacheSizes
   * the cache. The phone writes it about once a day, while idle and
   * charging (DiskStatsLoggingService.schedule), or when the shell forces
   * the job (`cmd jobscheduler run -f android 1145656139`,
   * shell_jobscheduler.c); queryTime is System.currentTimeMillis() of the
   * run. */
  struct df_sim_buf names = {0}, apps = {0}, datas = {0}, caches = {0}, json = {0};
  uint64_t app_sum = 0, data_sum = 0, cache_sum = 0;
  for (size_t k = 0; k < phone->npkgs; k++) {
    const struct df_sim_package *p = &phone->pkgs[k];
    const char *sep = k ? "," : "";
    uint64_t app = p->system ? 0 : 41943040;
    uint64_t cache = df_sim_pkg_cache_size(phone, p);
    uint64_t data = df_sim_pkg_data_size(phone, p) + cache;
    app_sum += app;
    data_sum += data;
    cache_sum += cache;
    df_sim_buf_printf(&names, "%s\"%s\"", sep, p->name);
    df_sim_buf_printf(&apps, "%s%" PRIu64, sep, app);
    df_sim_buf_printf(&datas, "%s%" PRIu64, sep, data);
    df_sim_buf_printf(&caches, "%s%" PRIu64, sep, cache);
  }
  df_sim_buf_printf(&json,
                    "{\"queryTime\":%" PRId64 ",\"photosSize\":0,\"videosSize\":0,\"audioSize\":0,"
                    "\"downloadsSize\":0,\"systemSize\":%" PRIu64 ",\"otherSize\":0,"
                    "\"packageNames\":[%s],\"appSizes\":[%s],\"cacheSizes\":[%s],"
                    "\"appDataSizes\":[%s],\"appSize\":%" PRIu64 ",\"cacheSize\":%" PRIu64
                    ",\"appDataSize\":%" PRIu64 "}\n",
                    df_sim_phone_now_ms(phone), phone->storage_other,
                    names.data ? names.data : "", apps.data ? apps.data : "",
                    caches.data ? caches.data : "", datas.data ? datas.data : "", app_sum,
                    cache_sum, data_sum);
  int r = df_sim_vfs_write_file(phone, DF_SIM_DISKSTATS_CACHE, json.data, json.len, 1000, 1000,
                                0600, false);
  df_sim_buf_free(&names);
  df_sim_buf_free(&apps);
  df_sim_buf_free(&datas);
  df_sim_buf_free(&caches);
  df_sim_buf_free(&json);
  return r;
}

bool
df_sim_phone_master_sync(const struct df_sim_phone *phone)
{
  /* SyncStorageEngine.writeAccountInfoLocked writes one
   * <listenForTickles user="N" enabled="true|false" /> per user whose
   * master sync was set (Android 12+ writes the file as binary XML; the
   * sim keeps it as text). */
  char *xml = NULL;
  size_t len = 0;
  bool v = phone->master_sync;
  if (df_sim_vfs_read_file(phone, DF_SIM_SYNC_ACCOUNTS, &xml, &len) < 0) {
    return v;
  }
  for (const char *t = strstr(xml, "<listenForTickles"); t; t = strstr(t + 1, "<listenForTickles")) {
    const char *end = strchr(t, '>');
    const char *user = strstr(t, "user=\"");
    const char *en = strstr(t, "enabled=\"");
    if (end == NULL || user == NULL || en == NULL || user > end || en > end) {
      continue;
    }
    if (atoi(user + 6) == 0) {
      v = strncmp(en + 9, "true", 4) == 0;
    }
  }
  free(xml);
  return v;
}
