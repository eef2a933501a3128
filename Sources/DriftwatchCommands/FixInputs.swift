import DriftwatchCore
import DriftwatchDbt
import Foundation

/// What a fix is drafted from, read one way for every command that drafts one (`fix`, `demo`, `watch`,
/// `impact --dbt-build`): the project's test path, the files the fix may edit, and driftwatch's earlier
/// schema contract tests (which a new fix regenerates, and which a write must know exist). Two commands
/// given the same check draft the same fix.
struct FixInputs {
  /// The dbt project root every path is relative to, and the only folder a fix writes in.
  var root: String
  /// Where singular tests go (dbt_project.yml `test-paths`, first entry).
  var testPath: String
  /// Contents by path relative to `root`; a path absent here did not exist when read.
  var files: [String: String]

  /// Reads the files a fix for `report` may read and edit, under `root`.
  init(root: String, project: ProjectGraph, report: DriftReport) throws {
    self.root = root
    testPath = try DbtProjectReader.testPath(projectDirectory: root)
    var files: [String: String] = [:]
    for path in FixDrafter.requiredFiles(project: project, report: report) {
      if let text = Self.read(root, path) { files[path] = text }
    }
    // An earlier contract test of driftwatch's may be regenerated; anything else there is left alone.
    let tests = (root as NSString).appendingPathComponent(testPath)
    for name in (try? FileManager.default.contentsOfDirectory(atPath: tests)) ?? []
    where name.hasPrefix(FixDrafter.contractFilePrefix) && name.hasSuffix(".sql") {
      let path = testPath + "/" + name
      if let text = Self.read(root, path) { files[path] = text }
    }
    self.files = files
  }

  init(root: String, check: CheckRun) throws {
    try self.init(root: root, project: check.project, report: check.report)
  }

  /// The drafter for `check` over these files.
  func drafter(
    _ check: CheckRun, dialect: SQLDialect, decisions: Decisions = Decisions(),
    threshold: Double = FixDrafter.defaultThreshold
  ) -> FixDrafter {
    FixDrafter(
      project: check.project, report: check.report, live: check.live, dialect: dialect, files: files,
      testPath: testPath, decisions: decisions, threshold: threshold, baseline: check.baseline)
  }

  private static func read(_ root: String, _ path: String) -> String? {
    FileManager.default.contents(atPath: (root as NSString).appendingPathComponent(path)).map {
      String(decoding: $0, as: UTF8.self)
    }
  }
}

extension ProjectOptions {
  /// The dbt project's root: `--project` when given; with `--manifest` alone, the project the manifest
  /// belongs to (the nearest folder above it holding dbt_project.yml, else the manifest's `root_path`);
  /// else the working directory. Never the working directory when a manifest names another project.
  func projectRoot() throws -> String {
    if let projectDirectory { return projectDirectory }
    guard let manifest else { return "." }
    if let root = Self.manifestProjectRoot(manifestPath: manifest) { return root }
    throw InputError(
      "cannot tell which dbt project \(TextEscape.oneLine(manifest)) belongs to (no dbt_project.yml above it, no root_path in it): pass --project DIR"
    )
  }

  static func manifestProjectRoot(manifestPath: String) -> String? {
    let manager = FileManager.default
    var directory = (URL(fileURLWithPath: manifestPath).standardizedFileURL.path as NSString)
      .deletingLastPathComponent
    while true {
      if manager.fileExists(atPath: directory + "/dbt_project.yml") { return directory }
      let parent = (directory as NSString).deletingLastPathComponent
      if parent == directory || parent.isEmpty { break }
      directory = parent
    }
    guard let data = manager.contents(atPath: manifestPath), let root = rootPath(in: data),
      manager.fileExists(atPath: (root as NSString).appendingPathComponent("dbt_project.yml"))
    else { return nil }
    return root
  }

  /// The first `"root_path": "…"` value in a manifest (dbt writes it on seeds), without parsing the rest.
  static func rootPath(in data: Data) -> String? {
    let key = Array(#""root_path""#.utf8)
    let bytes = [UInt8](data)
    var index = 0
    while index + key.count <= bytes.count {
      guard bytes[index] == key[0], Array(bytes[index..<(index + key.count)]) == key else {
        index += 1
        continue
      }
      var cursor = index + key.count
      while cursor < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[cursor]) { cursor += 1 }
      guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") else {
        index += 1
        continue
      }
      cursor += 1
      while cursor < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[cursor]) { cursor += 1 }
      guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\"") else {
        index += 1
        continue
      }
      var end = cursor + 1
      while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
        end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
      }
      guard end < bytes.count,
        let value = try? JSONDecoder().decode(
          [String].self, from: Data([UInt8(ascii: "[")] + bytes[cursor...end] + [UInt8(ascii: "]")])
        ).first,
        !value.isEmpty, value != "."
      else {
        index = end
        continue
      }
      return value
    }
    return nil
  }
}
