import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import DriftwatchSQLite
import Foundation
import Testing

/// The seed's incident, end to end, on the acme example and a real SQLite warehouse.
enum Acme {
  static let seed = CLI.acme + "/warehouse/seed.sql"
  static let sqliteMigration = CLI.acme + "/migrations/0001_users_to_accounts.sqlite.sql"
  static let postgresMigration = CLI.acme + "/migrations/0001_users_to_accounts.postgres.sql"

  /// The 8 models downstream of stg_customers, and stg_customers itself.
  static let radiusModels: Set<String> = [
    "model.acme.stg_customers", "model.acme.int_customer_orders", "model.acme.int_customer_order_summary",
    "model.acme.dim_customers", "model.acme.fct_orders", "model.acme.customer_ltv",
    "model.acme.revenue_by_segment", "model.acme.revenue_by_country", "model.acme.customer_cohorts",
  ]

  static func sqliteWarehouse(in scratch: Scratch, migrated: Bool) async throws -> String {
    let path = scratch.file("warehouse.db")
    let database = try await SQLiteDatabase.create(at: path)
    try await database.execute(script: try CLI.read(seed))
    if migrated { try await database.execute(script: try CLI.read(sqliteMigration)) }
    try await database.close()
    return path
  }

  /// Checks what the issue asks of the incident report, whatever the warehouse.
  static func expectIncident(_ report: [String: Any], sourceLocation: SourceLocation = #_sourceLocation)
    throws
  {
    #expect(report["schema_version"] as? Int == 1, sourceLocation: sourceLocation)
    #expect(report["breaking"] as? Bool == true, sourceLocation: sourceLocation)
    let changes = try #require(report["changes"] as? [[String: Any]], sourceLocation: sourceLocation)
    func pairs(_ kind: String) -> Set<String> {
      Set(
        changes.filter { $0["kind"] as? String == kind }.map { change in
          let to = (change["to"] as? String) ?? ((change["to"] as? [String])?.joined(separator: ",") ?? "")
          return "\(change["from"] as? String ?? "")→\(to)"
        })
    }
    #expect(pairs("table_renamed") == ["raw_customers→raw_accounts"], sourceLocation: sourceLocation)
    #expect(
      pairs("column_renamed") == [
        "customer_id→account_id", "customer_segment→account_tier", "country→country_code",
      ], sourceLocation: sourceLocation)
    #expect(
      pairs("column_split") == ["address→street,city,state_code,postal_code"], sourceLocation: sourceLocation)
    let unexpected = changes.filter {
      ["table_missing", "table_added", "column_missing", "column_added", "column_type_changed"].contains(
        $0["kind"] as? String ?? "")
    }
    #expect(unexpected.isEmpty, "unexpected changes: \(unexpected)", sourceLocation: sourceLocation)
    for change in changes {
      let confidence = try #require(change["confidence"] as? Double, sourceLocation: sourceLocation)
      #expect(confidence > 0.5 && confidence <= 1, sourceLocation: sourceLocation)
      #expect(!(change["evidence"] as? [String] ?? []).isEmpty, sourceLocation: sourceLocation)
      #expect(change["source"] as? String == "acme.raw_customers", sourceLocation: sourceLocation)
    }
    let radius = try #require(report["blast_radius"] as? [String: [String]], sourceLocation: sourceLocation)
    #expect(Set(radius["models"] ?? []) == radiusModels, sourceLocation: sourceLocation)
    #expect(radius["tests"]?.count == 23, sourceLocation: sourceLocation)
    #expect(radius["exposures"]?.count == 15, sourceLocation: sourceLocation)
    #expect(
      radius["exposures"]?.allSatisfy { $0.hasPrefix("exposure.acme.") } == true,
      sourceLocation: sourceLocation)
  }
}

@Suite("acme on SQLite")
struct AcmeSQLiteTests {
  @Test func cleanBeforeTheMigration() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let result = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--format", "json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let report = try CLI.json(result.stdout)
    #expect(report["breaking"] as? Bool == false)
    #expect((report["changes"] as? [Any])?.isEmpty == true)
    let text = try await CLI.run(["check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)"])
    #expect(text.status == 0)
    #expect(text.stdout.contains("no drift"))
  }

  @Test func incidentAfterTheMigration() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let result = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--format", "json",
    ])
    #expect(result.status == 1, "\(result.stderr)")
    try Acme.expectIncident(try CLI.json(result.stdout))
  }

  /// Text, JSON and markdown of the incident, pinned. Timings are left out so the files are stable.
  @Test func goldenReports() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let project = try DbtProjectReader.read(projectDirectory: CLI.acme)
    let warehouse = SQLiteWarehouse(path: path)
    let live = try await warehouse.introspect(schemas: project.sourceSchemas)
    let engine = DriftEngine(project: project)
    let changes = try await engine.changes(live: live, profiler: warehouse)
    #expect(changes.contains { $0.kind == .valuesRemapped && $0.column == "account_tier" })
    let report = engine.report(changes: changes, warehouse: "sqlite:warehouse.db")
    let renderer = DriftReportRenderer(color: false, toolVersion: "test")
    try golden.check(renderer.render(report, as: .text), named: "acme-incident.txt")
    try golden.check(renderer.render(report, as: .json), named: "acme-incident.json")
    try golden.check(renderer.render(report, as: .markdown), named: "acme-incident.md")
    let colored = DriftReportRenderer(color: true, toolVersion: "test").render(report, as: .text)
    #expect(colored.contains("\u{1B}[31mBREAKING"))
  }

  @Test func demoTellsTheStory() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let result = try await CLI.run(["demo", "--keep", scratch.path], directory: CLI.repository.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("no drift"))
    #expect(result.stdout.contains("raw_customers was renamed to raw_accounts"))
    #expect(result.stdout.contains("address split into street, city, state_code, postal_code"))
    #expect(result.stdout.contains("9 models, 23 tests, 15 dashboards"))
    #expect(result.stdout.contains("47 minutes"))
    let kept = scratch.file("warehouse.db")
    #expect(FileManager.default.fileExists(atPath: kept))
    #expect(result.stdout.contains("--warehouse sqlite:\(kept)"))
    let again = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:\(kept)", "--format", "json",
    ])
    #expect(again.status == 1)
    try Acme.expectIncident(try CLI.json(again.stdout))
    // Keeping into the same place twice refuses rather than overwrite.
    let twice = try await CLI.run(["demo", "--keep", scratch.path], directory: CLI.repository.path)
    #expect(twice.status == 2)
    #expect(twice.stderr.contains("already exists"))
  }

  @Test func demoFromAnotherDirectoryFindsTheExample() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let result = try await CLI.run(["demo"], directory: scratch.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("raw_customers was renamed to raw_accounts"))
  }

  @Test func offlineCatalogRoute() async throws {
    // A catalog.json written the way dbt writes it, after the migration, lacks raw_customers altogether.
    let scratch = try Scratch()
    defer { scratch.remove() }
    let catalog = """
      {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
       "nodes": {}, "errors": null,
       "sources": {
         "source.acme.acme.raw_orders": {"metadata": {"type": "BASE TABLE", "schema": "raw", "name": "raw_orders", "database": "acme"},
           "columns": {"order_id": {"type": "integer", "index": 1, "name": "order_id"}}, "stats": {}, "unique_id": "source.acme.acme.raw_orders"}
       }}
      """
    try catalog.write(toFile: scratch.file("catalog.json"), atomically: true, encoding: .utf8)
    let result = try await CLI.run([
      "check", "--project", CLI.acme, "--catalog", scratch.file("catalog.json"), "--format", "json",
    ])
    #expect(result.status == 1, "\(result.stderr)")
    let report = try CLI.json(result.stdout)
    let kinds = (report["changes"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
    #expect(kinds.filter { $0 == "table_missing" }.count == 2)  // raw_customers and raw_payments
    #expect(kinds.contains("column_missing"))  // raw_orders lost every column but order_id in this catalog
  }
}

/// dbt's own manifest of examples/acme and the project files must give the same report and the same lineage.
@Suite("manifest route")
struct ManifestRouteTests {
  static let manifest = CLI.repository.appendingPathComponent(
    "Tests/DriftwatchCommandsTests/Fixtures/acme-manifest.json"
  )
  .path

  /// What must not depend on how the graph was read. (The manifest also knows the target's database, so
  /// relation names are qualified with it there: `acme.raw.raw_accounts`.)
  func essence(_ json: String) throws -> NSDictionary {
    let report = try CLI.json(json)
    let changes = (report["changes"] as? [[String: Any]] ?? []).map { change in
      change.filter {
        [
          "id", "kind", "source", "source_id", "from", "to", "confidence", "breaking", "parent",
          "blast_radius",
        ].contains($0.key)
      }
    }
    return [
      "changes": changes, "blast_radius": report["blast_radius"] ?? [:], "summary": report["summary"] ?? [:],
    ]
  }

  @Test func sameReportFromManifestAndFiles() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let fromFiles = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--format", "json",
    ])
    let fromManifest = try await CLI.run(
      ["check", "--manifest", Self.manifest, "--warehouse", "sqlite:\(path)", "--format", "json"])
    #expect(fromFiles.status == 1)
    #expect(fromManifest.status == 1, "\(fromManifest.stderr)")
    #expect(try essence(fromFiles.stdout) == essence(fromManifest.stdout))
    try Acme.expectIncident(try CLI.json(fromManifest.stdout))
  }

  @Test func sameLineageFromManifestAndFiles() async throws {
    for selector in ["source:acme.raw_customers+", "+customer_cohorts", "@stg_payments", "path:models/marts"]
    {
      let fromFiles = try await CLI.run(["lineage", "--project", CLI.acme, selector, "--format", "json"])
      let fromManifest = try await CLI.run([
        "lineage", "--manifest", Self.manifest, selector, "--format", "json",
      ])
      #expect(fromFiles.status == fromManifest.status, "\(selector): \(fromManifest.stderr)")
      #expect(fromFiles.stdout == fromManifest.stdout, "\(selector) differs")
    }
  }
}
