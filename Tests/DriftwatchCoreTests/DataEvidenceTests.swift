import DriftwatchCore
import Testing

/// Evidence from the data: a snapshot of the old table joined on the key to the migrated one.
@Suite("Data evidence")
struct DataEvidenceTests {
  static let raw = SchemaRef(schema: "raw")
  static let segments = ["premium", "standard", "basic"]
  static let tiers = ["premium": "gold", "standard": "silver", "basic": "bronze"]
  static let cities = ["Boston", "Kansas City", "Salt Lake City", "Orlando"]

  struct Customer {
    var id: Int
    var street: String
    var city: String
    var state: String
    var zip: String
    var segment: String
    var country: String
    var address: String { "\(street), \(city), \(state) \(zip)" }
  }

  static let customers: [Customer] = (1...60).map { id in
    Customer(
      id: id, street: "\(100 + id * 7) Oak Ave\(id % 5 == 0 ? " Apt \(id)" : "")",
      city: cities[id % cities.count],
      state: ["MA", "MO", "UT", "FL"][id % 4], zip: String(10000 + id * 37),
      segment: segments[(id / 2) % 3], country: ["US", "CA", "GB"][id % 3 == 0 ? 1 : (id % 7 == 0 ? 2 : 0)])
  }

  static let oldColumns = [
    "customer_id", "name", "email", "address", "customer_segment", "country", "created_at",
  ]
  static let newColumns = [
    "account_id", "name", "email", "street", "city", "state_code", "postal_code", "account_tier",
    "country_code",
    "created_at",
  ]

  static func oldRows() -> [[String?]] {
    customers.map {
      ["\($0.id)", "name \($0.id)", "c\($0.id)@x.io", $0.address, $0.segment, $0.country, "2023-01-01"]
    }
  }

  static func newRows(
    address: (Customer) -> (String, String, String, String) = { ($0.street, $0.city, $0.state, $0.zip) },
    country: (Int, Customer) -> String = { $1.country }
  ) -> [[String?]] {
    customers.enumerated().map { index, customer in
      let (street, city, state, zip) = address(customer)
      return [
        "\(customer.id)", "name \(customer.id)", "c\(customer.id)@x.io", street, city, state, zip,
        tiers[customer.segment], country(index, customer), "2023-01-01",
      ]
    }
  }

  /// Snapshot of the old table, then the migration, then a check with evidence.
  static func check(
    newRows: [[String?]], project: ProjectGraph = DriftFixtures.customersProject(), hashValues: Bool = false
  ) async throws -> (changes: [DriftChange], snapshot: Snapshot) {
    let oldLive = DriftFixtures.live([
      DriftFixtures.table("raw_customers", DriftFixtures.customerColumns, keys: ["customer_id"]),
      DriftFixtures.ordersTable,
    ])
    let oldSampler = InMemorySampler(tables: [
      .init(ref: TableRef(schema: raw, name: "raw_customers"), columns: oldColumns, rows: oldRows()),
      .init(ref: TableRef(schema: raw, name: "raw_orders"), columns: ["order_id", "customer_id"], rows: []),
    ])
    let plan = SnapshotPlan.make(project: project, live: oldLive)
    let oldProfiles = InMemoryProfiler(profiles: [
      ColumnProfile(
        column: ColumnRef(schema: raw, table: "raw_customers", column: "customer_segment"), rowCount: 60,
        nullCount: 0, distinctCount: 3,
        topValues: ColumnProfile.ranked(
          segments.map { segment in
            ValueCount(value: segment, count: customers.filter { $0.segment == segment }.count)
          }))
    ])
    let snapshot = try await plan.run(
      metadata: SnapshotMetadata(
        id: "20260217T140000Z-aaaaaa", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
      live: oldLive, profiler: oldProfiles, sampler: oldSampler, sampleSize: 50, hashValues: hashValues)

    let newLive = DriftFixtures.live([DriftFixtures.migratedAccounts, DriftFixtures.ordersTable])
    let newSampler = InMemorySampler(tables: [
      .init(ref: TableRef(schema: raw, name: "raw_accounts"), columns: newColumns, rows: newRows)
    ])
    let engine = DriftEngine(project: project)
    let changes = try await engine.applyingEvidence(
      to: engine.diff(live: newLive), live: newLive, snapshot: snapshot, sampler: newSampler, profiler: nil)
    return (changes, snapshot)
  }

  static func change(_ changes: [DriftChange], _ kind: ChangeKind, from: String) throws -> DriftChange {
    try #require(changes.first { $0.kind == kind && $0.from == from })
  }

  @Test func planSamplesKeyedSourcesAndProfilesDeclaredColumns() async throws {
    let (_, snapshot) = try await Self.check(newRows: Self.newRows())
    #expect(snapshot.samples.map(\.table.name) == ["raw_customers", "raw_orders"])
    let sample = try #require(snapshot.samples.first)
    #expect(sample.key == "customer_id")
    #expect(sample.columns == Array(Self.oldColumns.dropFirst()))
    #expect(sample.rows.count == 50)
    #expect(snapshot.metadata.sampledKeys == 50)
    // Deterministic: the same keys every time, chosen by hash rather than by order.
    let again = try await Self.check(newRows: Self.newRows()).snapshot
    #expect(again.samples.first?.rows.map(\.key) == sample.rows.map(\.key))
    #expect(sample.rows.map(\.key) != (1...50).map(String.init))
  }

  @Test func provesTheIncidentFromTheData() async throws {
    let (changes, _) = try await Self.check(newRows: Self.newRows())
    let table = try Self.change(changes, .tableRenamed, from: "raw_customers")
    #expect(
      table.evidence.contains(
        "50/50 sampled keys of raw_customers.customer_id found as raw_accounts.account_id"))
    #expect(table.confidence == 0.99)

    let key = try Self.change(changes, .columnRenamed, from: "customer_id")
    #expect(key.evidence.contains { $0.hasPrefix("50/50 sampled keys") })
    #expect(key.confidence == 0.99)

    let country = try Self.change(changes, .columnRenamed, from: "country")
    #expect(country.evidence.contains("country = country_code on 50/50 sampled keys"))
    #expect(country.confidence == 0.99)

    let split = try Self.change(changes, .columnSplit, from: "address")
    #expect(split.template?.description == "{street}, {city}, {state_code} {postal_code}")
    #expect(split.template?.matched == 50)
    #expect(split.template?.sampled == 50)
    #expect(split.confidence == 0.99)

    let segment = try Self.change(changes, .columnRenamed, from: "customer_segment")
    #expect(segment.confidence >= 0.95)
    let remap = try Self.change(changes, .valuesRemapped, from: "customer_segment")
    #expect(remap.parent == segment.id)
    #expect(remap.to == .one("account_tier"))
    let mapping = try #require(remap.mapping)
    #expect(
      Set(mapping.map { "\($0.old)→\($0.new ?? "")" }) == ["premium→gold", "standard→silver", "basic→bronze"])
    #expect(mapping.allSatisfy { $0.support == $0.total && ($0.total ?? 0) > 1 })
    #expect(mapping.reduce(0) { $0 + ($1.total ?? 0) } == 50)
    #expect(remap.evidence.contains { $0.contains("a human's call") })
  }

  @Test func hashedSamplesStillProveEqualityAndNameTheOldValuesFromTheProfile() async throws {
    let (changes, snapshot) = try await Self.check(newRows: Self.newRows(), hashValues: true)
    #expect(snapshot.samples.allSatisfy { $0.hashed })
    #expect(snapshot.samples.first?.rows.first?.values.allSatisfy { $0?.hasPrefix("h") ?? true } == true)
    #expect(try Self.change(changes, .columnRenamed, from: "country").confidence == 0.99)
    let remap = try Self.change(changes, .valuesRemapped, from: "customer_segment")
    #expect(Set(remap.mapping?.map(\.old) ?? []) == ["premium", "standard", "basic"])
    let split = try Self.change(changes, .columnSplit, from: "address")
    #expect(split.template == nil)
    #expect(split.evidence.contains { $0.contains("hashes only") })
  }

  @Test func renameTheDataRefutesIsMissingPlusAdded() async throws {
    // country_code holds other codes that do not follow from country: the names suggested a rename, the
    // data refutes it, so country is missing (still breaking: stg_customers reads it) and country_code new.
    let (changes, _) = try await Self.check(
      newRows: Self.newRows(country: { index, _ in ["DE", "FR", "IT", "ES", "NL"][(index * 7) % 5] }))
    #expect(!changes.contains { $0.kind == .columnRenamed && $0.from == "country" })
    let country = try Self.change(changes, .columnMissing, from: "country")
    #expect(country.breaking)
    #expect(country.confidence == 1)
    #expect(
      country.evidence.contains {
        $0.hasPrefix("the data refutes a rename to country_code: country = country_code on only 0/50")
      })
    #expect(country.evidence.contains { $0.hasPrefix("what suggested the rename:") })
    #expect(country.evidenceKinds?.contains(.name) == true)
    let added = try #require(changes.first { $0.kind == .columnAdded && $0.to == .one("country_code") })
    #expect(!added.breaking)
    #expect(added.parent == country.parent)
  }

  @Test func oldValuesShuffledAcrossKeysAreRejected() async throws {
    let shuffled = Self.customers.map(\.country).reversed().map { $0 }
    let (changes, _) = try await Self.check(newRows: Self.newRows(country: { index, _ in shuffled[index] }))
    #expect(!changes.contains { $0.kind == .columnRenamed && $0.from == "country" })
    let country = try Self.change(changes, .columnMissing, from: "country")
    #expect(
      country.evidence.contains {
        $0.hasPrefix(
          "the data refutes a rename to country_code: country_code holds the values of country but on other keys"
        )
      })
    #expect(changes.contains { $0.kind == .columnAdded && $0.to == .one("country_code") })
  }

  @Test func inconsistentSplitReportsItsMatchRateAndIsAQuestion() async throws {
    // One row in four has a city that is not in the old address.
    let (changes, _) = try await Self.check(
      newRows: Self.newRows(address: { customer in
        (customer.street, customer.id % 4 == 0 ? "Elsewhere" : customer.city, customer.state, customer.zip)
      }))
    let split = try Self.change(changes, .columnSplit, from: "address")
    let template = try #require(split.template)
    #expect(template.description == "{street}, {city}, {state_code} {postal_code}")
    let matched = try #require(template.matched)
    #expect(template.sampled == 50)
    #expect(matched < 45 && matched > 25)
    #expect(split.confidence <= 0.6)
    #expect(
      split.evidence.contains { $0.contains("on only \(matched)/50 sampled keys: a question for a human") })
  }

  @Test func tableWithoutAKeyFallsBackToDistributions() async throws {
    // No unique test and no live key: no sample, only profiles.
    let source = DriftFixtures.source("plans", columns: [("plan", "text")])
    let test = GraphNode(
      uniqueID: "test.shop.accepted_values_plans_plan", resourceType: .test,
      name: "accepted_values_plans_plan",
      packageName: "shop", dependsOn: [source.uniqueID],
      test: TestInfo(
        testName: "accepted_values", columnName: "plan", attachedNode: source.uniqueID,
        acceptedValues: ["premium", "standard", "basic"]))
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [test])
    let table = DriftFixtures.table("plans", [("plan", "text")])
    let live = DriftFixtures.live([table])
    let ref = ColumnRef(schema: Self.raw, table: "plans", column: "plan")
    let plan = SnapshotPlan.make(project: project, live: live)
    #expect(plan.samples.isEmpty)
    #expect(plan.columns == [ref])
    let before = ColumnProfile(
      column: ref, rowCount: 100, nullCount: 0, distinctCount: 3,
      topValues: [
        .init(value: "standard", count: 50), .init(value: "premium", count: 30),
        .init(value: "basic", count: 20),
      ])
    let after = ColumnProfile(
      column: ref, rowCount: 100, nullCount: 0, distinctCount: 3,
      topValues: [
        .init(value: "silver", count: 50), .init(value: "gold", count: 30), .init(value: "bronze", count: 20),
      ])
    let snapshot = try await plan.run(
      metadata: SnapshotMetadata(
        id: "s1", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test",
        sampleSize: 0, valuesHashed: false),
      live: live, profiler: InMemoryProfiler(profiles: [before]), sampler: InMemorySampler(tables: []),
      sampleSize: 10, hashValues: false)
    let engine = DriftEngine(project: project)
    let probes = engine.valueProbes(changes: [], live: live)
    let profiler = InMemoryProfiler(profiles: [after])
    let changes = engine.valueChanges(
      probes: probes, profiles: try await profiler.profile(columns: [ref], topK: 50))
    let withEvidence = try await engine.applyingEvidence(
      to: changes, live: live, snapshot: snapshot, sampler: InMemorySampler(tables: []), profiler: profiler)
    let remap = try Self.change(withEvidence, .valuesRemapped, from: "plan")
    #expect(
      remap.mapping == [
        ValueMapping(old: "standard", new: "silver"), ValueMapping(old: "premium", new: "gold"),
        ValueMapping(old: "basic", new: "bronze"),
      ])
    #expect(remap.confidence == 0.7)
    #expect(
      remap.evidence.contains {
        $0.contains("by frequency rank against snapshot s1, not proven per key (no key to join on)")
      })
  }

  @Test func renameWithoutAKeyIsComparedByProfile() async throws {
    let source = DriftFixtures.source("plans", columns: [("plan", "text"), ("country", "text")])
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [])
    let before = DriftFixtures.live([DriftFixtures.table("plans", [("plan", "text"), ("country", "text")])])
    let after = DriftFixtures.live([
      DriftFixtures.table("plans", [("plan", "text"), ("country_code", "text")])
    ])
    func profile(_ column: String, _ values: [(String, Int)]) -> ColumnProfile {
      ColumnProfile(
        column: ColumnRef(schema: Self.raw, table: "plans", column: column), rowCount: 10, nullCount: 0,
        distinctCount: values.count, topValues: values.map { ValueCount(value: $0.0, count: $0.1) })
    }
    let plan = SnapshotPlan.make(project: project, live: before)
    #expect(plan.samples.isEmpty)
    let snapshot = try await plan.run(
      metadata: SnapshotMetadata(
        id: "s2", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test",
        sampleSize: 0, valuesHashed: false),
      live: before, profiler: InMemoryProfiler(profiles: [profile("country", [("US", 6), ("CA", 4)])]),
      sampler: InMemorySampler(tables: []), sampleSize: 10, hashValues: false)
    let engine = DriftEngine(project: project)
    let names = engine.diff(live: after)
    let rename = try Self.change(names, .columnRenamed, from: "country")

    let same = try await engine.applyingEvidence(
      to: names, live: after, snapshot: snapshot, sampler: InMemorySampler(tables: []),
      profiler: InMemoryProfiler(profiles: [profile("country_code", [("US", 6), ("CA", 4)])]))
    let confirmed = try Self.change(same, .columnRenamed, from: "country")
    #expect(confirmed.confidence == max(rename.confidence, min(0.9, rename.confidence + 0.1)))
    #expect(
      confirmed.evidence.last?.hasPrefix(
        "no key to join on: country in snapshot s2 and country_code now have the same profile") == true)

    let other = try await engine.applyingEvidence(
      to: names, live: after, snapshot: snapshot, sampler: InMemorySampler(tables: []),
      profiler: InMemoryProfiler(profiles: [profile("country_code", [("DE", 7), ("FR", 3)])]))
    let doubted = try Self.change(other, .columnRenamed, from: "country")
    #expect(doubted.confidence <= 0.5)
    #expect(doubted.evidence.last?.contains("shares no value with country") == true)
  }

  @Test func templateDerivationFindsSeparatorsAndOrder() {
    let rows: [(old: String, parts: [String])] = [
      ("12345 (Boston)", ["Boston", "12345"]),
      ("02139 (Cambridge)", ["Cambridge", "02139"]),
    ]
    let template = SplitTemplate.derive(from: rows, columns: ["city", "zip"])
    #expect(template?.description == "{zip} ({city})")
    #expect(template?.matched == 2)
  }
}
