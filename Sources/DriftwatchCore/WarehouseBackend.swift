/// A warehouse backend: one value, chosen once from the command line or the dbt profile, that holds all a
/// command needs from a warehouse — its introspection, profiler, sampler, dialect, display name and what it can
/// do. Commands ask it; they never switch on the kind of warehouse. Adapters (SQLite, PostgreSQL, the dbt
/// bridge) live outside Core; the in-memory twin lives here.
///
/// The batch steps (`samples(of:limit:)`, `rows(for:)`) take every table of a step at once, so that a backend
/// whose every call costs a process start (the dbt bridge) answers a step with one call; the defaults loop
/// over `sampler`, table by table.
public protocol WarehouseBackend: WarehouseIntrospector {
  var capabilities: WarehouseCapabilities { get }
  /// Profiles columns in the warehouse; nil when it cannot (an offline catalog).
  var profiler: (any WarehouseProfiler)? { get }
  /// Takes keyed samples and reads rows by key; nil when it cannot.
  var sampler: (any WarehouseSampler)? { get }
  /// Every sample of a snapshot, in the order of `targets`: nil for a table, key or column that does not exist.
  func samples(of targets: [SnapshotPlan.SampleTarget], limit: Int) async throws -> [[KeyedRow]?]
  /// The live rows of every evidence request, in the order of `requests`.
  func rows(for requests: [DriftEngine.EvidenceRequest]) async throws -> [[String: [String?]]?]
  /// The PostgreSQL server behind the backend, for what only PostgreSQL does (DDL event triggers, staging
  /// copies); nil for every other backend.
  var postgres: PostgresLocator? { get }
  /// A pre-deploy trial of a migration (`impact`), when the backend can run one on a copy or in a
  /// rolled-back transaction.
  func migrationTrial(_ options: MigrationTrialOptions) -> (any MigrationTrialRunner)?
}

/// What a backend can do beyond introspection.
public struct WarehouseCapabilities: OptionSet, Sendable, Hashable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// Profiles and samples: `snapshot`, data evidence in `check`, declared accepted_values.
  public static let data = WarehouseCapabilities(rawValue: 1 << 0)
  /// `impact`: a migration tried and undone.
  public static let migrationTrial = WarehouseCapabilities(rawValue: 1 << 1)
  /// A schema search path for unqualified names in a migration (`impact --search-path`).
  public static let searchPath = WarehouseCapabilities(rawValue: 1 << 2)
  /// DDL events pushed by the warehouse (`watch` listens instead of only polling).
  public static let ddlEvents = WarehouseCapabilities(rawValue: 1 << 3)
  /// A throwaway copy of the database for a real dbt build (`impact --dbt-build`).
  public static let stagingCopy = WarehouseCapabilities(rawValue: 1 << 4)
  /// Every call costs a start-up (the dbt bridge): a snapshot asks each stage for all its tables at once
  /// (`profile(columns:)` once, `samples(of:limit:)` once) instead of table by table on parallel connections.
  public static let batchedSteps = WarehouseCapabilities(rawValue: 1 << 5)
}

/// How `impact` runs a migration: timeouts and the search path (PostgreSQL).
public struct MigrationTrialOptions: Sendable, Hashable {
  public var statementTimeout: Duration
  public var lockTimeout: Duration
  public var searchPath: String?

  public init(statementTimeout: Duration, lockTimeout: Duration, searchPath: String? = nil) {
    self.statementTimeout = statementTimeout
    self.lockTimeout = lockTimeout
    self.searchPath = searchPath
  }
}

/// Runs a migration where nothing it does lasts, and reads the schema before and after.
public protocol MigrationTrialRunner: Sendable {
  /// How the trial was undone, for the message when a statement fails (lowercase, no full stop).
  var undoneNote: String { get }
  func run(statements: [SQLStatement], schemas: [SchemaRef], inspect: MigrationTrial.Inspection?) async throws
    -> MigrationTrial
}

extension WarehouseBackend {
  public var postgres: PostgresLocator? { nil }

  public func migrationTrial(_ options: MigrationTrialOptions) -> (any MigrationTrialRunner)? { nil }

  public func samples(of targets: [SnapshotPlan.SampleTarget], limit: Int) async throws -> [[KeyedRow]?] {
    guard let sampler else { return targets.map { _ in nil } }
    var result: [[KeyedRow]?] = []
    for target in targets {
      result.append(
        try await sampler.sample(table: target.table, key: target.key, columns: target.columns, limit: limit))
    }
    return result
  }

  public func rows(for requests: [DriftEngine.EvidenceRequest]) async throws -> [[String: [String?]]?] {
    guard let sampler else { return requests.map { _ in nil } }
    var result: [[String: [String?]]?] = []
    for request in requests {
      result.append(
        try await sampler.rows(
          table: request.table, key: request.key, keys: request.keys, columns: request.columns))
    }
    return result
  }
}

/// The in-memory twin of a backend: a warehouse, and optionally profiles and rows to answer from.
public struct InMemoryBackend: WarehouseBackend {
  public var warehouse: InMemoryWarehouse
  public var inMemoryProfiler: InMemoryProfiler?
  public var inMemorySampler: InMemorySampler?
  public var capabilities: WarehouseCapabilities

  public init(
    warehouse: InMemoryWarehouse, profiler: InMemoryProfiler? = nil, sampler: InMemorySampler? = nil,
    capabilities: WarehouseCapabilities? = nil
  ) {
    self.warehouse = warehouse
    self.inMemoryProfiler = profiler
    self.inMemorySampler = sampler
    self.capabilities = capabilities ?? (profiler != nil && sampler != nil ? [.data] : [])
  }

  public var displayName: String { warehouse.displayName }
  public var dialect: SQLDialect { warehouse.dialect }
  public var profiler: (any WarehouseProfiler)? { inMemoryProfiler }
  public var sampler: (any WarehouseSampler)? { inMemorySampler }

  public func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    try await warehouse.introspect(schemas: schemas)
  }
}
