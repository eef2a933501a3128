import DriftwatchCore

extension PostgresWarehouse: WarehouseBackend {
  public var capabilities: WarehouseCapabilities {
    [.data, .migrationTrial, .searchPath, .ddlEvents, .stagingCopy]
  }
  public var profiler: (any WarehouseProfiler)? { self }
  public var sampler: (any WarehouseSampler)? { self }
  public var postgres: PostgresLocator? { locator }

  /// `impact` on PostgreSQL: the migration runs in a transaction that is always rolled back.
  public func migrationTrial(_ options: MigrationTrialOptions) -> (any MigrationTrialRunner)? {
    PostgresMigrationTrial(
      locator: locator, statementTimeout: options.statementTimeout, lockTimeout: options.lockTimeout,
      searchPath: options.searchPath)
  }
}

extension PostgresMigrationTrial: MigrationTrialRunner {
  public var undoneNote: String { "the transaction was rolled back, nothing was changed" }
}
