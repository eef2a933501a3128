import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbtBridge

/// The bridge's own code, without dbt: the request block Jinja reads, the output parser on a recorded run of
/// real dbt (dbt-duckdb on acme after the migration), name resolution, one dbt invocation per step, errors.
@Suite("dbt bridge")
struct DbtBridgeUnitTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/dbt-bridge").path

  static func recorded(_ name: String) throws -> DbtRunOutput {
    DbtRunOutput(
      stdout: try String(contentsOfFile: fixtures + "/" + name, encoding: .utf8), stderr: "", exitCode: 0)
  }

  @Test func requestBlockIsDataToJinjaAndExactJSON() throws {
    let hostile = "{% endset %}{{ 7*7 }}{# x #}%}'\"\\\n\t\u{0}é😀\u{2028}"
    let request = BridgeJSON.object([
      ("keys", .strings([hostile, "plain"])), ("n", .int(-3)), ("none", .null), ("flag", .bool(true)),
    ])
    let encoded = request.encoded
    for syntax in ["{%", "{{", "{#", "%}", "#}"] {
      #expect(!encoded.contains(syntax), "\(syntax) in \(encoded)")
    }
    let file = BridgeMacros.requestFile(encoded)
    #expect(file.components(separatedBy: "{% endset %}").count == 2)
    let decoded = try #require(
      try JSONSerialization.jsonObject(with: Data(encoded.utf8)) as? [String: Any])
    #expect(decoded["keys"] as? [String] == [hostile, "plain"])
    #expect(decoded["n"] as? Int == -3)
    #expect(decoded["none"] is NSNull)
    #expect(decoded["flag"] as? Bool == true)
  }

  @Test func recordedIntrospectionOfDuckDBSeesTheRenamedTable() async throws {
    let runner = RecordedDbtRunner(outputs: [
      "driftwatch_introspect": [try Self.recorded("introspect-duckdb.jsonl")]
    ])
    let bridge = DbtBridge(adapter: "duckdb", displayName: "dbt:acme.dev (duckdb)", runner: runner)
    let raw = SchemaRef(schema: "raw")
    let live = try await bridge.introspect(schemas: [raw])
    #expect(live.tables.map(\.name) == ["raw_accounts", "raw_orders", "raw_payments"])
    let accounts = try #require(live.tables.first)
    #expect(accounts.schema == raw)
    #expect(
      accounts.columns.map(\.name) == [
        "account_id", "name", "email", "street", "city", "state_code", "postal_code", "account_tier",
        "country_code", "created_at",
      ])
    #expect(accounts.columns.first?.isKey == true, "the primary key is known")
    #expect(accounts.columns.dropFirst().allSatisfy { !$0.isKey })
    #expect(accounts.columns.first?.dataType == "INTEGER")
    #expect(bridge.dialect == .duckdb)
    // The request names each schema as written, lowercased and uppercased, in one group for the target.
    let request = try #require(runner.requests.first)
    #expect(request.operation == "driftwatch_introspect")
    #expect(request.request.contains("\"schemas\": [\"raw\", \"RAW\"]"))
  }

  @Test func oneInvocationPerStepWhateverTheNumberOfTables() async throws {
    let runner = RecordedDbtRunner(outputs: [
      "driftwatch_introspect": [try Self.recorded("introspect-duckdb.jsonl")],
      "driftwatch_profile": [try Self.recorded("profile-duckdb.jsonl")],
    ])
    let bridge = DbtBridge(adapter: "duckdb", displayName: "dbt", runner: runner)
    let raw = SchemaRef(schema: "raw")
    _ = try await bridge.introspect(schemas: [raw])
    let columns = [
      ColumnRef(schema: raw, table: "raw_accounts", column: "account_tier"),
      ColumnRef(schema: raw, table: "RAW_ORDERS", column: "STATUS"),
      ColumnRef(schema: raw, table: "raw_payments", column: "payment_method"),
      ColumnRef(schema: raw, table: "raw_customers", column: "customer_segment"),
    ]
    let profiles = try await bridge.profile(columns: columns, topK: 50)
    #expect(runner.requests.map(\.operation) == ["driftwatch_introspect", "driftwatch_profile"])
    // Names resolved to the warehouse's own (case), a missing table left out.
    let asked = runner.requests[1].request
    #expect(asked.contains("\"table\": \"raw_orders\", \"columns\": [{\"column\": \"status\""))
    #expect(!asked.contains("raw_customers"))
    #expect(profiles.map(\.column) == Array(columns.prefix(3)))
    let tiers = try #require(profiles.first)
    #expect(tiers.rowCount == 1250 && tiers.nullCount == 0 && tiers.distinctCount == 3)
    #expect(Set(tiers.topValues.map(\.value)) == ["gold", "silver", "bronze"])
    #expect(tiers.topValues.map(\.count).reduce(0, +) == 1250)
    #expect(tiers.topShapes?.first?.value.allSatisfy { $0 == "a" } == true)
    #expect(tiers.shapeClasses == [ValueCount(value: "lowercase", count: 1250)])
    #expect(tiers.minValue == "bronze" && tiers.maxValue == "silver" && tiers.estimated == nil)
    // One statement for the row estimates, one per table.
    #expect(bridge.invocations.last?.statements == 4)
  }

  @Test func failedRunIsOneRedactedLine() throws {
    let stdout = """
      {"info": {"level": "info", "msg": "Running with dbt=1.11.16"}}
      {"info": {"level": "error", "msg": "Encountered an error:\\nRuntime Error\\n  could not connect with password hunter2-secret"}}
      """
    #expect(throws: DbtBridgeError.self) {
      try BridgeOutput.result(
        stdout: stdout, stderr: "", exitCode: 2, operation: "driftwatch_introspect",
        redact: { $0.replacingOccurrences(of: "hunter2-secret", with: "***") })
    }
    do {
      _ = try BridgeOutput.result(
        stdout: stdout, stderr: "", exitCode: 2, operation: "driftwatch_introspect",
        redact: { $0.replacingOccurrences(of: "hunter2-secret", with: "***") })
    } catch let error as DbtBridgeError {
      #expect(!error.message.contains("hunter2"))
      #expect(error.message.contains("***"))
      #expect(!error.message.contains("\n"))
      #expect(error.message.hasPrefix("dbt run-operation driftwatch_introspect failed (exit 2)"))
    }
  }

  @Test func resultOnABareLineIsReadToo() throws {
    let result = try BridgeOutput.result(
      stdout: "noise\nDRIFTWATCH_RESULT:{\"groups\": [[]]}\n", stderr: "", exitCode: 0, operation: "x",
      redact: { $0 })
    #expect((result["groups"] as? [Any])?.count == 1)
  }

  /// The session's answer line may carry what an engine wrote before it without a newline (Spark's progress
  /// bar ends in `\r`): the answer is still read, not waited for until the timeout. A stand-in "python" (a
  /// shell script) answers the way the driver does, after such a prefix.
  @Test func sessionAnswerAfterAProgressBarIsRead() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "driftwatch-session-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let python = directory + "/fake-python"
    try #"""
    #!/bin/sh
    while read -r line; do
      printf '[Stage 3:====>   (1 + 1) / 2]\rDRIFTWATCH_SESSION:{"ok": true, "prints": ["DRIFTWATCH_RESULT:{\\"groups\\": [[]]}"], "errors": [], "exception": ""}\n'
    done
    """#.write(toFile: python, atomically: true, encoding: .utf8)
    let dbt = directory + "/dbt"
    try "#!\(python)\n".write(toFile: dbt, atomically: true, encoding: .utf8)
    for path in [python, dbt] {
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }
    let invocation = DbtInvocation(
      dbt: dbt, workingDirectory: directory, profilesDirectory: directory, profile: "p", target: nil,
      environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(120))
    let runner = try #require(DbtSessionRunner(invocation: invocation))
    // An answer not read would end in the timeout's error: the call returning at all is the proof (no wall-clock
    // bound, which a loaded machine breaks).
    let output = try await runner.run(operation: "driftwatch_introspect", request: "{}")
    let result = try BridgeOutput.result(
      stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode,
      operation: "driftwatch_introspect",
      redact: { $0 })
    #expect((result["groups"] as? [Any])?.count == 1)
  }
}
