import DriftwatchCore
import DriftwatchReports
import Testing

/// A column that keeps its name and has no `accepted_values` test, whose values are replaced: found against
/// the baseline snapshot's complete set of values when something downstream reads the column (found on
/// dbt-labs/jaffle_shop_duckdb with its raw tables as sources: `completed` → `complete`, `returned` →
/// `refunded` in `raw_orders.status`, which `stg_orders` reads and a model test constrains). Quiet when the
/// enumeration only gains a member, loses a rare one, or its table grows.
@Suite("baseline value remaps")
struct BaselineRemapTests {
  static let raw = SchemaRef(schema: "raw")
  static let table = TableRef(schema: raw, name: "orders")
  static let statuses = ["placed", "placed", "shipped", "completed", "completed", "completed", "returned"]
  static let ids = Array(1...70)

  static func project(keyed: Bool, read: Bool = true) -> ProjectGraph {
    let source = DriftFixtures.source("orders", columns: [("id", "integer")], schema: "raw")
    var nodes: [GraphNode] = [
      DriftFixtures.model(
        "stg_orders", reads: [source.uniqueID],
        sql: read
          ? "select id as order_id, status from {{ source('shop', 'orders') }}"
          : "select id as order_id from {{ source('shop', 'orders') }}")
    ]
    if keyed {
      nodes.append(
        DriftFixtures.test("unique_orders_id", on: [source.uniqueID], column: "id", kind: "unique"))
    }
    return ProjectGraph(projectName: "shop", sources: [source], nodes: nodes)
  }

  static func status(_ id: Int) -> String { statuses[id % statuses.count] }

  static func profile(_ values: [String]) -> ColumnProfile {
    var counts: [String: Int] = [:]
    for value in values { counts[value, default: 0] += 1 }
    return ColumnProfile(
      column: ColumnRef(schema: raw, table: "orders", column: "status"), rowCount: values.count, nullCount: 0,
      distinctCount: counts.count,
      topValues: ColumnProfile.ranked(counts.map { ValueCount(value: $0.key, count: $0.value) }))
  }

  /// A snapshot of orders(id, status), then the check of the live table with `newStatus` per key.
  static func check(
    keyed: Bool = true, read: Bool = true, liveKeys: [Int] = ids, newStatus: (Int) -> String
  ) async throws -> [DriftChange] {
    let project = project(keyed: keyed, read: read)
    let live = DriftFixtures.live([DriftFixtures.table("orders", [("id", "integer"), ("status", "text")])])
    let snapshot = try await SnapshotPlan.make(project: project, live: live).run(
      metadata: SnapshotMetadata(
        id: "s-base", takenAt: "2026-12-01T00:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
      live: live, profiler: InMemoryProfiler(profiles: [profile(ids.map(status))]),
      sampler: InMemorySampler(tables: [
        .init(ref: table, columns: ["id", "status"], rows: ids.map { ["\($0)", status($0)] })
      ]), sampleSize: 50, hashValues: false)
    let sampler = InMemorySampler(tables: [
      .init(ref: table, columns: ["id", "status"], rows: liveKeys.map { ["\($0)", newStatus($0)] })
    ])
    let profiler = InMemoryProfiler(profiles: [profile(liveKeys.map(newStatus))])
    let engine = DriftEngine(project: project)
    let changes = try await engine.changes(live: live, snapshot: snapshot, profiler: profiler)
    return try await engine.applyingEvidence(
      to: changes, live: live, snapshot: snapshot, sampler: sampler, profiler: profiler)
  }

  static let renamed = ["completed": "complete", "returned": "refunded"]

  @Test func aPartialRemapIsProvenPerKeyAndBreaking() async throws {
    let changes = try await Self.check { Self.renamed[Self.status($0)] ?? Self.status($0) }
    let remap = try #require(changes.first { $0.kind == .valuesRemapped })
    #expect(changes.count == 1)
    #expect(remap.from == "status")
    #expect(remap.breaking)
    #expect(
      Set((remap.mapping ?? []).map { "\($0.old)→\($0.new ?? "?")" }) == [
        "completed→complete", "returned→refunded",
      ])
    #expect((remap.mapping ?? []).allSatisfy { $0.support != nil && $0.support == $0.total })
    #expect(remap.confidence >= 0.95)
    #expect(remap.evidence.contains { $0.hasPrefix("snapshot s-base recorded every value of status") })
    #expect(remap.evidence.contains { $0.hasPrefix("per-key mapping from") })
    #expect(!remap.evidence.contains { $0.contains("a snapshot would prove it") })
  }

  @Test func aChangeOfCaseIsARemap() async throws {
    // `where status = 'completed'` finds nothing in `COMPLETED`.
    let changes = try await Self.check { Self.status($0) == "completed" ? "COMPLETED" : Self.status($0) }
    let remap = try #require(changes.first { $0.kind == .valuesRemapped })
    #expect((remap.mapping ?? []).map { "\($0.old)→\($0.new ?? "?")" } == ["completed→COMPLETED"])
  }

  @Test func withoutKeysTheGoneValuesPairWithTheNewOnesByRank() async throws {
    let changes = try await Self.check(keyed: false) { Self.renamed[Self.status($0)] ?? Self.status($0) }
    let remap = try #require(changes.first { $0.kind == .valuesRemapped })
    #expect(
      Set((remap.mapping ?? []).map { "\($0.old)→\($0.new ?? "?")" }) == [
        "completed→complete", "returned→refunded",
      ])
    #expect(remap.evidence.contains { $0.contains("not proven per key (no key to join on)") })
    #expect(remap.confidence < 0.95)
  }

  @Test func aNewMemberBesideTheOldOnesIsQuiet() async throws {
    // New orders arrive with a new status; every old one is still there.
    let changes = try await Self.check(liveKeys: Array(1...90)) { $0 > 70 ? "on_hold" : Self.status($0) }
    #expect(changes.isEmpty, "\(changes.map(\.evidence))")
  }

  @Test func aGrowingTableWithTheSameValuesIsQuiet() async throws {
    let changes = try await Self.check(liveKeys: Array(1...140)) { Self.status($0) }
    #expect(changes.isEmpty)
  }

  @Test func valuesGoneWithNothingNewIsNoRemap() async throws {
    // Returned orders were purged: a value is gone, nothing replaces it.
    let changes = try await Self.check { Self.status($0) == "returned" ? "completed" : Self.status($0) }
    #expect(!changes.contains { $0.kind == .valuesRemapped })
  }

  @Test func aRollingWindowOfDaysIsNoEnumeration() async throws {
    // A table that keeps the last days: a day leaves, a day comes. Values of a date shape are no enumeration.
    let day = { (id: Int, shift: Int) in "2026-11-0\(id % 7 + 1 + shift)" }
    let project = Self.project(keyed: true)
    let live = DriftFixtures.live([DriftFixtures.table("orders", [("id", "integer"), ("status", "text")])])
    let snapshot = try await SnapshotPlan.make(project: project, live: live).run(
      metadata: SnapshotMetadata(
        id: "s-days", takenAt: "2026-12-01T00:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
      live: live, profiler: InMemoryProfiler(profiles: [Self.profile(Self.ids.map { day($0, 0) })]),
      sampler: InMemorySampler(tables: []), sampleSize: 0, hashValues: false)
    let profiler = InMemoryProfiler(profiles: [Self.profile(Self.ids.map { day($0, 1) })])
    let changes = try await DriftEngine(project: project).changes(
      live: live, snapshot: snapshot, profiler: profiler)
    #expect(!changes.contains { $0.kind == .valuesRemapped })
  }

  @Test func aColumnNothingReadsIsQuiet() async throws {
    let changes = try await Self.check(read: false) { Self.renamed[Self.status($0)] ?? Self.status($0) }
    #expect(changes.isEmpty)
  }
}
