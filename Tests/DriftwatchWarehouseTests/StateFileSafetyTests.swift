import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchState

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The SQLite state store's file: driftwatch sets the mode only of what it creates, and refuses a path that
/// is not a regular file.
@Suite("State store file")
struct StateFileSafetyTests {
  /// The mode bits of `path` itself (not of what a symlink points to).
  static func mode(_ path: String, follow: Bool = true) -> mode_t? {
    var status = stat()
    guard (follow ? stat(path, &status) : lstat(path, &status)) == 0 else { return nil }
    return status.st_mode & 0o7777
  }

  /// A state store path that is not a regular file driftwatch created is refused with one line, and its
  /// mode (or its target's) is left alone: before, driftwatch chmodded whatever the path named to 0600.
  @Test func sqliteStoreRefusesPathsThatAreNotRegularFiles() async throws {
    try await withTemporaryDirectory { directory in
      let fifo = directory.file("fifo.db")
      #expect(mkfifo(fifo, 0o644) == 0)
      let target = try directory.write("someone else's file\n", to: "other.txt")
      #expect(chmod(target, 0o644) == 0)
      let link = directory.file("link.db")
      try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
      let folder = directory.file("folder.db")
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
      let devNullMode = Self.mode("/dev/null")
      let cases: [(path: String, kind: String, watched: String)] = [
        (fifo, "a fifo", fifo), ("/dev/null", "a device", "/dev/null"), (link, "a symbolic link", target),
        (folder, "a directory", folder),
      ]
      for (path, kind, watched) in cases {
        let before = Self.mode(watched)
        let snapshot = StateStoreTests.snapshot("20260217T130000Z-aaaaaa", takenAt: "2026-02-17T13:00:00Z")
        let store = SQLiteStateStore(path: path)
        let error = await #expect(throws: StateError.self) { try await store.save(snapshot) }
        #expect(error?.message.contains("\(path) is \(kind), not a regular file") == true, "\(path)")
        await #expect(throws: StateError.self) { try await store.list(project: nil) }
        let incidents = SQLiteIncidentStore(path: path)
        await #expect(throws: StateError.self) { try await incidents.incidents(project: nil) }
        #expect(Self.mode(watched) == before, "\(watched) keeps its mode")
      }
      #expect(Self.mode("/dev/null") == devNullMode)
      #expect(Self.mode(target) == 0o644)
      #expect(try String(contentsOfFile: target, encoding: .utf8) == "someone else's file\n")
    }
  }

  /// A regular file that exists keeps its mode (driftwatch did not create it); one driftwatch creates is
  /// 0600, in a directory it creates 0700.
  @Test func sqliteStoreSetsTheModeOnlyOfFilesItCreates() async throws {
    try await withTemporaryDirectory { directory in
      let existing = directory.file("existing.db")
      #expect(FileManager.default.createFile(atPath: existing, contents: nil))
      #expect(chmod(existing, 0o640) == 0)
      let snapshot = StateStoreTests.snapshot("20260217T130000Z-aaaaaa", takenAt: "2026-02-17T13:00:00Z")
      try await SQLiteStateStore(path: existing).save(snapshot)
      #expect(Self.mode(existing) == 0o640)

      let created = directory.file("new/.driftwatch/state.db")
      try await SQLiteStateStore(path: created).save(snapshot)
      #expect(Self.mode(created) == 0o600)
      #expect(Self.mode(directory.file("new/.driftwatch")) == 0o700)
    }
  }
}
