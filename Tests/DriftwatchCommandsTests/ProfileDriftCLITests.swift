import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// Semantic drift behind an unchanged schema through the real executable on a real SQLite warehouse: two
/// columns whose names were swapped (full_name now holds e-mail addresses), a column that became all NULL
/// and amounts divided by 100. `check` used to exit 0 with a baseline snapshot that held their profiles.
@Suite("profile drift on SQLite (CLI)")
struct ProfileDriftCLITests {
  static let sources = """
    version: 2
    sources:
      - name: app
        schema: raw
        tables:
          - name: customers
            columns:
              - name: id
                data_type: integer
                data_tests:
                  - unique
              - name: full_name
                data_type: text
              - name: email
                data_type: text
              - name: phone
                data_type: text
              - name: amount
                data_type: numeric
    """

  static let names = ["Ann Lee", "Bob Moss", "Cleo Nash", "Dev Ortiz", "Eve Park", "Finn Quinn"]

  static func rows(_ ids: ClosedRange<Int>) -> String {
    ids.map { id in
      let name = names[id % names.count]
      let email = name.lowercased().replacingOccurrences(of: " ", with: ".") + "\(id)@example.com"
      let phone = id % 20 == 0 ? "NULL" : "'555-01\(id % 100)'"
      return "(\(id), '\(name)', '\(email)', \(phone), \((id * 7919) % 90_000 + 1000))"
    }.joined(separator: ",\n")
  }

  @Test func swappedNamesAllNullAndAmountsByAHundredAreBreaking() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let project = try HostileInputTests.project(
      [
        "models/src_app.yml": Self.sources,
        "models/stg_customers.sql":
          "select id, full_name, email, phone, amount from {{ source('app', 'customers') }}\n",
      ], in: scratch)
    let path = scratch.file("warehouse.db")
    let database = try await SQLiteDatabase.create(at: path)
    try await database.execute(
      script: """
        create table customers (id integer primary key, full_name text, email text, phone text, amount numeric);
        insert into customers values \(Self.rows(1...150));
        """)
    try await database.close()
    let warehouse = "sqlite:\(path)"

    let snapshot = try await CLI.run(["snapshot", "--project", project, "--warehouse", warehouse])
    #expect(snapshot.status == 0, "\(snapshot.stderr)")

    // A day of new rows: quiet.
    let grow = try await SQLiteDatabase.open(at: path)
    try await grow.execute(script: "insert into customers values \(Self.rows(151...260));")
    try await grow.close()
    let quiet = try await CLI.run(["check", "--project", project, "--warehouse", warehouse])
    #expect(quiet.status == 0, "\(quiet.stdout)\(quiet.stderr)")

    // The connector's change: names swapped, phone emptied, amounts in units instead of cents.
    let migrate = try await SQLiteDatabase.open(at: path)
    try await migrate.execute(
      script:
        "update customers set full_name = email, email = full_name, phone = null, amount = amount / 100.0;")
    try await migrate.close()

    let schemaOnly = try await CLI.run([
      "check", "--project", project, "--warehouse", warehouse, "--no-snapshot",
    ])
    #expect(schemaOnly.status == 0, "the schema did not change: \(schemaOnly.stdout)")

    let check = try await CLI.run([
      "check", "--project", project, "--warehouse", warehouse, "--format", "json",
    ])
    #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
    let changes = try #require(try CLI.json(check.stdout)["changes"] as? [[String: Any]])
    #expect(
      Set(changes.compactMap { $0["kind"] as? String }) == [
        "columns_swapped", "null_rate_changed", "scale_changed",
      ])
    #expect(changes.allSatisfy { $0["breaking"] as? Bool == true })
    let swap = try #require(changes.first { $0["kind"] as? String == "columns_swapped" })
    #expect(swap["from"] as? String == "full_name" && swap["to"] as? String == "email")
    #expect(swap["confidence"] as? Double == 0.99)
    let scale = try #require(changes.first { $0["kind"] as? String == "scale_changed" })
    let measure = try #require(scale["measure"] as? [String: Any])
    #expect(measure["factor"] as? Double == 0.01)
    #expect(
      (scale["evidence"] as? [String] ?? []).contains {
        $0.hasPrefix("amount = amount (snapshot ") && $0.hasSuffix(" / 100 on 150/150 sampled keys")
      })
    let null = try #require(changes.first { $0["kind"] as? String == "null_rate_changed" })
    #expect(null["from"] as? String == "phone")

    let text = try await CLI.run(["check", "--project", project, "--warehouse", warehouse])
    #expect(text.status == 1)
    #expect(text.stdout.contains("full_name and email swapped their values"))
    #expect(text.stdout.contains("phone became all NULL (was 5% NULL)"))
    #expect(text.stdout.contains("amount values are 100× smaller (exact on 150/150 sampled keys)"))
    let markdown = try await CLI.run([
      "check", "--project", project, "--warehouse", warehouse, "--format", "markdown",
    ])
    #expect(markdown.status == 1)
    #expect(markdown.stdout.contains("scale_changed"))
  }
}
