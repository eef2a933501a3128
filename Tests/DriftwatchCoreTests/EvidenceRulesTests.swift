import DriftwatchCore
import DriftwatchReports
import Testing

/// The evidence rules for renames and remaps, on drift scenarios that are not acme's: a column dropped and an
/// unrelated one added in its place, a connector rename by name containment, a remap of a column that keeps
/// its name, a split without data. Schema-only and with a keyed snapshot.
@Suite("evidence rules")
struct EvidenceRulesTests {
  static let raw = SchemaRef(schema: "raw")
  static let table = TableRef(schema: raw, name: "subscriptions")
  static let oldPlans = ["free", "free", "free", "pro", "pro", "enterprise"]
  static let remap = ["free": "starter", "pro": "growth", "enterprise": "scale"]
  static let ids = Array(1...40)

  /// subscriptions(id, fax, plan), read by a staging model; `id` tested unique, `plan` accepted_values.
  static func project(keyed: Bool = true) -> ProjectGraph {
    let source = DriftFixtures.source(
      "subscriptions", columns: [("id", "integer"), ("fax", "text"), ("plan", "text")])
    let staging = DriftFixtures.model(
      "stg_subscriptions", reads: [source.uniqueID],
      sql: "select id, fax, plan from {{ source('shop', 'subscriptions') }}")
    var nodes = [
      staging,
      GraphNode(
        uniqueID: "test.shop.accepted_values_subscriptions_plan", resourceType: .test,
        name: "accepted_values_subscriptions_plan", packageName: "shop", dependsOn: [source.uniqueID],
        test: TestInfo(
          testName: "accepted_values", columnName: "plan", attachedNode: source.uniqueID,
          acceptedValues: ["free", "pro", "enterprise"])),
    ]
    if keyed {
      nodes.append(
        DriftFixtures.test("unique_subscriptions_id", on: [source.uniqueID], column: "id", kind: "unique"))
    }
    return ProjectGraph(projectName: "shop", sources: [source], nodes: nodes)
  }

  static func plan(_ id: Int) -> String { oldPlans[id % oldPlans.count] }

  static func profile(_ column: String, _ values: [String]) -> ColumnProfile {
    var counts: [String: Int] = [:]
    for value in values { counts[value, default: 0] += 1 }
    return ColumnProfile(
      column: ColumnRef(schema: raw, table: "subscriptions", column: column), rowCount: values.count,
      nullCount: 0, distinctCount: counts.count,
      topValues: ColumnProfile.ranked(counts.map { ValueCount(value: $0.key, count: $0.value) }))
  }

  /// A snapshot of the old table, the new table, and the check with the data's evidence.
  static func check(
    newColumn: String = "fax", newValue: (Int) -> String, newPlan: (Int) -> String, liveKeys: [Int] = ids,
    keyed: Bool = true
  ) async throws -> [DriftChange] {
    let project = project(keyed: keyed)
    let oldLive = DriftFixtures.live([
      DriftFixtures.table("subscriptions", [("id", "integer"), ("fax", "text"), ("plan", "text")])
    ])
    let oldSampler = InMemorySampler(tables: [
      .init(
        ref: table, columns: ["id", "fax", "plan"],
        rows: ids.map { ["\($0)", "555-01\($0)", plan($0)] })
    ])
    let snapshot = try await SnapshotPlan.make(project: project, live: oldLive).run(
      metadata: SnapshotMetadata(
        id: "s-rules", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
      live: oldLive, profiler: InMemoryProfiler(profiles: [profile("plan", ids.map(plan))]),
      sampler: oldSampler, sampleSize: 30, hashValues: false)
    #expect(snapshot.samples.count == (keyed ? 1 : 0))

    let newLive = DriftFixtures.live([
      DriftFixtures.table("subscriptions", [("id", "integer"), (newColumn, "text"), ("plan", "text")])
    ])
    let newSampler = InMemorySampler(tables: [
      .init(
        ref: table, columns: ["id", newColumn, "plan"],
        rows: liveKeys.map { ["\($0)", newValue($0), newPlan($0)] })
    ])
    let newProfiler = InMemoryProfiler(profiles: [profile("plan", liveKeys.map(newPlan))])
    let engine = DriftEngine(project: project)
    let changes = try await engine.changes(live: newLive, profiler: newProfiler)
    return try await engine.applyingEvidence(
      to: changes, live: newLive, snapshot: snapshot, sampler: newSampler, profiler: newProfiler)
  }

  // MARK: - position and type alone are a hint

  @Test func unrelatedColumnInTheSamePlaceIsMissingPlusAddedWithAHint() throws {
    let live = DriftFixtures.live([
      DriftFixtures.table("subscriptions", [("id", "integer"), ("nickname", "text"), ("plan", "text")])
    ])
    let engine = DriftEngine(project: Self.project())
    let changes = engine.diff(live: live)
    #expect(!changes.contains { $0.kind == .columnRenamed }, "same type and place are no rename")
    let missing = try #require(changes.first { $0.kind == .columnMissing && $0.from == "fax" })
    #expect(missing.possibleRename == "nickname")
    #expect(missing.evidenceKinds == [.position, .type])
    #expect(missing.breaking, "stg_subscriptions still reads fax")
    #expect(
      missing.evidence.contains { $0.hasPrefix("possibly renamed to nickname (position and type only") })
    #expect(changes.contains { $0.kind == .columnAdded && $0.to == .one("nickname") && !$0.breaking })
    let report = engine.report(changes: changes, warehouse: "memory")
    #expect(
      DriftReportRenderer(toolVersion: "test").headline(missing)
        == "column fax is missing (possibly renamed to nickname: position and type only)")
    #expect(report.breaking)
  }

  @Test func theDataRefutingAHintKeepsMissingPlusAddedWithTheRefutation() async throws {
    let changes = try await Self.check(
      newColumn: "nickname", newValue: { "nick \($0)" }, newPlan: { Self.plan($0) })
    #expect(!changes.contains { $0.kind == .columnRenamed })
    let missing = try #require(changes.first { $0.kind == .columnMissing && $0.from == "fax" })
    #expect(missing.possibleRename == nil)
    #expect(missing.breaking)
    #expect(
      missing.evidence.contains("the data refutes a rename to nickname: fax = nickname on 0/30 sampled keys"))
    #expect(changes.contains { $0.kind == .columnAdded && $0.to == .one("nickname") })
  }

  @Test func theDataProvesARenameTheNamesDoNotShow() async throws {
    let changes = try await Self.check(
      newColumn: "nickname", newValue: { "555-01\($0)" }, newPlan: { Self.plan($0) })
    let rename = try #require(changes.first { $0.kind == .columnRenamed && $0.from == "fax" })
    #expect(rename.to == .one("nickname"))
    #expect(rename.confidence == 0.99)
    #expect(rename.evidenceKinds == [.dataKeys, .position, .type])
    #expect(rename.evidence.first == "fax = nickname on 30/30 sampled keys")
    #expect(!changes.contains { $0.kind == .columnMissing || $0.kind == .columnAdded })
  }

  // MARK: - name evidence on its own

  static func untypedSource(_ columns: [String]) -> ProjectGraph {
    let source = SourceTable(
      uniqueID: "source.shop.crm.deals", packageName: "shop", sourceName: "crm", name: "deals", schema: "raw",
      columns: columns.map { DeclaredColumn(name: $0, dataType: nil) })
    return ProjectGraph(projectName: "shop", sources: [source], nodes: [])
  }

  @Test func connectorRenameByNameContainmentIsARename() throws {
    // dbt sources rarely declare types; label moved to the end as stage_label.
    let project = Self.untypedSource(["id", "label", "amount"])
    let live = DriftFixtures.live([
      DriftFixtures.table("deals", [("id", "integer"), ("amount", "numeric"), ("stage_label", "text")])
    ])
    let changes = DriftEngine(project: project).diff(live: live)
    let rename = try #require(changes.first { $0.kind == .columnRenamed && $0.from == "label" })
    #expect(rename.to == .one("stage_label"))
    #expect(rename.confidence >= 0.6)
    #expect(rename.evidenceKinds == [.name])
    #expect(rename.evidence.contains { $0.hasPrefix("the only candidate") })
    #expect(!changes.contains { $0.kind == .columnMissing })
  }

  @Test func containmentWithTwoCandidatesIsNotCarriedByTheNameAlone() {
    // Trap: label → stage_label or label_color? The names alone cannot say which.
    let project = Self.untypedSource(["id", "label", "amount"])
    let live = DriftFixtures.live([
      DriftFixtures.table(
        "deals", [("id", "integer"), ("amount", "numeric"), ("stage_label", "text"), ("label_color", "text")])
    ])
    let changes = DriftEngine(project: project).diff(live: live)
    #expect(!changes.contains { $0.kind == .columnRenamed && $0.from == "label" })
    #expect(changes.contains { $0.kind == .columnMissing && $0.from == "label" })
  }

  @Test func camelCaseToSnakeCaseIsARenameWithStrongEvidence() throws {
    let project = Self.untypedSource(["customerId", "amount"])
    let live = DriftFixtures.live([
      DriftFixtures.table("deals", [("amount", "numeric"), ("customer_id", "integer")])
    ])
    let changes = DriftEngine(project: project).diff(live: live)
    let rename = try #require(changes.first { $0.kind == .columnRenamed })
    #expect(rename.from == "customerId")
    #expect(rename.to == .one("customer_id"))
    #expect(rename.confidence >= 0.65)
    #expect(rename.evidenceKinds?.contains(.name) == true)
  }

  // MARK: - a split without keyed data

  /// people(id, name, email) → people(id, first_name, last_name, email), no key; a snapshot profile of `name`
  /// with `shapes` when given.
  static func nameSplit(shapes: [(String, Int)]?) async throws -> DriftChange {
    let source = DriftFixtures.source(
      "people", columns: [("id", "integer"), ("name", "text"), ("email", "text")])
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [])
    let live = DriftFixtures.live([
      DriftFixtures.table(
        "people", [("id", "integer"), ("first_name", "text"), ("last_name", "text"), ("email", "text")])
    ])
    let engine = DriftEngine(project: project)
    var changes = engine.diff(live: live)
    if let shapes {
      let old = DriftFixtures.live([
        DriftFixtures.table("people", [("id", "integer"), ("name", "text"), ("email", "text")])
      ])
      let profile = ColumnProfile(
        column: ColumnRef(schema: raw, table: "people", column: "name"), rowCount: 50, nullCount: 0,
        distinctCount: 50, topValues: [], topShapes: shapes.map { ValueCount(value: $0.0, count: $0.1) })
      let snapshot = try await SnapshotPlan.make(project: project, live: old).run(
        metadata: SnapshotMetadata(
          id: "s-split", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "memory",
          driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
        live: old, profiler: InMemoryProfiler(profiles: [profile]), sampler: InMemorySampler(tables: []),
        sampleSize: 10, hashValues: false)
      #expect(snapshot.samples.isEmpty)
      changes = try await engine.applyingEvidence(
        to: changes, live: live, snapshot: snapshot, sampler: InMemorySampler(tables: []), profiler: nil)
    }
    return try #require(changes.first { $0.kind == .columnSplit && $0.from == "name" })
  }

  @Test func splitWithoutDataHasNoTemplate() async throws {
    let split = try await Self.nameSplit(shapes: nil)
    #expect(split.to == .many(["first_name", "last_name"]))
    #expect(split.template == nil, "no separator is guessed")
  }

  @Test func splitSeparatorsFromTheOldValuesShapes() async throws {
    let split = try await Self.nameSplit(shapes: [("Aaaa Aaaaa", 30), ("Aaa Aaaaaaaa", 20)])
    let template = try #require(split.template)
    #expect(template.description == "{first_name} {last_name}")
    #expect(template.sampled == nil, "shapes prove no row")
    #expect(split.evidence.contains { $0.hasSuffix("{first_name} {last_name}, not proven per key") })
  }

  @Test func splitShapesThatDisagreeLeaveTheSeparatorsUnknown() async throws {
    // Trap: half "Smith, John", half "John Smith": no single separator rebuilds the names.
    let split = try await Self.nameSplit(shapes: [("Aaaaa, Aaaa", 25), ("Aaaa Aaaaa", 25)])
    #expect(split.template == nil)
  }

  // MARK: - remaps of a column that keeps its name

  @Test func sameNameRemapIsProvenPerKey() async throws {
    let changes = try await Self.check(
      newValue: { "555-01\($0)" }, newPlan: { Self.remap[Self.plan($0)] ?? "" })
    let remap = try #require(changes.first { $0.kind == .valuesRemapped && $0.from == "plan" })
    let mapping = try #require(remap.mapping)
    #expect(
      Set(mapping.map { "\($0.old)→\($0.new ?? "?")" }) == ["free→starter", "pro→growth", "enterprise→scale"])
    #expect(mapping.allSatisfy { $0.support == $0.total && ($0.total ?? 0) >= 2 })
    #expect(mapping.reduce(0) { $0 + ($1.total ?? 0) } == 30)
    #expect(remap.confidence >= 0.95)
    #expect(
      remap.evidence.contains { $0.hasPrefix("per-key mapping from 30 sampled keys of subscriptions.id") })
    #expect(!remap.evidence.contains { $0.contains("a snapshot would prove it") })
    #expect(!DriftReportRenderer(toolVersion: "test").headline(remap).contains("?"))
  }

  @Test func sameNameRemapFallsBackToFrequencyRanksWhenNoKeyJoins() async throws {
    // The table is keyed, but none of the sampled keys is left (reloaded with new ids): frequency ranks.
    let changes = try await Self.check(
      newValue: { "555-01\($0)" }, newPlan: { Self.remap[Self.plan($0)] ?? "" }, liveKeys: Array(1001...1040))
    let remap = try #require(changes.first { $0.kind == .valuesRemapped && $0.from == "plan" })
    let mapping = try #require(remap.mapping)
    #expect(
      Set(mapping.map { "\($0.old)→\($0.new ?? "?")" }) == ["free→starter", "pro→growth", "enterprise→scale"])
    #expect(mapping.allSatisfy { $0.support == nil }, "ranks are not per-key counts")
    #expect(
      remap.evidence.contains {
        $0.hasPrefix(
          "by frequency rank against snapshot s-rules, not proven per key (the keyed sample does not map it)")
      })
    #expect(!remap.evidence.contains { $0.contains("a snapshot would prove it") })
    #expect(remap.confidence < 0.95)
  }

  @Test func sameNameRemapWithoutKeysIsRankedAndSaysSo() async throws {
    let changes = try await Self.check(
      newValue: { "555-01\($0)" }, newPlan: { Self.remap[Self.plan($0)] ?? "" }, keyed: false)
    let remap = try #require(changes.first { $0.kind == .valuesRemapped && $0.from == "plan" })
    #expect(
      Set((remap.mapping ?? []).map { "\($0.old)→\($0.new ?? "?")" })
        == ["free→starter", "pro→growth", "enterprise→scale"])
    #expect(remap.evidence.contains { $0.contains("not proven per key (no key to join on)") })
  }
}
