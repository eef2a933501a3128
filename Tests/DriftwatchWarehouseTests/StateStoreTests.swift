import DriftwatchCore
import DriftwatchPostgres
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchState

@Suite("State stores and samplers")
struct StateStoreTests {
  static let raw = SchemaRef(schema: "raw")

  static func snapshot(_ id: String, takenAt: String, project: String = "acme", samples: Int = 2) -> Snapshot
  {
    let table = TableRef(schema: raw, name: "customers")
    let column = ColumnRef(schema: raw, table: "customers", column: "tier")
    return Snapshot(
      metadata: SnapshotMetadata(
        id: id, takenAt: takenAt, project: project, warehouse: "sqlite:/tmp/w.db", driftwatchVersion: "0.1.0",
        sampleSize: 1000, valuesHashed: false),
      schema: LiveSchema(
        inspected: [raw],
        tables: [
          LiveTable(
            schema: raw, name: "customers", columns: [LiveColumn(name: "id", dataType: "int", position: 1)])
        ]),
      profiles: [
        ColumnProfile(
          column: column, rowCount: 3, nullCount: 0, distinctCount: 2,
          topValues: [ValueCount(value: "gold", count: 2)],
          minValue: "gold", maxValue: "silver", averageLength: 4.7,
          topShapes: [ValueCount(value: "aaaa", count: 2)])
      ],
      samples: (0..<samples).map { index in
        KeyedSample(
          sourceID: "source.acme.acme.customers\(index)", table: table, key: "id", columns: ["tier"],
          rows: [KeyedRow(key: "1", values: ["gold"]), KeyedRow(key: "2", values: [nil])])
      })
  }

  /// What every store must do: round trip, order, project filter, all-or-nothing saves.
  static func exercise(_ store: any StateStore, failing: any StateStore) async throws {
    #expect(try await store.list(project: "acme").isEmpty)
    #expect(try await store.latest(project: "acme") == nil)
    let first = snapshot("20260217T130000Z-aaaaaa", takenAt: "2026-02-17T13:00:00Z")
    let second = snapshot("20260217T140000Z-bbbbbb", takenAt: "2026-02-17T14:00:00Z")
    try await store.save(second)
    try await store.save(first)
    try await store.save(
      snapshot("20260217T150000Z-cccccc", takenAt: "2026-02-17T15:00:00Z", project: "other"))
    #expect(try await store.list(project: "acme").map(\.id) == [first.id, second.id])
    #expect(try await store.list(project: nil).count == 3)
    #expect(try await store.load(id: first.id) == first)
    #expect(try await store.latest(project: "acme") == second)
    #expect(try await store.load(id: "nope") == nil)
    #expect(try await store.list(project: "acme").last?.sampledKeys == 4)

    // A failure half-way through a snapshot (after the metadata and some parts) leaves nothing of it.
    let broken = snapshot("20260217T160000Z-dddddd", takenAt: "2026-02-17T16:00:00Z")
    await #expect(throws: StateError.self) { try await failing.save(broken) }
    #expect(try await store.list(project: "acme").map(\.id) == [first.id, second.id])
    #expect(try await store.load(id: broken.id) == nil)
    #expect(try await store.latest(project: "acme") == second)
    // Saving the same id twice fails and changes nothing.
    await #expect(throws: (any Error).self) { try await store.save(second) }
    #expect(try await store.load(id: second.id) == second)
  }

  @Test func sqliteStoreIsPrivateVersionedAndTransactional() async throws {
    try await withTemporaryDirectory { directory in
      let path = SQLiteStateStore.defaultPath(projectDirectory: directory.path)
      let store = SQLiteStateStore(path: path)
      var failing = store
      failing.failAfterParts = 2
      try await Self.exercise(store, failing: failing)
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      #expect((attributes[.posixPermissions] as? Int) == 0o600)
      let directoryAttributes = try FileManager.default.attributesOfItem(
        atPath: directory.file(".driftwatch"))
      #expect((directoryAttributes[.posixPermissions] as? Int) == 0o700)
      // WAL journal: the header says so.
      let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(20)
      #expect(header[18] == 2 && header[19] == 2, "file format bytes 18/19 are 2 in WAL mode")
    }
  }

  @Test func sqliteStoreRejectsANewerSchema() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("state.db")
      try await TestSQLite.create(
        at: path,
        sql:
          "CREATE TABLE driftwatch_migrations (version INTEGER PRIMARY KEY, applied_at TEXT); INSERT INTO driftwatch_migrations VALUES (99, 'x');"
      )
      await #expect(throws: StateError.self) { try await SQLiteStateStore(path: path).list(project: nil) }
    }
  }

  @Test func postgresStoreIsVersionedAndTransactional() async throws {
    try await TestPostgres.withDatabase { locator in
      let store = PostgresStateStore(locator: locator)
      var failing = store
      failing.failAfterParts = 1
      try await Self.exercise(store, failing: failing)
      let versions = try await TestPostgres.rows(
        "SELECT version::text FROM driftwatch.migrations", in: locator)
      #expect(versions == [["1"]])
    }
  }

  static let table = """
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, code TEXT, tier TEXT);
    INSERT INTO accounts VALUES (1, 'a1', 'gold'), (2, 'a2', 'silver'), (3, 'a3', NULL), (4, 'a4', 'gold'),
      (5, 'a5', 'bronze'), (6, 'a6', 'gold'), (7, 'a7', 'silver'), (8, 'a8', 'gold');
    """

  static func exerciseSampler(_ sampler: any WarehouseSampler) async throws {
    let table = TableRef(schema: raw, name: "accounts")
    let sample = try #require(
      try await sampler.sample(table: table, key: "id", columns: ["tier", "code"], limit: 5))
    #expect(sample.count == 5)
    #expect(try await sampler.sample(table: table, key: "id", columns: ["tier", "code"], limit: 5) == sample)
    #expect(sample.map(\.key) != ["1", "2", "3", "4", "5"], "hash order, not table order")
    let all = try #require(try await sampler.sample(table: table, key: "id", columns: ["tier"], limit: 100))
    #expect(Set(all.map(\.key)) == Set((1...8).map(String.init)))
    #expect(all.first { $0.key == "3" }?.values == [nil])
    // Live rows for given keys; unknown keys are absent.
    let rows = try #require(
      try await sampler.rows(table: table, key: "id", keys: ["2", "3", "99"], columns: ["code", "tier"]))
    #expect(rows == ["2": ["a2", "silver"], "3": ["a3", nil]])
    let many = try #require(
      try await sampler.rows(table: table, key: "code", keys: (1...1200).map { "a\($0)" }, columns: ["id"]))
    #expect(many.count == 8)
    #expect(many["a8"] == ["8"])
    #expect(try await sampler.sample(table: table, key: "id", columns: ["missing"], limit: 5) == nil)
    #expect(
      try await sampler.rows(table: TableRef(schema: raw, name: "nope"), key: "id", keys: ["1"], columns: [])
        == nil)
  }

  @Test func sqliteSamplerIsDeterministicAndReadsKeysInBatches() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("warehouse.db")
      try await TestSQLite.create(at: path, sql: Self.table)
      try await Self.exerciseSampler(SQLiteWarehouse(path: path))
    }
  }

  @Test func postgresSamplerIsDeterministicAndReadsKeysByArray() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.table, into: locator, searchPath: "raw")
      try await Self.exerciseSampler(PostgresWarehouse(locator: locator))
    }
  }
}
