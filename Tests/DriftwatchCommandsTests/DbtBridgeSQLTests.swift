import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchDbtBridge

/// The SQL the bridge's macros dispatch per adapter, for warehouses no test can reach (Snowflake, BigQuery,
/// Databricks; Redshift and Trino too): rendered from the real macros and the requests the Swift code builds,
/// by a renderer that does what dbt does (`render_plan.py`: Jinja2, `return`, `adapter.dispatch`'s search
/// order, each adapter's quote) — itself checked against real dbt on DuckDB — and kept as golden files,
/// read against each vendor's SQL reference.
@Suite("dbt bridge SQL per adapter", .serialized)
struct DbtBridgeSQLTests {
  static let golden = GoldenFiles(
    directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Golden/dbt-bridge"))

  /// Every step's request, with names and values that need quoting and escaping.
  static var requests: [(step: String, json: BridgeJSON)] {
    let schemas = [SchemaRef(database: "analytics_db", schema: "raw"), SchemaRef(schema: "App\"Data")]
    // Two tables: one read whole, one (with a name that needs quoting) as a sample of 2.5 %.
    let tables: [BridgeJSON] = [
      .object([
        ("database", .string("analytics_db")), ("schema", .string("raw")), ("table", .string("raw_accounts")),
        (
          "columns",
          .array([
            .object([
              ("column", .string("account_tier")), ("orderable", .bool(true)), ("string", .bool(true)),
              ("numeric", .bool(false)),
            ]),
            .object([
              ("column", .string("balance")), ("orderable", .bool(true)), ("string", .bool(false)),
              ("numeric", .bool(true)),
            ]),
          ])
        ),
      ]),
      .object([
        ("database", .null), ("schema", .string("raw")), ("table", .string("we`ird\"table")),
        ("plan_percent", .string("2.5")),
        (
          "columns",
          .array([
            .object([
              ("column", .string("pay'load")), ("orderable", .bool(false)), ("string", .bool(false)),
              ("numeric", .bool(false)), ("complex", .bool(true)),
            ])
          ])
        ),
      ]),
    ]
    let target: [(String, BridgeJSON)] = [
      ("database", .string("analytics_db")), ("schema", .string("raw")), ("table", .string("raw_accounts")),
      ("key", .string("account_id")), ("columns", .strings(["account_tier", "street"])),
    ]
    return [
      ("introspect", DbtBridge.introspectRequest(schemas).json),
      ("profile", DbtBridge.profileRequest(tables, topK: 50, rowBudget: 50_000)),
      (
        "sample",
        .object([
          ("step", .string("sample")), ("limit", .int(1000)),
          (
            "targets",
            .array([
              .object(target),
              .object(target + [("percent", .string("2.5")), ("complex_columns", .strings(["street"]))]),
            ])
          ),
        ])
      ),
      (
        "rows",
        .object([
          ("step", .string("rows")),
          ("targets", .array([.object(target + [("keys", .strings(["1", "o'brien\\", "a\nb"]))])])),
        ])
      ),
    ]
  }

  static var python: String? { DbtBridgeDuckDBTests.tools?.python }

  static let renderer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/dbt-bridge/render_plan.py").path

  /// The statements `driftwatch_plan` prints for `request`, read by the bridge's own output parser.
  static func statements(_ output: CLI.Result, step: String) throws -> [String] {
    let result = try BridgeOutput.result(
      stdout: output.stdout, stderr: output.stderr, exitCode: output.status, operation: "driftwatch_plan",
      redact: { $0 })
    return (result["sql"] as? [String] ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
  }

  static func render(adapter: String, request: BridgeJSON, python: String, in scratch: Scratch) async throws
    -> CLI.Result
  {
    let macros = scratch.file("driftwatch.sql")
    let requestFile = scratch.file("request.sql")
    try BridgeMacros.macros.write(toFile: macros, atomically: true, encoding: .utf8)
    try BridgeMacros.requestFile(request.encoded).write(
      toFile: requestFile, atomically: true, encoding: .utf8)
    return try await CLI.run(
      executable: URL(fileURLWithPath: python), [renderer, macros, requestFile, adapter, "analytics_db"])
  }

  @Test(arguments: ["snowflake", "bigquery", "databricks", "redshift", "trino"])
  func dispatchedSQLMatchesTheGoldenFile(adapter: String) async throws {
    guard let python = Self.python else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    var text = ""
    for (step, request) in Self.requests {
      let output = try await Self.render(adapter: adapter, request: request, python: python, in: scratch)
      #expect(output.status == 0, "\(output.stderr)")
      for statement in try Self.statements(output, step: step) {
        text += "-- \(step)\n\(statement)\n\n"
      }
    }
    try Self.golden.check(text, named: "\(adapter).sql")
  }

  /// The renderer is trusted only because it renders what real dbt renders: dbt-duckdb, same macros, same
  /// requests, every step.
  @Test func rendererAgreesWithRealDbtOnDuckDB() async throws {
    guard let (dbt, python) = DbtBridgeDuckDBTests.tools else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let profiles = """
      bridge_check:
        target: dev
        outputs:
          dev:
            type: duckdb
            path: \(scratch.file("analytics_db.duckdb"))
            schema: main

      """
    try profiles.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
    for (step, request) in Self.requests {
      let emulated = try await Self.render(adapter: "duckdb", request: request, python: python, in: scratch)
      let runner = DbtProcessRunner(
        invocation: DbtInvocation(
          dbt: dbt, workingDirectory: scratch.file(""), profilesDirectory: scratch.file(""),
          profile: "bridge_check", target: nil, environment: ProcessInfo.processInfo.environment))
      let real = try await runner.run(
        operation: "driftwatch_plan", request: BridgeMacros.requestFile(request.encoded))
      let realStatements = try Self.statements(
        CLI.Result(status: real.exitCode, stdout: real.stdout, stderr: real.stderr), step: step)
      #expect(!realStatements.isEmpty, "\(step): \(real.stdout.suffix(800))")
      #expect(try Self.statements(emulated, step: step) == realStatements, "\(step)")
    }
  }

  /// dbt started once for several steps (`DbtSessionRunner`): each step answers as a separate
  /// `dbt run-operation` would, an error is one line, and the private project goes when the session ends.
  @Test func sessionRunsStepsInOneDbt() async throws {
    guard let (dbt, _) = DbtBridgeDuckDBTests.tools else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    try """
    bridge_check:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: \(scratch.file("analytics_db.duckdb"))
          schema: main

    """.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
    let invocation = DbtInvocation(
      dbt: dbt, workingDirectory: scratch.file(""), profilesDirectory: scratch.file(""),
      profile: "bridge_check", target: "dev", environment: ProcessInfo.processInfo.environment)
    let session = try #require(DbtSessionRunner(invocation: invocation))
    let bridge = DbtBridge(adapter: "duckdb", displayName: "dbt", runner: session)
    let schemas = [SchemaRef(schema: "main"), SchemaRef(schema: "nowhere")]
    let first = try await bridge.introspect(schemas: schemas)
    #expect(first.inspected == schemas && first.tables.isEmpty)
    // A failing step (a macro that does not exist): dbt's error as the bridge's one line.
    let failed = try await session.run(
      operation: "driftwatch_no_such_macro", request: BridgeMacros.requestFile("{}"))
    #expect(failed.exitCode != 0)
    #expect(throws: DbtBridgeError.self) {
      try BridgeOutput.result(
        stdout: failed.stdout, stderr: failed.stderr, exitCode: failed.exitCode,
        operation: "driftwatch_no_such_macro", redact: { $0 })
    }
    // The session still answers, the same as before.
    #expect(try await bridge.introspect(schemas: schemas) == first)
    #expect(bridge.invocations.count == 2)
  }
}
