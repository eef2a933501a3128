/// The pre-deploy check: what a migration does to the sources a dbt project reads.
///
/// Adapters run the migration inside a transaction (PostgreSQL) or on a copy (SQLite) and hand back the
/// schema before and after; everything here is pure.

/// The schema of the source schemas before and after a migration ran (then rolled back).
public struct MigrationTrial: Sendable, Hashable {
  public var before: LiveSchema
  public var after: LiveSchema
  /// Milliseconds spent running the migration's statements.
  public var applyMs: Double
  /// Milliseconds spent reading the catalog and inspecting the data (both times).
  public var introspectMs: Double
  /// The changes `Inspection` found before and after (value and data evidence read before rollback); nil
  /// without one, and `ImpactAnalysis` diffs the schemas alone.
  public var beforeChanges: [DriftChange]?
  public var afterChanges: [DriftChange]?
  /// Relations in the warehouse that read the source tables' columns, before the migration ran.
  public var dependencies: [WarehouseDependency] = []

  /// Looks at the database as it is (schema given), through an adapter that reads inside the trial.
  public typealias Inspection =
    @Sendable (LiveSchema, any WarehouseProfiler & WarehouseSampler) async throws -> [DriftChange]

  public init(
    before: LiveSchema, after: LiveSchema, applyMs: Double = 0, introspectMs: Double = 0,
    beforeChanges: [DriftChange]? = nil, afterChanges: [DriftChange]? = nil
  ) {
    self.before = before
    self.after = after
    self.applyMs = applyMs
    self.introspectMs = introspectMs
    self.beforeChanges = beforeChanges
    self.afterChanges = afterChanges
  }
}

/// A statement of the migration that the server rejected. Adapters throw it; the command names the file.
public struct MigrationStatementFailure: Error, Sendable, Hashable {
  public var line: Int
  /// The server's message, with what to do when driftwatch knows (timeouts, locks).
  public var message: String
  /// When the server refused because relations depend on what the statement changes: the dependencies
  /// (read before the migration ran) on the tables and columns the statement names.
  public var dependencies: [WarehouseDependency]

  public init(line: Int, message: String, dependencies: [WarehouseDependency] = []) {
    self.line = line
    self.message = message
    self.dependencies = dependencies
  }
}

/// A migration driftwatch refused or that failed, named by `file:line`. Exit 2.
public struct MigrationError: UserFacingError, Hashable {
  public var message: String
  public init(_ message: String) { self.message = message }

  public static func refused(file: String, _ refusals: [MigrationRefusal]) -> MigrationError {
    let first = refusals[0]
    let more = refusals.count > 1 ? " (and \(refusals.count - 1) more refused statement(s))" : ""
    return MigrationError("\(file):\(first.line): refused: \(first.reason); nothing was run\(more)")
  }

  public static func failed(file: String, _ failure: MigrationStatementFailure, rolledBack: String)
    -> MigrationError
  {
    MigrationError("\(file):\(failure.line): the migration failed: \(failure.message); \(rolledBack)")
  }
}

/// The outcome of `driftwatch impact`.
public struct ImpactReport: Sendable, Hashable {
  /// The migration file as the user named it.
  public var migration: String
  public var dialect: SQLDialect
  public var statementCount: Int
  /// Only the drift this migration causes (drift already present before it is in `preexisting`).
  public var drift: DriftReport
  /// Drift between the project and the database that was there before the migration ran.
  public var preexisting: [DriftChange]
  /// Drift that was there before and that the migration removes.
  public var resolved: [DriftChange]
  /// Change id → the migration line of the statement that caused it, when one can be named.
  public var lines: [String: Int]
  public var timings: Timings?
  /// With `--dbt-build`: dbt on a copy of staging, migrated, with the drafted fix.
  public var parity: ParityResult?

  public struct Timings: Sendable, Hashable {
    public var readProjectMs: Double
    public var applyMs: Double
    public var introspectMs: Double
    public var diffMs: Double
    public var totalMs: Double

    public init(readProjectMs: Double, applyMs: Double, introspectMs: Double, diffMs: Double, totalMs: Double)
    {
      self.readProjectMs = readProjectMs
      self.applyMs = applyMs
      self.introspectMs = introspectMs
      self.diffMs = diffMs
      self.totalMs = totalMs
    }
  }

  public init(
    migration: String, dialect: SQLDialect, statementCount: Int, drift: DriftReport,
    preexisting: [DriftChange] = [], resolved: [DriftChange] = [], lines: [String: Int] = [:],
    timings: Timings? = nil
  ) {
    self.migration = migration
    self.dialect = dialect
    self.statementCount = statementCount
    self.drift = drift
    self.preexisting = preexisting
    self.resolved = resolved
    self.lines = lines
    self.timings = timings
  }

  public var breaking: Bool { drift.breaking }
}

public enum ImpactAnalysis {
  /// Diffs the project against the schema before and after the migration; keeps the changes the migration
  /// caused and names the statement behind each.
  public static func report(
    project: ProjectGraph, migration: String, statements: [SQLStatement], dialect: SQLDialect,
    trial: MigrationTrial, warehouse: String
  ) -> ImpactReport {
    let engine = DriftEngine(project: project)
    let before = trial.beforeChanges ?? engine.diff(live: trial.before)
    let after = trial.afterChanges ?? engine.diff(live: trial.after)
    let beforeIDs = Set(before.map(\.id))
    let afterIDs = Set(after.map(\.id))
    let caused = WarehouseDependencies.applying(
      trial.dependencies, to: after.filter { !beforeIDs.contains($0.id) }, project: project,
      lineage: engine.lineage)
    let drift = engine.report(changes: caused, warehouse: warehouse)
    return ImpactReport(
      migration: migration, dialect: dialect, statementCount: statements.count, drift: drift,
      preexisting: after.filter { beforeIDs.contains($0.id) },
      resolved: before.filter { !afterIDs.contains($0.id) },
      lines: MigrationAttribution.lines(
        for: caused, statements: statements, project: project, dialect: dialect))
  }

  /// What `check` finds in `live`, for a trial's `Inspection`: the schema diff, declared `accepted_values`
  /// against the profiled values, and with a baseline snapshot the data evidence (keyed samples joined to the
  /// migrated rows) — all read through `warehouse`, inside the trial.
  public static func changes(
    project: ProjectGraph, live: LiveSchema, warehouse: any WarehouseProfiler & WarehouseSampler,
    snapshot: Snapshot?
  ) async throws -> [DriftChange] {
    let engine = DriftEngine(project: project)
    let changes = try await engine.changes(live: live, snapshot: snapshot, profiler: warehouse)
    guard let snapshot else { return changes }
    return try await engine.applyingEvidence(
      to: changes, live: live, snapshot: snapshot, sampler: warehouse, profiler: warehouse)
  }
}

/// Which statement of a migration caused each change: the one that names the change's table and columns.
///
/// The catalog is read once, after the whole migration, so attribution is by the statements' text: for
/// each change the candidates are the statements that mention its table (old or new name); schema
/// statements (`CREATE`/`ALTER`/`DROP`) are preferred over data statements; among them the one naming
/// most of the change's columns wins, and on a tie the later one (the statement that left the schema so).
public enum MigrationAttribution {
  public static func lines(
    for changes: [DriftChange], statements: [SQLStatement], project: ProjectGraph, dialect: SQLDialect
  ) -> [String: Int] {
    let mentions: [(line: Int, ddl: Bool, names: Set<String>)] = statements.map { statement in
      let tokens = SQLTokenizer.tokens(in: statement.text, firstLine: statement.line, dialect: dialect)
      let first = tokens.first { $0.kind == .word }?.upper ?? ""
      var names = Set(tokens.compactMap { $0.identifier?.lowercased() })
      // Names inside function bodies and DO blocks count too (a DO block may run the DDL).
      for body in tokens where body.kind == .dollarBody {
        names.formUnion(
          SQLTokenizer.tokens(in: body.text, dialect: dialect).compactMap { $0.identifier?.lowercased() })
      }
      return (statement.line, ["CREATE", "ALTER", "DROP", "DO"].contains(first), names)
    }
    var result: [String: Int] = [:]
    for change in changes {
      let (tables, columns) = subjects(of: change, project: project)
      let candidates = mentions.filter { !$0.names.isDisjoint(with: tables) }
      let ddl = candidates.filter(\.ddl)
      let pool = ddl.isEmpty ? candidates : ddl
      let best = pool.max { lhs, rhs in
        let left = lhs.names.intersection(columns).count * 2 + lhs.names.intersection(tables).count
        let right = rhs.names.intersection(columns).count * 2 + rhs.names.intersection(tables).count
        return left == right ? lhs.line < rhs.line : left < right
      }
      if let best { result[change.id] = best.line }
    }
    return result
  }

  /// The table names and column names a change is about, lowercased.
  static func subjects(of change: DriftChange, project: ProjectGraph) -> (Set<String>, Set<String>) {
    var tables: Set<String> = []
    if let id = change.sourceID, let source = project.sources[id] {
      tables.insert(source.identifier.lowercased())
    }
    if let relation = change.relation, let name = relation.split(separator: ".").last {
      tables.insert(name.lowercased())
    }
    var columns: Set<String> = []
    if change.kind.isTableLevel {
      if let from = change.from { tables.insert(from.lowercased()) }
      for name in change.to?.names ?? [] { tables.insert(name.lowercased()) }
    } else if change.kind == .columnTypeChanged {
      if let column = change.column { columns.insert(column.lowercased()) }
    } else {
      if let from = change.from { columns.insert(from.lowercased()) }
      for name in change.to?.names ?? [] { columns.insert(name.lowercased()) }
    }
    return (tables, columns)
  }
}

/// Staging parity (`impact --dbt-build`): dbt built on a throwaway copy of staging with the migration
/// applied and the drafted fix in a copy of the dbt project.
public struct ParityResult: Sendable, Hashable {
  public struct Node: Sendable, Hashable {
    public var uniqueID: String
    /// dbt's status: success, pass, error, fail, warn, skipped, no-op, …
    public var status: String
    public var message: String?

    public init(uniqueID: String, status: String, message: String? = nil) {
      self.uniqueID = uniqueID
      self.status = status
      self.message = message
    }

    public var isFailure: Bool { ["error", "fail", "runtime error"].contains(status) }
  }

  /// The copy's database name (dropped afterwards).
  public var database: String
  public var dbtExitCode: Int32
  public var nodes: [Node]
  /// The drafted files written into the copy of the project.
  public var fixedFiles: [String]
  /// Questions of the drafted fix nobody answered (`--decisions`): `id kind: subject`.
  public var openQuestions: [String]
  /// Tests the drafted fix expects to fail, and why.
  public var expectedFailures: [String]

  public init(
    database: String, dbtExitCode: Int32, nodes: [Node], fixedFiles: [String], openQuestions: [String] = [],
    expectedFailures: [String] = []
  ) {
    self.database = database
    self.dbtExitCode = dbtExitCode
    self.nodes = nodes.sorted { $0.uniqueID < $1.uniqueID }
    self.fixedFiles = fixedFiles
    self.openQuestions = openQuestions
    self.expectedFailures = expectedFailures
  }

  public var passed: Bool { dbtExitCode == 0 && !nodes.contains(where: \.isFailure) }
  public var failures: [Node] { nodes.filter(\.isFailure) }
  public func count(_ statuses: Set<String>) -> Int { nodes.filter { statuses.contains($0.status) }.count }
}

/// A relation in the warehouse whose query reads a source table's column (PostgreSQL: a view or
/// materialized view, from `pg_depend` through its rewrite rule): the warehouse's own dependencies.
public struct WarehouseDependency: Sendable, Hashable {
  /// The view.
  public var dependent: TableRef
  /// `view` or `materialized view`.
  public var kind: String
  /// The table it reads.
  public var table: TableRef
  /// The column it reads; nil when it depends on the table as a whole.
  public var column: String?

  public init(dependent: TableRef, kind: String, table: TableRef, column: String?) {
    self.dependent = dependent
    self.kind = kind
    self.table = table
    self.column = column
  }
}

/// What the warehouse's dependencies say about a migration's changes: a change to a column (or table) that
/// a dbt relation in the warehouse reads is breaking, whatever the project's SQL seems to read.
public enum WarehouseDependencies {
  /// The dbt nodes (models, snapshots, seeds) materialized as `relation`: matched by name, as dbt names a
  /// relation after its node unless an alias says otherwise.
  static func nodes(for relation: TableRef, project: ProjectGraph) -> [GraphNode] {
    let name = relation.name.lowercased()
    return project.nodes.values.filter {
      [.model, .snapshot, .seed].contains($0.resourceType) && $0.name.lowercased() == name
    }.sorted { $0.uniqueID < $1.uniqueID }
  }

  /// The dependencies on `change`'s subject before the migration: its table's, for a table change; else
  /// those on its (old) column and on the table as a whole.
  static func dependencies(
    of change: DriftChange, project: ProjectGraph, dependencies: [WarehouseDependency]
  ) -> [WarehouseDependency] {
    guard let id = change.sourceID, let source = project.sources[id] else { return [] }
    let onTable = dependencies.filter {
      $0.table.schema.schema.lowercased() == source.schema.lowercased()
        && $0.table.name.lowercased() == source.identifier.lowercased()
    }
    if change.kind.isTableLevel { return onTable }
    let column = (change.kind == .columnTypeChanged ? change.column : change.from)?.lowercased()
    guard let column else { return [] }
    return onTable.filter { $0.column == nil || $0.column?.lowercased() == column }
  }

  /// `changes` with the warehouse's dependencies applied: a change that a dbt relation depends on is
  /// breaking, says which, and carries that node and what is downstream of it in its blast radius. A view
  /// that is no dbt node is named in the evidence without making the change breaking. `column_added` and
  /// value changes are left alone (nothing depends on a column before it exists).
  public static func applying(
    _ dependencies: [WarehouseDependency], to changes: [DriftChange], project: ProjectGraph,
    lineage: LineageGraph
  ) -> [DriftChange] {
    guard !dependencies.isEmpty else { return changes }
    let kinds: Set<ChangeKind> = [
      .tableMissing, .tableRenamed, .columnMissing, .columnRenamed, .columnSplit, .columnTypeChanged,
    ]
    return changes.map { change in
      guard kinds.contains(change.kind) else { return change }
      let found = Self.dependencies(of: change, project: project, dependencies: dependencies)
      guard !found.isEmpty else { return change }
      var change = change
      var dbtNodes: [String] = []
      for dependency in found.sorted(by: { ($0.dependent, $0.column ?? "") < ($1.dependent, $1.column ?? "") }
      ) {
        let what = change.kind.isTableLevel || dependency.column == nil ? "this table" : "this column"
        let nodes = Self.nodes(for: dependency.dependent, project: project)
        let line: String
        if nodes.isEmpty {
          line =
            "\(dependency.kind) \(dependency.dependent) reads \(what) in the warehouse (no dbt node of that name)"
        } else {
          line =
            "a dbt \(dependency.kind) reads \(what): \(nodes.map(\.uniqueID).joined(separator: ", ")) "
            + "(\(dependency.dependent), from the warehouse's dependencies)"
          dbtNodes += nodes.map(\.uniqueID)
        }
        if !change.evidence.contains(line) { change.evidence.append(line) }
      }
      guard !dbtNodes.isEmpty else { return change }
      let impact = lineage.impact(from: Set(dbtNodes))
      var radius = change.blastRadius.union(
        BlastRadius(models: impact.models, tests: impact.tests, exposures: impact.exposures))
      let modelIDs = dbtNodes.filter { project.nodes[$0]?.resourceType == .model }
      radius.models = Array(Set(radius.models).union(modelIDs)).sorted()
      change.blastRadius = radius
      change.breaking = true
      return change
    }
  }

  /// For a statement the server refused because a view depends on what it changes (`2BP01`, `0A000`): the
  /// dependencies on the tables and columns the statement names, said as `a dbt view reads this column:
  /// model.x.y`. Empty when none is known.
  public static func explanation(
    for failure: MigrationStatementFailure, project: ProjectGraph
  ) -> String? {
    guard !failure.dependencies.isEmpty else { return nil }
    var parts: [String] = []
    for dependency in failure.dependencies {
      let what =
        dependency.column.map { "column \(dependency.table.name).\($0)" } ?? "table \(dependency.table)"
      let nodes = Self.nodes(for: dependency.dependent, project: project)
      let part =
        nodes.isEmpty
        ? "\(dependency.kind) \(dependency.dependent) reads \(what) (no dbt node of that name)"
        : "a dbt \(dependency.kind) reads this column: \(nodes.map(\.uniqueID).joined(separator: ", ")) "
          + "(\(dependency.dependent) reads \(what))"
      if !parts.contains(part) { parts.append(part) }
    }
    return parts.joined(separator: "; ")
  }
}
