import DriftwatchCore
import DriftwatchReports
import Testing

/// Drift behind an unchanged schema, from a baseline snapshot's profiles (the in-memory twins; the same rules
/// on real SQLite and PostgreSQL are in `ProfileDriftWarehouseTests` and the CLI's `ProfileDriftCLITests`).
@Suite("profile drift")
struct ProfileDriftTests {
  static let raw = SchemaRef(schema: "raw")
  static let table = TableRef(schema: raw, name: "people")
  static let columns = ["id", "email", "full_name", "status", "amount", "note", "unread"]
  static let first = ["Ann", "Bob", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo"]
  static let last = ["Lee", "Moss", "Nash", "Ortiz", "Park", "Quinn", "Roth", "Sato"]
  static let statuses = ["active", "trial", "churned", "paused"]

  /// people(id, email, full_name, status, amount, note, unread); a model reads all but `unread`.
  static func project(keyed: Bool) -> ProjectGraph {
    let source = DriftFixtures.source(
      "people",
      columns: [
        ("id", "integer"), ("email", "text"), ("full_name", "text"), ("status", "text"),
        ("amount", "numeric"),
        ("note", "text"), ("unread", "text"),
      ])
    var nodes = [
      DriftFixtures.model(
        "stg_people", reads: [source.uniqueID],
        sql: "select id, email, full_name, status, amount, note from {{ source('shop', 'people') }}")
    ]
    if keyed {
      nodes.append(
        DriftFixtures.test("unique_people_id", on: [source.uniqueID], column: "id", kind: "unique"))
    }
    return ProjectGraph(projectName: "shop", sources: [source], nodes: nodes)
  }

  static func row(_ id: Int) -> [String?] {
    let f = first[id % first.count]
    let l = last[(id / first.count) % last.count]
    let cents = (id * 7919) % 50_000 + 100
    return [
      "\(id)", "\(f.lowercased()).\(l.lowercased())\(id)@example.com", "\(f) \(l)",
      statuses[id % statuses.count],
      "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)", id % 10 == 0 ? nil : "n\(id)",
      "u\(id % 3)",
    ]
  }

  /// The profile a warehouse computes (exact counts, shape classes, mean magnitude for `numeric`).
  static func profile(_ column: String, _ values: [String?], numeric: Bool = false) -> ColumnProfile {
    var counts: [String: Int] = [:]
    var classes: [String: Int] = [:]
    var magnitude = 0.0
    for value in values.compactMap({ $0 }) {
      counts[value, default: 0] += 1
      classes[ShapeClass.of(value: value).rawValue, default: 0] += 1
      magnitude += abs(Double(value) ?? 0)
    }
    let nonNull = values.compactMap { $0 }.count
    var profile = ColumnProfile(
      column: ColumnRef(schema: raw, table: "people", column: column), rowCount: values.count,
      nullCount: values.count - nonNull, distinctCount: counts.count,
      topValues: Array(
        ColumnProfile.ranked(counts.map { ValueCount(value: $0.key, count: $0.value) }).prefix(50)))
    if numeric {
      profile.meanMagnitude = nonNull == 0 ? nil : magnitude / Double(nonNull)
    } else if nonNull > 0 {
      profile.shapeClasses = ColumnProfile.ranked(classes.map { ValueCount(value: $0.key, count: $0.value) })
    }
    return profile
  }

  static func warehouse(_ rows: [[String?]]) -> (InMemoryProfiler, InMemorySampler) {
    let profiles = columns.enumerated().dropFirst().map { index, name in
      profile(name, rows.map { $0[index] }, numeric: name == "amount")
    }
    return (
      InMemoryProfiler(profiles: profiles),
      InMemorySampler(tables: [.init(ref: table, columns: columns, rows: rows)])
    )
  }

  static let live = DriftFixtures.live([
    DriftFixtures.table(
      "people",
      [
        ("id", "integer"), ("email", "text"), ("full_name", "text"), ("status", "text"),
        ("amount", "numeric"),
        ("note", "text"), ("unread", "text"),
      ])
  ])

  /// A snapshot of `before`, then the check of `after` with its evidence.
  static func check(before: [[String?]], after: [[String?]], keyed: Bool = true) async throws -> [DriftChange]
  {
    let project = project(keyed: keyed)
    let (oldProfiler, oldSampler) = warehouse(before)
    let snapshot = try await SnapshotPlan.make(project: project, live: live).run(
      metadata: SnapshotMetadata(
        id: "s-base", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "memory",
        driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
      live: live, profiler: oldProfiler, sampler: oldSampler, sampleSize: 100, hashValues: false)
    let (newProfiler, newSampler) = warehouse(after)
    let engine = DriftEngine(project: project)
    let changes = try await engine.changes(live: live, profiler: newProfiler)
    return try await engine.applyingEvidence(
      to: changes, live: live, snapshot: snapshot, sampler: newSampler, profiler: newProfiler)
  }

  static let base = (1...400).map(row)

  static func drift(_ changes: [DriftChange]) -> [DriftChange] { changes.filter(\.kind.isProfileDrift) }

  static func modified(_ rows: [[String?]], _ body: (inout [String?]) -> Void) -> [[String?]] {
    rows.map { row in
      var row = row
      body(&row)
      return row
    }
  }

  // MARK: - noise

  @Test(arguments: [
    ("grows", Array(1...700)), ("shrinks", Array(1...60)), ("new rows daily", Array(120...520)),
    ("every other row", Array(stride(from: 1, through: 800, by: 2))),
  ])
  func stableColumnsStayQuiet(_ day: (String, [Int])) async throws {
    for keyed in [true, false] {
      let changes = try await Self.check(before: Self.base, after: day.1.map(Self.row), keyed: keyed)
      #expect(
        Self.drift(changes).isEmpty, "\(day.0) (keyed: \(keyed)): \(Self.drift(changes).map(\.evidence))")
      #expect(!engineReport(changes).breaking)
    }
  }

  func engineReport(_ changes: [DriftChange]) -> DriftReport {
    DriftEngine(project: Self.project(keyed: true)).report(changes: changes, warehouse: "memory")
  }

  // MARK: - the five kinds

  @Test func swappedColumnsAreNamedAsSuchPerKey() async throws {
    let after = Self.modified(Self.base) { row in row.swapAt(1, 2) }
    let changes = try await Self.check(before: Self.base, after: after)
    let drift = Self.drift(changes)
    #expect(drift.count == 1, "\(drift.map(\.kind))")
    let swap = try #require(drift.first)
    #expect(swap.kind == .columnsSwapped)
    #expect(swap.from == "email" && swap.to == .one("full_name"))
    #expect(swap.confidence == 0.99)
    #expect(swap.breaking)
    #expect(swap.evidence.contains("email = full_name (snapshot) on 100/100 sampled keys"))
    #expect(swap.measure?.keysAgreeing == 100)
    #expect(
      DriftReportRenderer(toolVersion: "test").headline(swap) == "email and full_name swapped their values")
  }

  @Test func swappedColumnsWithoutAKeyFromTheShapes() async throws {
    let after = Self.modified(Self.base) { row in row.swapAt(1, 2) }
    let swap = try #require(
      Self.drift(try await Self.check(before: Self.base, after: after, keyed: false)).first)
    #expect(swap.kind == .columnsSwapped)
    #expect(swap.confidence == 0.85)
    #expect(swap.evidence.contains("no key joined: by the shapes of the values only"))
    #expect(swap.measure?.shapeBefore == .email && swap.measure?.shapeAfter == .titleCase)
  }

  @Test func columnThatBecameAllNull() async throws {
    let after = Self.modified(Self.base) { row in row[5] = nil }
    let change = try #require(Self.drift(try await Self.check(before: Self.base, after: after)).first)
    #expect(change.kind == .nullRateChanged)
    #expect(change.from == "note")
    #expect(change.confidence == 0.99)
    #expect(
      change.evidence.first == "note is NULL on all 400 rows; in snapshot s-base it was NULL on 10% of 400")
    let lost = try #require(change.measure?.keysAgreeing)
    #expect(lost > 80 && change.measure?.keysJoined == lost, "every sampled key that had a note lost it")
    #expect(change.evidence.contains("\(lost)/\(lost) sampled keys that had a value are now NULL"))
    #expect(
      DriftReportRenderer(toolVersion: "test").headline(change) == "note became all NULL (was 10% NULL)")
  }

  @Test func nullRateJumpWithoutKey() async throws {
    let after = Self.modified(Self.base) { row in if (Int(row[0] ?? "") ?? 0) % 2 == 0 { row[5] = nil } }
    let change = try #require(
      Self.drift(try await Self.check(before: Self.base, after: after, keyed: false)).first)
    #expect(change.kind == .nullRateChanged)
    #expect(change.confidence == 0.9)
    #expect(change.measure?.before == 0.1 && change.measure?.after == 0.5)
  }

  @Test func amountsDividedByAHundredWithTheExactRelation() async throws {
    let after = Self.modified(Self.base) { row in
      let cents = Double(row[4] ?? "") ?? 0
      row[4] = "\(cents / 100)"
    }
    let change = try #require(Self.drift(try await Self.check(before: Self.base, after: after)).first)
    #expect(change.kind == .scaleChanged)
    #expect(change.from == "amount")
    #expect(change.confidence == 0.99)
    #expect(change.measure?.factor == 0.01)
    #expect(change.evidence.contains("amount = amount (snapshot s-base) / 100 on 100/100 sampled keys"))
    #expect(
      DriftReportRenderer(toolVersion: "test").headline(change)
        == "amount values are 100× smaller (exact on 100/100 sampled keys)")
  }

  @Test func scaleWithoutKeyIsLessSure() async throws {
    let after = Self.modified(Self.base) { row in row[4] = "\((Double(row[4] ?? "") ?? 0) * 1000)" }
    let change = try #require(
      Self.drift(try await Self.check(before: Self.base, after: after, keyed: false)).first)
    #expect(change.kind == .scaleChanged)
    #expect(change.confidence == 0.8)
    #expect(change.measure?.factor == 1000)
  }

  @Test func valuesOfAnotherShape() async throws {
    // e-mail addresses replaced by names in one column (not a swap: full_name keeps its names).
    let after = Self.modified(Self.base) { row in row[1] = row[2] }
    let change = try #require(Self.drift(try await Self.check(before: Self.base, after: after)).first)
    #expect(change.kind == .valueShapeChanged)
    #expect(change.from == "email")
    #expect(change.measure?.shapeBefore == .email && change.measure?.shapeAfter == .titleCase)
    #expect(change.confidence >= 0.95, "every sampled key changed value")
    #expect(
      change.evidence.first
        == "email was 100% e-mail-shaped in snapshot s-base, now 100% name-shaped (capitalized words) (0% e-mail-shaped)"
    )
  }

  @Test func distinctCountCollapse() async throws {
    let after = Self.modified(Self.base) { row in row[1] = "same@example.com" }
    let changes = Self.drift(try await Self.check(before: Self.base, after: after, keyed: false))
    let change = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(change.kind == .distinctCountChanged)
    #expect(change.measure?.before == 400 && change.measure?.after == 1)
    #expect(
      DriftReportRenderer(toolVersion: "test").headline(change)
        == "distinct values of email collapsed 400 → 1")
  }

  @Test func unreadColumnsAreNotCompared() async throws {
    let after = Self.modified(Self.base) { row in row[6] = nil }
    #expect(Self.drift(try await Self.check(before: Self.base, after: after)).isEmpty)
  }

  @Test func driftIsBreakingAndRenderedInJSON() async throws {
    let after = Self.modified(Self.base) { row in row[5] = nil }
    let changes = try await Self.check(before: Self.base, after: after)
    let report = engineReport(changes)
    #expect(report.breaking)
    let json = DriftReportRenderer(toolVersion: "test").render(report, as: .json)
    #expect(json.contains("\"kind\": \"null_rate_changed\""))
    #expect(json.contains("\"metric\": \"null_fraction\""))
    let markdown = DriftReportRenderer(toolVersion: "test").render(report, as: .markdown)
    #expect(markdown.contains("null_rate_changed"))
  }

  // MARK: - pieces

  @Test func shapeClassesOfValues() {
    let cases: [(String, ShapeClass)] = [
      ("", .empty), ("ann.lee@example.com", .email), ("Ann Lee", .titleCase), ("Mary-Jo O'Neil", .titleCase),
      ("https://x.io/a", .url), ("123e4567-e89b-12d3-a456-426614174000", .uuid), ("2026-02-17", .date),
      ("2026-02-17 14:00:00", .timestamp), ("2026-02-17T14:00:00Z", .timestamp), ("-12.50", .number),
      ("1234", .number), ("1.2.3", .digits), ("(555) 010-0199", .digits), ("past_due", .lowercase),
      ("US", .uppercase), ("NASA Ames", .other), ("a@b", .other), ("ann lee@x.com", .other),
      ("x@.com", .other),
      ("n123", .other), (".5", .digits),
    ]
    for (value, expected) in cases {
      #expect(ShapeClass.of(value: value) == expected, "\(value)")
    }
  }

  @Test func powersOfTen() {
    #expect(DriftEngine.powerOfTen(0.01)?.exponent == -2)
    #expect(DriftEngine.powerOfTen(0.0123)?.exponent == -2)
    #expect(DriftEngine.powerOfTen(1000)?.factor == 1000)
    #expect(DriftEngine.powerOfTen(1.2)?.exponent == 0)
    #expect(DriftEngine.powerOfTen(3) == nil, "between powers of ten")
    #expect(DriftEngine.powerOfTen(0) == nil)
  }
}
