-- "android.process.media has stopped": the providers of the media process
-- hold corrupt databases, so the process crashes as it starts at every boot.
-- android.process.media hosts DownloadProvider (com.android.providers.downloads)
-- and, up to Android 10, MediaProvider; from Android 11 the MediaProvider
-- module runs in its own process (DOMAIN.md). What a real fix does: clear the
-- Download Manager's data and the media storage data, then reboot. Clearing
-- other packages (Play Store, GSF, the legacy provider on 11+) leaves it.
local CORRUPT = "SQLite format 3\0\255\255CORRUPT: database disk image is malformed\n"
return {
  summary = "android.process.media crashes at every boot (corrupt provider databases)",
  scenarios = {
    -- Both providers' databases are damaged (a failed restore or update).
    default = { "downloads-db", "media-db" },
    ["downloads-only"] = { "downloads-db" },
    ["media-only"] = { "media-db" },
  },
  causes = {
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
