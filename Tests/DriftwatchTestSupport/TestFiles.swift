import DriftwatchCore
import DriftwatchSQLite
import Foundation

/// A fresh directory under the system temporary directory, removed by `remove()` (or by
/// `withTemporaryDirectory` when its body ends).
public struct TemporaryDirectory: Sendable {
  public let path: String

  public init(prefix: String = "driftwatch-test") throws {
    let base = FileManager.default.temporaryDirectory.path
    let path = "\(base)/\(prefix)-\(UUID().uuidString.lowercased())"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    self.path = path
  }

  /// The path of `name` inside the directory (nothing is created).
  public func file(_ name: String) -> String { "\(path)/\(name)" }

  /// Writes `contents` to `name` inside the directory; returns its path.
  @discardableResult
  public func write(_ contents: String, to name: String) throws -> String {
    let target = file(name)
    try Data(contents.utf8).write(to: URL(fileURLWithPath: target))
    return target
  }

  public func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Runs `body` with a fresh temporary directory and removes it afterwards.
public func withTemporaryDirectory<T: Sendable>(
  prefix: String = "driftwatch-test", _ body: (TemporaryDirectory) async throws -> T
) async throws -> T {
  let directory = try TemporaryDirectory(prefix: prefix)
  defer { directory.remove() }
  return try await body(directory)
}

/// SQLite fixtures: a new database file loaded from SQL.
public enum TestSQLite {
  /// Creates `path` (which must not exist) and runs `sql` in it in one transaction.
  public static func create(at path: String, sql: String) async throws {
    let database = try await SQLiteDatabase.create(at: path)
    do {
      try await database.execute(script: sql)
    } catch {
      try? await database.close()
      throw error
    }
    try await database.close()
  }
}

/// The repository's root directory (found from this file's location), for reading `examples/`.
public func repositoryRoot(file: StaticString = #filePath) -> String {
  var url = URL(fileURLWithPath: "\(file)")
  while url.path != "/" {
    url.deleteLastPathComponent()
    if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
      return url.path
    }
  }
  return FileManager.default.currentDirectoryPath
}
