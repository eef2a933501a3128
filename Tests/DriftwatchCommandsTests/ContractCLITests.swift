import DriftwatchCore
import DriftwatchPostgres
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// The jaffle-shop-like fixture whose sources declare no columns (issue 15, item 0): renaming a raw column
/// that a staging model reads is caught, breaking, by `check` and by `diff`.
enum NoColumnsProject {
  static let path = CLI.repository.appendingPathComponent(
    "Tests/DriftwatchCommandsTests/Fixtures/jaffle_nocolumns"
  ).path
  static let seed = path + "/warehouse/seed.sql"
  static let rename = path + "/warehouse/rename_customer.sql"

  static func sqliteWarehouse(in scratch: Scratch) async throws -> String {
    let file = scratch.file("warehouse.db")
    let database = try await SQLiteDatabase.create(at: file)
    try await database.execute(script: try CLI.read(seed))
    try await database.close()
    return file
  }

  static func applyRename(sqlite file: String) async throws {
    let database = try await SQLiteDatabase.open(at: file)
    try await database.execute(script: try CLI.read(rename))
    try await database.close()
  }

  static func changes(_ report: [String: Any]) -> [[String: Any]] {
    report["changes"] as? [[String: Any]] ?? []
  }

  /// The rename, named and breaking, with stg_orders and what reads it in its blast radius.
  static func expectRename(_ report: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) throws
  {
    #expect(report["breaking"] as? Bool == true, sourceLocation: sourceLocation)
    let rename = try #require(
      changes(report).first { $0["kind"] as? String == "column_renamed" }, sourceLocation: sourceLocation)
    #expect(rename["from"] as? String == "customer", sourceLocation: sourceLocation)
    #expect(rename["to"] as? String == "customer_id", sourceLocation: sourceLocation)
    #expect(rename["breaking"] as? Bool == true, sourceLocation: sourceLocation)
    let radius = rename["blast_radius"] as? [String: Any] ?? [:]
    let models = Set(radius["models"] as? [String] ?? [])
    #expect(
      models == [
        "model.jaffle_nocolumns.stg_orders", "model.jaffle_nocolumns.orders",
        "model.jaffle_nocolumns.customers",
      ], sourceLocation: sourceLocation)
  }
}

@Suite("contract: a project whose sources declare no columns")
struct NoColumnsContractTests {
  @Test func checkCatchesARenameOfAColumnAModelReadsOnSQLite() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = try await NoColumnsProject.sqliteWarehouse(in: scratch)
    let base = [
      "check", "--project", NoColumnsProject.path, "--warehouse", "sqlite:\(file)", "--no-snapshot",
    ]
    let clean = try await CLI.run(base + ["--format", "json"])
    #expect(clean.status == 0, "\(clean.stderr)")
    // Nothing a model reads is gone: only the table no source declares (aliases are not missing columns).
    let kinds = NoColumnsProject.changes(try CLI.json(clean.stdout)).compactMap { $0["kind"] as? String }
    #expect(kinds == ["table_added"], "\(clean.stdout)")

    try await NoColumnsProject.applyRename(sqlite: file)
    let json = try await CLI.run(base + ["--format", "json"])
    #expect(json.status == 1, "\(json.stderr)")
    try NoColumnsProject.expectRename(try CLI.json(json.stdout))
    let text = try await CLI.run(base)
    #expect(text.status == 1)
    #expect(text.stdout.contains("read by stg_orders"), "\(text.stdout)")
  }

  @Test func snapshotRecordsEveryColumnAndDiffReportsOnlyWhatChanged() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = try await NoColumnsProject.sqliteWarehouse(in: scratch)
    let state = "sqlite:" + scratch.file("state/state.db")
    let snapshot = [
      "snapshot", "--project", NoColumnsProject.path, "--warehouse", "sqlite:\(file)", "--state", state,
    ]
    let first = try await CLI.run(snapshot)
    #expect(first.status == 0, "\(first.stderr)")
    // Every column of the three source tables (2 + 7 + 4), declared or not.
    #expect(first.stdout.contains("13 columns profiled"), "\(first.stdout)")
    #expect(first.stdout.contains("no keys sampled from 1 source table"), "\(first.stdout)")
    #expect(
      first.stdout.contains("ecom.raw_stores (")
        && first.stdout.contains("no unique test on a column and no primary or unique key"), "\(first.stdout)"
    )
    let second = try await CLI.run(snapshot)
    #expect(second.status == 0, "\(second.stderr)")
    try await NoColumnsProject.applyRename(sqlite: file)
    let third = try await CLI.run(snapshot)
    #expect(third.status == 0, "\(third.stderr)")

    let history = try await CLI.run([
      "history", "--project", NoColumnsProject.path, "--state", state, "--format", "json",
    ])
    let ids = (try CLI.json(history.stdout)["snapshots"] as? [[String: Any]] ?? []).compactMap {
      $0["id"] as? String
    }
    #expect(ids.count == 3)
    guard ids.count == 3 else { return }
    func diff(_ a: String, _ b: String) async throws -> CLI.Result {
      try await CLI.run([
        "diff", a, b, "--project", NoColumnsProject.path, "--state", state, "--format", "json",
      ])
    }
    // Two snapshots of the same warehouse: the undeclared raw_events is in both, so it is no change.
    let same = try await diff(ids[0], ids[1])
    #expect(same.status == 0, "\(same.stderr)")
    #expect(NoColumnsProject.changes(try CLI.json(same.stdout)).isEmpty, "\(same.stdout)")
    // Across the rename: the rename and only it.
    let renamed = try await diff(ids[1], ids[2])
    #expect(renamed.status == 1, "\(renamed.stderr)")
    let report = try CLI.json(renamed.stdout)
    try NoColumnsProject.expectRename(report)
    #expect(NoColumnsProject.changes(report).count == 1, "\(renamed.stdout)")
  }

  @Test func checkCatchesARenameOfAColumnAModelReadsOnPostgres() async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(NoColumnsProject.seed), into: db, searchPath: "raw")
      let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
      let environment = ["PGPASSWORD": db.password ?? ""]
      let base = [
        "check", "--project", NoColumnsProject.path, "--warehouse", url, "--no-snapshot", "--format", "json",
      ]
      let clean = try await CLI.run(base, environment: environment)
      #expect(clean.status == 0, "\(clean.stderr)")
      let kinds = NoColumnsProject.changes(try CLI.json(clean.stdout)).compactMap { $0["kind"] as? String }
      #expect(kinds == ["table_added"], "\(clean.stdout)")

      try await TestPostgres.execute(
        "ALTER TABLE raw.raw_orders RENAME COLUMN customer TO customer_id", in: db)
      let renamed = try await CLI.run(base, environment: environment)
      #expect(renamed.status == 1, "\(renamed.stderr)")
      try NoColumnsProject.expectRename(try CLI.json(renamed.stdout))
    }
  }
}

/// impact knows the warehouse's own dependencies (issue 15, item 4), on the real server, as a fit role.
@Suite("impact: the warehouse's dependencies")
struct ImpactDependencyTests {
  /// raw.orders, and the view dbt built from stg_orders in the warehouse: it reads `note`, which the
  /// project's stg_orders (changed since) no longer names.
  static let staging = """
    CREATE SCHEMA raw;
    CREATE SCHEMA analytics;
    CREATE TABLE raw.orders (id integer primary key, note text, total integer);
    INSERT INTO raw.orders VALUES (1, 'a', 10), (2, 'b', 20);
    CREATE VIEW analytics.stg_orders AS SELECT id, note FROM raw.orders;
    """

  static func project(in scratch: Scratch) throws -> String {
    let root = scratch.file("shop")
    try FileManager.default.createDirectory(atPath: root + "/models", withIntermediateDirectories: true)
    try "name: shop\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop\nmodel-paths: ['models']\n".write(
      toFile: root + "/dbt_project.yml", atomically: true, encoding: .utf8)
    try """
    version: 2
    sources:
      - name: raw
        schema: raw
        tables:
          - name: orders
            columns:
              - name: id
              - name: note
              - name: total
    """.write(toFile: root + "/models/_sources.yml", atomically: true, encoding: .utf8)
    try "select id, total from {{ source('raw', 'orders') }}\n".write(
      toFile: root + "/models/stg_orders.sql", atomically: true, encoding: .utf8)
    return root
  }

  @Test func aDropADbtViewReadsIsBreakingAndARefusedDropSaysWhy() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.project(in: scratch)
    try await TestPostgres.withFitRole { _, fit in
      try await TestPostgres.execute(Self.staging, in: fit)
      let url = "postgres://\(fit.user)@\(fit.host):\(fit.port)/\(fit.database)"
      let environment = ["PGPASSWORD": fit.password ?? ""]
      let cascade = scratch.file("cascade.sql")
      try "ALTER TABLE raw.orders DROP COLUMN note CASCADE;\n".write(
        toFile: cascade, atomically: true, encoding: .utf8)
      let dropped = try await CLI.run(
        ["impact", cascade, "--project", root, "--warehouse", url, "--format", "json"],
        environment: environment)
      #expect(dropped.status == 1, "\(dropped.stdout)\(dropped.stderr)")
      let report = try CLI.json(dropped.stdout)
      let missing = try #require(
        (report["changes"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "column_missing" })
      #expect(missing["breaking"] as? Bool == true)
      #expect(
        (missing["evidence"] as? [String] ?? []).contains {
          $0.hasPrefix("a dbt view reads this column: model.shop.stg_orders (analytics.stg_orders")
        }, "\(missing)")

      let plain = scratch.file("plain.sql")
      try "ALTER TABLE raw.orders DROP COLUMN note;\n".write(toFile: plain, atomically: true, encoding: .utf8)
      let refused = try await CLI.run(
        ["impact", plain, "--project", root, "--warehouse", url, "--format", "json"], environment: environment
      )
      #expect(refused.status == 2)
      #expect(
        refused.stderr.contains("a dbt view reads this column: model.shop.stg_orders"), "\(refused.stderr)")
      // A JSON reader gets JSON on exit 2 too.
      let error = try #require(try CLI.json(refused.stdout)["error"] as? [String: Any])
      #expect(
        (error["message"] as? String ?? "").contains("a dbt view reads this column: model.shop.stg_orders"))
      #expect(error["exit_code"] as? Int == 2)
      // Rolled back both times: the column and the view are still there.
      let columns = try await TestPostgres.rows(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'orders' ORDER BY ordinal_position",
        in: fit)
      #expect(columns.map { $0.first ?? nil } == ["id", "note", "total"])
    }
  }
}

/// Small command-line defects found along the way (issue 15, item 7).
@Suite("command-line details")
struct CommandLineDetailTests {
  @Test func fixAcceptsNoColorLikeCheck() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = try await NoColumnsProject.sqliteWarehouse(in: scratch)
    let result = try await CLI.run([
      "fix", "--project", NoColumnsProject.path, "--warehouse", "sqlite:\(file)", "--no-snapshot",
      "--no-color",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!result.stderr.contains("unknown option"))
  }

  @Test func impactPrintsAJSONErrorOnExit2() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = try await NoColumnsProject.sqliteWarehouse(in: scratch)
    let result = try await CLI.run([
      "impact", scratch.file("missing.sql"), "--project", NoColumnsProject.path, "--warehouse",
      "sqlite:\(file)",
      "--format", "json",
    ])
    #expect(result.status == 2)
    let report = try CLI.json(result.stdout)
    #expect(report["kind"] as? String == "impact")
    let error = try #require(report["error"] as? [String: Any])
    #expect((error["message"] as? String ?? "").contains("does not exist"))
    #expect(error["exit_code"] as? Int == 2)
    // The one line on standard error is still there.
    #expect(result.stderr.contains("does not exist"))
  }
}
