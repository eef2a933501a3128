import DriftwatchPostgres
import DriftwatchTestSupport
import Foundation
import Logging
import Testing

@testable import DriftwatchCore
@testable import DriftwatchDbtBridge

/// On PostgreSQL, a profile read through the dbt bridge (dbt-postgres running driftwatch's macros) equals the
/// native driver's, column for column — counts, distinct values, top values and their ties, min/max in the
/// type's order, average length and magnitude, shapes and shape classes — for a table read whole and for a
/// large one read as a repeatable `TABLESAMPLE`, scaled with the same statistics and marked estimated by
/// both. And the bridge costs no more statements than the native path: one for the row estimates, one per
/// table for its profiles, one per table for its keyed sample.
@Suite("dbt bridge profiles = native profiles on PostgreSQL", .serialized)
struct DbtBridgeProfileParityTests {
  static let fixture = """
    CREATE SCHEMA raw;
    CREATE TABLE raw.people (
      id int PRIMARY KEY, email text, ref uuid, born date, balance numeric(12,2), name text, code varchar(8),
      doc jsonb, active boolean, seen timestamp, tag text);
    INSERT INTO raw.people
    SELECT g,
      CASE WHEN g % 10 = 0 THEN NULL ELSE 'user' || g || '@example.com' END,
      md5(g::text)::uuid, date '1980-01-01' + g, (g * 1.25 - 400)::numeric(12,2),
      initcap('name' || chr(97 + g % 26)) || ' O''Brien',
      CASE WHEN g % 3 = 0 THEN NULL ELSE chr(65 + g % 5) || (g % 7) END,
      jsonb_build_object('k', g % 4), g % 2 = 0, timestamp '2024-01-01' + g * interval '1 hour',
      (ARRAY['apple', 'Apple', 'banana', 'Banana', 'é', 'z', '', ' x '])[1 + g % 8]
    FROM generate_series(1, 6000) g;
    CREATE TABLE raw.tiny (k text PRIMARY KEY, v int, note text);
    INSERT INTO raw.tiny
    SELECT 'key-' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE g % 9 END,
      (ARRAY['x', 'X', 'O''Brien', 'back\\slash', '42', '-3.5', 'a b'])[1 + g % 7]
    FROM generate_series(1, 120) g;
    ANALYZE raw.people;
    ANALYZE raw.tiny;

    """

  static func bridge(for db: PostgresLocator, in scratch: Scratch, dbt: String) throws -> DbtBridge {
    let profiles = """
      parity:
        target: dev
        outputs:
          dev:
            type: postgres
            host: \(db.host)
            port: \(db.port)
            user: \(db.user)
            password: "{{ env_var('PARITY_PG_PASSWORD') }}"
            dbname: \(db.database)
            schema: raw
            threads: 1

      """
    try profiles.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
    var environment = ProcessInfo.processInfo.environment
    environment["PARITY_PG_PASSWORD"] = db.password ?? ""
    let runner = DbtProcessRunner(
      invocation: DbtInvocation(
        dbt: dbt, workingDirectory: scratch.file(""), profilesDirectory: scratch.file(""), profile: "parity",
        target: nil, environment: environment))
    return DbtBridge(adapter: "postgres", displayName: "dbt:parity.dev (postgres)", runner: runner)
  }

  static let raw = SchemaRef(schema: "raw")
  static let columns: [ColumnRef] =
    ["id", "email", "ref", "born", "balance", "name", "code", "doc", "active", "seen", "tag"].map {
      ColumnRef(schema: raw, table: "people", column: $0)
    } + ["k", "v", "note"].map { ColumnRef(schema: raw, table: "tiny", column: $0) }

  @Test func profilesEqualTheNativeDriverWholeAndSampledInFewerStatements() async throws {
    guard let (dbt, _) = DbtBridgeDuckDBTests.tools else { return }
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: Self.fixture, into: db)
      let scratch = try Scratch()
      defer { scratch.remove() }
      let recorder = StatementRecorder()
      var logger = Logger(label: "parity", factory: { _ in recorder })
      logger.logLevel = .debug
      var native = PostgresWarehouse(locator: db, logger: logger)
      // 6,000 rows against a budget of 1,000: `people` is large (sampled), `tiny` is read whole.
      native.rowBudget = 1_000
      var bridge = try Self.bridge(for: db, in: scratch, dbt: dbt)
      bridge.rowBudget = 1_000

      let nativeProfiles = try await native.profile(columns: Self.columns, topK: 5)
      let nativeStatements = recorder.work.count
      _ = try await bridge.introspect(schemas: [Self.raw])
      let bridgeProfiles = try await bridge.profile(columns: Self.columns, topK: 5)

      #expect(bridgeProfiles.count == Self.columns.count)
      for (ours, theirs) in zip(bridgeProfiles, nativeProfiles) {
        #expect(ours == theirs, "\(ours.column)")
      }
      #expect(bridgeProfiles == nativeProfiles)
      let people = bridgeProfiles.filter { $0.column.table == "people" }
      #expect(people.allSatisfy { $0.estimated == true && $0.rowCount == 6000 })
      #expect(bridgeProfiles.filter { $0.column.table == "tiny" }.allSatisfy { $0.estimated == nil })
      // The classes and magnitudes are there, not only equal because both are empty.
      #expect(people.first { $0.column.column == "email" }?.shapeClasses?.first?.value == "email")
      #expect(people.first { $0.column.column == "balance" }?.meanMagnitude != nil)

      // Statements: the bridge's introspection and profile step against the native profile (its catalog
      // read, per table statistics, settings and the profile statement).
      let steps = bridge.invocations
      #expect(steps.map(\.operation) == ["driftwatch_introspect", "driftwatch_profile"])
      #expect(steps.last?.statements == 3, "one for the estimates, one per table")
      let bridgeStatements = steps.compactMap(\.statements).reduce(0, +)
      #expect(bridgeStatements <= nativeStatements, "bridge \(bridgeStatements), native \(nativeStatements)")

      // A snapshot's reads: profile and keyed sample of each table.
      let targets = [
        SnapshotPlan.SampleTarget(
          sourceID: "source.parity.raw.people", table: TableRef(schema: Self.raw, name: "people"), key: "id",
          columns: ["email", "name"]),
        SnapshotPlan.SampleTarget(
          sourceID: "source.parity.raw.tiny", table: TableRef(schema: Self.raw, name: "tiny"), key: "k",
          columns: ["v", "note"]),
      ]
      let before = recorder.statements.count
      var nativeSamples: [[KeyedRow]?] = []
      try await native.withTableReader { reader in
        for target in targets {
          let read = try await reader.read(
            table: target.table, columns: Self.columns.filter { $0.table == target.table.name },
            sample: target,
            topK: 5, sampleSize: 50)
          nativeSamples.append(read.sample)
        }
      }
      let nativeSnapshot = StatementRecorder.work(recorder.statements.dropFirst(before)).count
      let bridgeSamples = try await bridge.samples(of: targets, limit: 50)
      #expect(bridgeSamples.allSatisfy { $0?.count == 50 })
      // The same keys and values: the large table ordered from the same repeatable sample of it.
      #expect(bridgeSamples == nativeSamples)
      let snapshotSteps = bridge.invocations.compactMap(\.statements)
      // introspect 1 + estimates 1 + one profile per table + one sample per table
      let bridgeSnapshot = snapshotSteps.reduce(0, +)
      #expect(bridgeSnapshot == 1 + 1 + 2 + 2)
      #expect(bridgeSnapshot <= nativeSnapshot, "bridge \(bridgeSnapshot), native \(nativeSnapshot)")
      print(
        "statements: profile bridge \(bridgeStatements) native \(nativeStatements); "
          + "snapshot bridge \(bridgeSnapshot) native \(nativeSnapshot)")
    }
  }
}
