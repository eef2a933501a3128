import Testing

@testable import DriftwatchCore

/// The rules and weights the drift benchmark (`scripts/drift_benchmark.py`) calibrated, each on names and
/// tables that are not the benchmark's.
extension EvidenceRulesTests {
  // MARK: - names that share only a kind word

  @Test(arguments: [
    ("created_at", "cancelled_at"), ("customer_id", "order_id"), ("work_email", "backup_email"),
    ("shipped_on", "audited_on"), ("billing_status", "payment_status"),
  ])
  func namesSharingOnlyAKindWordAreNoEvidence(_ pair: (String, String)) {
    #expect(NameRelation.between(old: pair.0, new: pair.1, entities: .empty) == .none)
  }

  @Test(arguments: [
    ("occurred_at", "occurred_timestamp"), ("customer_id", "customer_key"), ("issued_on", "issued_dt"),
    ("dispatched_at", "dispatched_date"),
  ])
  func sameMeaningWithAnotherKindWordIsStrongNameEvidence(_ pair: (String, String)) {
    let relation = NameRelation.between(old: pair.0, new: pair.1, entities: .empty)
    #expect(relation.score == 0.8)
    #expect(relation.reason?.contains("differ only in the kind word") == true)
  }

  @Test func kindWordsStillRelateThroughMeaningWords() {
    // A shared meaning word beside different meaning words stays weak evidence, as before.
    let relation = NameRelation.between(old: "ship_city", new: "ship_region", entities: .empty)
    #expect(relation.isEvidence && relation.score < 0.6)
  }

  /// readings(id, reading_value, taken_at, note): `taken_at` dropped and `voided_at` added in its place.
  @Test func droppedTimestampAndAnotherEventsTimestampInItsPlaceAreNotARename() {
    let source = DriftFixtures.source(
      "readings",
      columns: [("id", "integer"), ("reading_value", "numeric"), ("taken_at", "date"), ("note", "text")])
    let project = ProjectGraph(
      projectName: "shop", sources: [source],
      nodes: [
        DriftFixtures.model(
          "stg_readings", reads: [source.uniqueID],
          sql: "select id, reading_value, taken_at, note from {{ source('shop', 'readings') }}")
      ])
    let live = DriftFixtures.live([
      DriftFixtures.table(
        "readings",
        [("id", "integer"), ("reading_value", "numeric"), ("voided_at", "date"), ("note", "text")])
    ])
    let changes = DriftEngine(project: project).diff(live: live)
    #expect(!changes.contains { $0.kind == .columnRenamed }, "\(changes.map(\.kind))")
    let missing = changes.first { $0.kind == .columnMissing && $0.from == "taken_at" }
    #expect(missing?.possibleRename == "voided_at", "position and type still make it a hint")
    #expect(changes.contains { $0.kind == .columnAdded && $0.to == .one("voided_at") })
  }

  // MARK: - the schema-only score

  @Test func renameByNameInPlaceWithTheSameTypeIsClaimedAtNinety() throws {
    // Neither column is a key: the key term neither raises nor lowers it (it lowered it to 0.87).
    let source = DriftFixtures.source(
      "parcels", columns: [("id", "integer"), ("weight", "numeric"), ("label", "text"), ("sent_on", "date")])
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [])
    let live = DriftFixtures.live([
      DriftFixtures.table(
        "parcels", [("id", "integer"), ("weight", "numeric"), ("label_text", "text"), ("sent_on", "date")])
    ])
    let changes = DriftEngine(project: project).diff(live: live)
    let rename = try #require(changes.first { $0.kind == .columnRenamed })
    #expect(rename.from == "label" && rename.to == .one("label_text"))
    #expect(rename.confidence == 0.9)
    #expect(rename.evidenceKinds == [.name, .position, .type])
  }

  @Test func aKeyRoleThatChangesStillLowersTheScore() throws {
    let source = DriftFixtures.source("parcels", columns: [("parcel_id", "integer"), ("label", "text")])
    let project = ProjectGraph(
      projectName: "shop", sources: [source],
      nodes: [
        DriftFixtures.test(
          "unique_parcels_parcel_id", on: [source.uniqueID], column: "parcel_id", kind: "unique")
      ])
    let live = DriftFixtures.live([
      DriftFixtures.table("parcels", [("parcel_id_v2", "integer"), ("label", "text")])
    ])
    let rename = try #require(
      DriftEngine(project: project).diff(live: live).first { $0.kind == .columnRenamed })
    #expect(rename.confidence < 0.9)
  }

  // MARK: - remaps from the schema alone

  static func remapOnly(_ newPlan: (String) -> String) async throws -> DriftChange? {
    let project = project(keyed: false)
    let live = DriftFixtures.live([
      DriftFixtures.table("subscriptions", [("id", "integer"), ("fax", "text"), ("plan", "text")])
    ])
    let profiler = InMemoryProfiler(profiles: [
      profile("plan", ids.map { newPlan(plan($0)) })
    ])
    let changes = try await DriftEngine(project: project).changes(live: live, profiler: profiler)
    return changes.first { $0.kind == .valuesRemapped }
  }

  @Test func remapWhoseEveryPairDiffersOnlyInCaseIsNearlyCertain() async throws {
    let remap = try #require(try await Self.remapOnly { $0.uppercased() })
    #expect(remap.confidence == 0.95)
    #expect(remap.mapping?.allSatisfy { $0.new == $0.old.uppercased() } == true)
  }

  @Test func remapToAsManyUnknownValuesIsAClaimAtNinety() async throws {
    let remap = try #require(try await Self.remapOnly { Self.remap[$0] ?? $0 })
    #expect(remap.confidence == 0.9)
    #expect(remap.mapping?.allSatisfy { $0.new == nil } == true)
  }
}

extension ProfileDriftTests {
  // MARK: - a scale change the keys refute

  @Test func magnitudeDropThatTheKeysRefuteIsNotAScaleClaim() async throws {
    // amount collapsed to 1, 2 or 3: the average fell a hundredfold, but per key these are other values.
    let after = Self.modified(Self.base) { row in row[4] = "\((Int(row[0] ?? "") ?? 0) % 3 + 1)" }
    let drift = Self.drift(try await Self.check(before: Self.base, after: after))
    #expect(!drift.contains { $0.kind == .scaleChanged && $0.confidence >= 0.5 }, "\(drift.map(\.kind))")
    let change = try #require(drift.first { $0.from == "amount" })
    #expect(change.kind == .distinctCountChanged)
    #expect(change.confidence == 0.95, "the sampled keys show other values")
    #expect(
      change.evidence.contains { $0.hasSuffix("sampled keys hold another value than in snapshot s-base") })
  }

  @Test func magnitudeJumpWithOtherValuesPerKeyIsOnlyAHint() async throws {
    // Other amounts, a hundred times larger on average, as many distinct values: nothing but the average.
    let after = Self.modified(Self.base) { row in
      let id = Int(row[0] ?? "") ?? 0
      row[4] = "\((id * 104_729) % 50_000 + 100)"
    }
    let drift = Self.drift(try await Self.check(before: Self.base, after: after))
    let change = try #require(drift.first { $0.from == "amount" })
    #expect(change.kind == .scaleChanged)
    #expect(change.confidence == DriftEngine.ProfileRules.refutedScale)
    #expect(change.confidence < 0.5)
    #expect(change.evidence.contains { $0.hasPrefix("per key the relation holds on only") })
  }
}
