import DriftwatchJinja
import Foundation
import Testing

/// dbt's own macros (the global project and dbt-postgres, from the dbt-core install `DRIFTWATCH_DBT` points
/// into) compile, and parse-time renders through them agree with `DbtParseContext`'s answers.
@Suite struct DbtGlobalProjectTests {
  /// `<venv>/lib/python3.*/site-packages/dbt/include` next to `DRIFTWATCH_DBT=<venv>/bin/dbt`.
  static func includeDirectory() -> URL? {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else { return nil }
    let venv = URL(fileURLWithPath: dbt).resolvingSymlinksInPath().deletingLastPathComponent()
      .deletingLastPathComponent()
    let lib = venv.appendingPathComponent("lib")
    guard let pythons = try? FileManager.default.contentsOfDirectory(atPath: lib.path) else { return nil }
    for python in pythons.sorted() where python.hasPrefix("python3") {
      let include = lib.appendingPathComponent("\(python)/site-packages/dbt/include")
      if FileManager.default.fileExists(atPath: include.path) { return include }
    }
    return nil
  }

  static func library() throws -> (MacroLibrary, Int)? {
    guard let include = includeDirectory() else { return nil }
    var library = MacroLibrary(internalPackages: ["dbt_postgres", "dbt"])
    var count = 0
    let files = FileManager.default.enumerator(atPath: include.path)
    while let path = files?.nextObject() as? String {
      // dbt loads the global project and the active adapter's macros only: other adapters installed in the
      // same venv (dbt-duckdb for the DuckDB tests) redefine some of the same macros.
      guard path.hasSuffix(".sql"), path.contains("/macros/"),
        path.hasPrefix("global_project/") || path.hasPrefix("postgres/")
      else { continue }
      let package = path.hasPrefix("postgres/") ? "dbt_postgres" : "dbt"
      let source = try String(contentsOf: include.appendingPathComponent(path), encoding: .utf8)
      count += try library.add(source: source, file: path, package: package).count
    }
    return (library, count)
  }

  @Test func dbtsOwnMacrosCompileAndAnswerAtParse() throws {
    guard let (library, count) = try Self.library() else {
      Issue.record("DRIFTWATCH_DBT is not set or has no dbt/include: run scripts/test (it installs dbt-core)")
      return
    }
    #expect(count > 400)
    #expect(library.contains("materialization_table_default", package: "dbt"))
    #expect(library.contains("postgres__create_table_as", package: "dbt_postgres"))
    let template = try Template(
      """
      {{ is_incremental() }}|{% set r = run_query('select 1') %}{{ r is defined }}|\
      {{ dbt.is_incremental() }}|{{ adapter.dispatch('current_timestamp', 'dbt')() | trim }}
      """, file: "models/m.sql")
    let ctx = DbtParseContext(rootProject: "shop", target: ["type": .string("postgres")])
    let output = try ctx.render(template, library: library)
    #expect(output == "False|False|False|now()")
    #expect(ctx.recorder.undefinedCalls.isEmpty, "\(ctx.recorder.undefinedCalls)")
  }
}
