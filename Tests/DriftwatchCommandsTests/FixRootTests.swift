import DriftwatchCore
import Foundation
import Testing

/// Where `fix` reads and writes: the project's root, never the working directory.
@Suite("fix writes into the project's root")
struct FixRootTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path
  static let staging = "models/staging/stg_customers.sql"

  /// A copy of examples/acme at `path`, without dbt's output.
  static func copyAcme(to path: String) throws {
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: path)
    for generated in ["target", "logs", "dbt_packages", ".driftwatch"] {
      try? FileManager.default.removeItem(atPath: path + "/" + generated)
    }
  }

  /// The project, a decisions file, the migrated warehouse, and a second copy of acme to run from.
  static func withProjects(
    _ body: (_ project: String, _ elsewhere: String, _ warehouse: String, _ decisions: String) async throws
      -> Void
  ) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let project = scratch.file("project")
    let elsewhere = scratch.file("elsewhere")
    try copyAcme(to: project)
    try copyAcme(to: elsewhere)
    let decisions = scratch.file("decisions.yml")
    try FixCommandTests.answers.write(toFile: decisions, atomically: true, encoding: .utf8)
    try await body(project, elsewhere, warehouse, decisions)
  }

  /// `directory` holds what examples/acme holds, byte for byte, and nothing driftwatch made.
  static func expectUntouched(_ directory: String) throws {
    #expect(try CLI.read(directory + "/" + staging) == CLI.read(CLI.acme + "/" + staging))
    #expect(
      try CLI.read(directory + "/models/staging/src_acme.yml")
        == CLI.read(CLI.acme + "/models/staging/src_acme.yml"))
    #expect(!FileManager.default.fileExists(atPath: directory + "/.driftwatch"))
    #expect(
      !FileManager.default.fileExists(atPath: directory + "/tests/assert_schema_contract_raw_accounts.sql"))
  }

  @Test func fixWithAManifestWritesIntoTheManifestsProjectFromAnyDirectory() async throws {
    try await Self.withProjects { project, elsewhere, warehouse, decisions in
      try FileManager.default.createDirectory(atPath: project + "/target", withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        atPath: Self.fixtures + "/acme-manifest.json", toPath: project + "/target/manifest.json")
      let result = try await CLI.run(
        [
          "fix", "--manifest", project + "/target/manifest.json", "--warehouse", "sqlite:\(warehouse)",
          "--decisions", decisions, "--write",
        ], directory: elsewhere)
      #expect(result.status == 0, "\(result.stderr)")
      #expect(try CLI.read(project + "/" + Self.staging).contains("when 'gold' then 'premium'"))
      #expect(
        FileManager.default.fileExists(atPath: project + "/tests/assert_schema_contract_raw_accounts.sql"))
      try Self.expectUntouched(elsewhere)
    }
  }

  @Test func aManifestOutsideItsProjectIsFollowedToItsRootPath() async throws {
    try await Self.withProjects { project, elsewhere, warehouse, decisions in
      // dbt writes the project's absolute root_path on seeds (and, before 1.5, on every node).
      let artifacts = (project as NSString).deletingLastPathComponent + "/artifacts"
      try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
      // Written into the first node as text: re-serialising would reorder the columns of every node.
      let text = try CLI.read(Self.fixtures + "/acme-manifest.json")
      let anchor = try #require(text.firstRange(of: #""resource_type":"#))
      let rootPath = String(decoding: try JSONEncoder().encode([project]), as: UTF8.self).dropFirst()
        .dropLast()
      try (text[..<anchor.lowerBound] + #""root_path":"# + rootPath + "," + text[anchor.lowerBound...]).write(
        toFile: artifacts + "/manifest.json", atomically: true, encoding: .utf8)

      let result = try await CLI.run(
        [
          "fix", "--manifest", artifacts + "/manifest.json", "--warehouse", "sqlite:\(warehouse)",
          "--decisions", decisions, "--write",
        ], directory: elsewhere)
      #expect(result.status == 0, "\(result.stderr)")
      #expect(try CLI.read(project + "/" + Self.staging).contains("when 'gold' then 'premium'"))
      try Self.expectUntouched(elsewhere)

      // No root_path and no project above it: nothing is guessed, nothing written.
      try FileManager.default.copyItem(
        atPath: Self.fixtures + "/acme-manifest.json", toPath: artifacts + "/bare.json")
      let refused = try await CLI.run(
        [
          "fix", "--manifest", artifacts + "/bare.json", "--warehouse", "sqlite:\(warehouse)",
          "--decisions", decisions, "--write",
        ], directory: elsewhere)
      #expect(refused.status == 2)
      #expect(refused.stderr.contains("pass --project"), "\(refused.stderr)")
      try Self.expectUntouched(elsewhere)
    }
  }
}
