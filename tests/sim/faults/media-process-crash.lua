-- "android.process.media has stopped": the providers of the media process
-- hold corrupt databases, so the process crashes as it starts at every boot.
-- android.process.media hosts DownloadProvider (com.android.providers.downloads)
-- and, up to Android 10, MediaProvider; from Android 11 the MediaProvider
-- module runs in its own process (DOMAIN.md). What a real fix does: clear the
-- Download Manager's data and the media storage data, then reboot. Clearing
-- other packages (Play Store, GSF, the legacy provider on 11+) leaves it.
-- Two more scenarios: a third-party app (cleared by disabling or removing
-- it) and a system fault only a factory reset clears.
local CORRUPT = "SQLite format 3\0\255\255CORRUPT: database disk image is malformed\n"
return {
  summary = "android.process.media crashes at every boot (corrupt provider databases)",
  scenarios = {
    -- Both providers' databases are damaged (a failed restore or update).
    default = { "downloads-db", "media-db" },
    ["downloads-only"] = { "downloads-db" },
    ["media-only"] = { "media-db" },
    -- A cleaner app installed 12 days ago queues a download to a path the
    -- Download Manager refuses, at every boot: safe mode (third-party apps
    -- do not run) shows it; only disabling or removing the app clears it.
    ["third-party-app"] = { "third-party-app" },
    -- Left over from a failed firmware upgrade in /data outside any app's
    -- data: no app-level fix reaches it, it crashes in safe mode too; a
    -- factory reset (wiping /data) clears it.
    ["system"] = { "upgrade-leftover" },
  },
  causes = {
    ["third-party-app"] = {
      summary = "a recently installed cleaner app makes the Download Manager crash",
      third_party = true,
      setup = {
        { install = "com.speedcleaner.master", version_name = "3.1.7", version_code = 317,
          installed_days_ago = 12, data_bytes = 24 * 1024 * 1024, cache_bytes = 60 * 1024 * 1024 },
      },
      present = { { package_enabled = "com.speedcleaner.master" } },
      log = {
        { prio = "I", tag = "DownloadManager",
          msg = "[31] Starting download 7 for com.speedcleaner.master: /storage/emulated/0/Android/data/com.speedcleaner.master/.boost/clean.dat" },
      },
      crash = {
        process = "android.process.media",
        package = "com.android.providers.downloads",
        text = "java.lang.SecurityException: Unsupported path /storage/emulated/0/Android/data/com.speedcleaner.master/.boost/clean.dat\n"
          .. "\tat com.android.providers.downloads.Helpers.checkDestinationFilePathRestrictions(Helpers.java:612)\n"
          .. "\tat com.android.providers.downloads.DownloadThread.run(DownloadThread.java:262)\n"
          .. "\tat java.lang.Thread.run(Thread.java:1012)\n",
      },
    },
    ["upgrade-leftover"] = {
      summary = "permission state left by a failed upgrade (only a factory reset clears it)",
      setup = {
        { write = "/data/misc_de/0/apexdata/com.android.permission/runtime-permissions.xml",
          content = "<runtime-permissions version=\"-1\" fingerprint=\"stale-upgrade\">\n</runtime-permissions>\n",
          uid = 1000, gid = 1000, mode = "0600" },
      },
      present = {
        { file_contains = "/data/misc_de/0/apexdata/com.android.permission/runtime-permissions.xml", text = "stale-upgrade" },
      },
      crash = {
        process = "android.process.media",
        package = "com.android.providers.downloads",
        text = "java.lang.RuntimeException: Unable to create application com.android.providers.downloads.DownloadProviderApp: java.lang.SecurityException: Permission Denial: reading com.android.providers.media.MediaProvider uri content://media/external/file requires android.permission.ACCESS_MEDIA_LOCATION\n"
          .. "\tat android.app.ActivityThread.handleBindApplication(ActivityThread.java:6919)\n"
          .. "Caused by: java.lang.SecurityException: Permission Denial: reading com.android.providers.media.MediaProvider uri content://media/external/file requires android.permission.ACCESS_MEDIA_LOCATION\n"
          .. "\tat android.os.Parcel.createExceptionOrNull(Parcel.java:3011)\n",
      },
    },
    ["downloads-db"] = {
      summary = "the Download Manager's database is corrupt",
      setup = {
        { write = "/data/data/com.android.providers.downloads/databases/downloads.db",
          content = CORRUPT, owner = "package:com.android.providers.downloads", mode = "0660" },
      },
      present = {
        { file_contains = "/data/data/com.android.providers.downloads/databases/downloads.db", text = "CORRUPT" },
      },
      crash = {
        process = "android.process.media",
        package = "com.android.providers.downloads",
        per_boot = 2,
        text = "java.lang.RuntimeException: Unable to get provider com.android.providers.downloads.DownloadProvider: android.database.sqlite.SQLiteDatabaseCorruptException: database disk image is malformed (code 11 SQLITE_CORRUPT)\n"
          .. "\tat android.app.ActivityThread.installProvider(ActivityThread.java:7690)\n"
          .. "\tat android.app.ActivityThread.installContentProviders(ActivityThread.java:7202)\n"
          .. "\tat android.app.ActivityThread.handleBindApplication(ActivityThread.java:6919)\n"
          .. "Caused by: android.database.sqlite.SQLiteDatabaseCorruptException: database disk image is malformed (code 11 SQLITE_CORRUPT)\n"
          .. "\tat android.database.sqlite.SQLiteConnection.nativeExecuteForCursorWindow(Native Method)\n"
          .. "\tat com.android.providers.downloads.DownloadProvider.onCreate(DownloadProvider.java:683)\n",
      },
    },
    ["media-db"] = {
      summary = "the media storage database is corrupt",
      setup = {
        { write = "/data/data/${media_provider}/databases/external.db",
          content = CORRUPT, owner = "package:${media_provider}", mode = "0660" },
      },
      present = {
        { file_contains = "/data/data/${media_provider}/databases/external.db", text = "CORRUPT" },
      },
      crash = {
        process = "${media_process}",
        package = "${media_provider}",
        text = "java.lang.RuntimeException: Unable to get provider com.android.providers.media.MediaProvider: android.database.sqlite.SQLiteDatabaseCorruptException: file is not a database (code 26 SQLITE_NOTADB)\n"
          .. "\tat android.app.ActivityThread.installProvider(ActivityThread.java:7690)\n"
          .. "\tat android.app.ActivityThread.installContentProviders(ActivityThread.java:7202)\n"
          .. "Caused by: android.database.sqlite.SQLiteDatabaseCorruptException: file is not a database (code 26 SQLITE_NOTADB)\n"
          .. "\tat com.android.providers.media.DatabaseHelper.getWritableDatabase(DatabaseHelper.java:412)\n",
      },
    },
  },
}
