import DriftwatchTestSupport
import Foundation
import Testing

/// `check` on a project with a node the reader cannot read exactly (incomplete_shop: fct_orders reads its
/// upstream through a macro): "no drift" does not depend on it; a blast radius does.
@Suite("check: answers that are not exact")
struct CheckIncompleteTests {
  @Test func noDriftIsExactDriftDependsOnTheIncompleteNode() async throws {
    try await withTemporaryDirectory { directory in
      let project = LineageIncompleteTests.project
      let clean = directory.file("clean.db")
      try await TestSQLite.create(at: clean, sql: "create table orders (id integer primary key);")
      let quiet = try await CLI.run([
        "check", "--project", project, "--warehouse", "sqlite:\(clean)", "--format", "json",
      ])
      #expect(quiet.status == 0, "\(quiet.stderr)")
      #expect(try CLI.json(quiet.stdout)["exact"] as? Bool == true)

      let drifted = directory.file("drifted.db")
      try await TestSQLite.create(at: drifted, sql: "create table order_rows (id integer primary key);")
      let refused = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:\(drifted)"])
      #expect(refused.status == 2)
      #expect(refused.stdout.isEmpty)
      let errors = refused.stderr.split(separator: "\n").filter { !$0.hasPrefix("driftwatch: warning:") }
      #expect(errors.count == 1, "\(refused.stderr)")
      #expect(errors.first?.contains("model.incomplete_shop.fct_orders") == true)
      #expect(errors.first?.contains("--manifest target/manifest.json") == true)

      let answered = try await CLI.run([
        "check", "--project", project, "--warehouse", "sqlite:\(drifted)", "--allow-incomplete", "--format",
        "json",
      ])
      #expect(answered.status == 1, "\(answered.stderr)")
      let report = try CLI.json(answered.stdout)
      #expect(report["exact"] as? Bool == false)
      let incomplete = report["incomplete"] as? [[String: Any]] ?? []
      #expect(incomplete.compactMap { $0["unique_id"] as? String } == ["model.incomplete_shop.fct_orders"])
      let text = try await CLI.run([
        "check", "--project", project, "--warehouse", "sqlite:\(drifted)", "--allow-incomplete",
      ])
      #expect(text.status == 1)
      #expect(text.stdout.contains("not exact: 1 node"))
      #expect(
        text.stdout.contains("[incomplete]") || text.stdout.contains("incomplete: model.incomplete_shop"))
    }
  }

  @Test func watchDoesNotStartOnAnAnswerItCannotMakeExact() async throws {
    try await withTemporaryDirectory { directory in
      let warehouse = directory.file("w.db")
      try await TestSQLite.create(at: warehouse, sql: "create table orders (id integer primary key);")
      let result = try await CLI.run([
        "watch", "--project", LineageIncompleteTests.project, "--warehouse", "sqlite:\(warehouse)", "--state",
        "sqlite:" + directory.file("state.db"),
      ])
      #expect(result.status == 2)
      let errors = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("driftwatch: warning:") }
      #expect(errors.count == 1, "\(result.stderr)")
      #expect(errors.first?.contains("model.incomplete_shop.fct_orders") == true)
    }
  }
}
