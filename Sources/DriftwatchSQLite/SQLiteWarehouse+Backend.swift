import DriftwatchCore

extension SQLiteWarehouse: WarehouseBackend {
  public var capabilities: WarehouseCapabilities { [.data, .migrationTrial] }
  public var profiler: (any WarehouseProfiler)? { self }
  public var sampler: (any WarehouseSampler)? { self }

  /// `impact` on SQLite: the migration runs on a temporary copy of the file (SQLite has no search path; the
  /// timeouts are PostgreSQL's).
  public func migrationTrial(_ options: MigrationTrialOptions) -> (any MigrationTrialRunner)? {
    SQLiteMigrationTrial(path: path, attachments: attachments)
  }
}

extension SQLiteMigrationTrial: MigrationTrialRunner {
  public var undoneNote: String { "it ran on a temporary copy, the database file is unchanged" }
}
