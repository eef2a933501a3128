import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// The evidence rules through the real executable on a real SQLite warehouse: a column dropped and an
/// unrelated one added in its place (a hint, then refuted by the snapshot), and a remap of a column that keeps
/// its name (proven per key from the snapshot).
@Suite("evidence rules on SQLite")
struct EvidenceRulesCLITests {
  static let sources = """
    version: 2
    sources:
      - name: app
        schema: raw
        tables:
          - name: subscriptions
            columns:
              - name: id
                data_type: integer
                data_tests:
                  - unique
              - name: fax
                data_type: text
              - name: plan
                data_type: text
                data_tests:
                  - accepted_values:
                      arguments:
                        values: ["free", "pro", "enterprise"]
    """

  static let plans = ["free", "free", "free", "pro", "pro", "enterprise"]

  static func rows(_ value: (Int) -> String, plan: (String) -> String) -> String {
    (1...120).map { id in "(\(id), '\(value(id))', '\(plan(plans[id % plans.count]))')" }
      .joined(separator: ",\n")
  }

  @Test func hintRefutedAndSameNameRemapProvenFromTheSnapshot() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let project = try HostileInputTests.project(
      [
        "models/src_app.yml": Self.sources,
        "models/stg_subscriptions.sql": "select id, fax, plan from {{ source('app', 'subscriptions') }}\n",
      ], in: scratch)
    let path = scratch.file("warehouse.db")
    let database = try await SQLiteDatabase.create(at: path)
    try await database.execute(
      script: """
        create table subscriptions (id integer primary key, fax text, plan text);
        insert into subscriptions values \(Self.rows({ "555-01\($0)" }, plan: { $0 }));
        """)
    try await database.close()
    let warehouse = "sqlite:\(path)"

    let snapshot = try await CLI.run(["snapshot", "--project", project, "--warehouse", warehouse])
    #expect(snapshot.status == 0, "\(snapshot.stderr)")

    // The migration: fax dropped, nickname added in its place (same type), plans renamed.
    let remap = ["free": "starter", "pro": "growth", "enterprise": "scale"]
    let migrate = try await SQLiteDatabase.open(at: path)
    try await migrate.execute(
      script: """
        drop table subscriptions;
        create table subscriptions (id integer primary key, nickname text, plan text);
        insert into subscriptions values \(Self.rows({ "nick \($0)" }, plan: { remap[$0] ?? $0 }));
        """)
    try await migrate.close()

    // Schema only: a hint on the missing column, no rename.
    let schemaOnly = try await CLI.run([
      "check", "--project", project, "--warehouse", warehouse, "--no-snapshot",
    ])
    #expect(schemaOnly.status == 1, "\(schemaOnly.stderr)")
    #expect(
      schemaOnly.stdout.contains(
        "column fax is missing (possibly renamed to nickname: position and type only)"))
    #expect(!schemaOnly.stdout.contains("fax → nickname"))

    // With the snapshot: the data refutes the hint, and proves the plan remap per key.
    let check = try await CLI.run([
      "check", "--project", project, "--warehouse", warehouse, "--format", "json",
    ])
    #expect(check.status == 1, "\(check.stderr)")
    let changes = try #require(try CLI.json(check.stdout)["changes"] as? [[String: Any]])
    #expect(!changes.contains { $0["kind"] as? String == "column_renamed" })
    let missing = try #require(
      changes.first { $0["kind"] as? String == "column_missing" && $0["from"] as? String == "fax" })
    #expect(missing["breaking"] as? Bool == true)
    #expect(missing["possible_rename"] == nil)
    let evidence = missing["evidence"] as? [String] ?? []
    #expect(evidence.contains { $0.hasPrefix("the data refutes a rename to nickname: fax = nickname on 0/") })
    #expect(changes.contains { $0["kind"] as? String == "column_added" && $0["to"] as? String == "nickname" })
    let values = try #require(changes.first { $0["kind"] as? String == "values_remapped" })
    let mapping = try #require(values["mapping"] as? [[String: Any]])
    #expect(
      Set(mapping.map { "\($0["old"] as? String ?? "")→\($0["new"] as? String ?? "?")" })
        == ["free→starter", "pro→growth", "enterprise→scale"])
    #expect(
      mapping.allSatisfy { ($0["support"] as? Int) != nil && $0["support"] as? Int == $0["total"] as? Int })
    #expect(
      (values["evidence"] as? [String] ?? []).contains {
        $0.hasPrefix("per-key mapping from 120 sampled keys")
      })
  }
}
