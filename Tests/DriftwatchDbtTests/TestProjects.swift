import Foundation

/// Fixture paths (located from this file, since the test target declares no resources) and throwaway
/// dbt projects written to a temporary directory.
enum Fixtures {
  static let directory: String = {
    let thisFile = URL(fileURLWithPath: #filePath)
    return thisFile.deletingLastPathComponent().appendingPathComponent("Fixtures").path
  }()

  static func path(_ relative: String) -> String { directory + "/" + relative }

  /// The dbt project `regenerate-manifest.sh` parses with a real dbt.
  static var jaffleDrift: String { path("jaffle_drift") }
}

/// A dbt project in a fresh temporary directory, deleted by `remove()`.
struct TemporaryProject {
  let directory: String

  init(_ files: [String: String]) throws {
    let base = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("driftwatch-dbt-\(UUID().uuidString)")
    directory = base.path
    for (relative, contents) in files {
      let url = base.appendingPathComponent(relative)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(contents.utf8).write(to: url)
    }
    if files.isEmpty {
      try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    }
  }

  func path(_ relative: String) -> String { directory + "/" + relative }

  func remove() {
    try? FileManager.default.removeItem(atPath: directory)
  }

  static let minimalProjectFile = """
    name: shop
    version: "1.0.0"
    profile: shop
    config-version: 2
    """
}
