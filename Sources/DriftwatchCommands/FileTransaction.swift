import DriftwatchCore
import Foundation

/// Writes a set of files all or nothing, and only over files that still hold what was read.
struct FileTransaction {
  struct Conflict: UserFacingError {
    var message: String
  }

  var root: String

  /// `files`: new contents (nil: remove) with the contents they were drafted from (nil: did not exist).
  func commit(_ files: [DraftedFile]) throws {
    let manager = FileManager.default
    // 0. Every target inside the project, as the file system resolves it (the last guard: the drafter
    //    makes its paths safe, this checks what they resolve to, symbolic links included).
    var resolved: [String: String] = [:]
    for file in files { resolved[file.path] = try target(file.path) }
    let absolute = { (path: String) in resolved[path] ?? "" }
    // 1. Nothing changed since it was read.
    var changed: [String] = []
    for file in files {
      let path = absolute(file.path)
      let current = manager.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
      if current != file.original { changed.append(file.path) }
    }
    if !changed.isEmpty {
      throw Conflict(
        message:
          "\(changed.joined(separator: ", ")) changed since driftwatch read \(changed.count == 1 ? "it" : "them"): nothing was written; run fix again"
      )
    }
    // 2. Every new content staged beside its target, so the final step is renames on one file system.
    let token = UUID().uuidString.prefix(8)
    var staged: [(temporary: String, target: String)] = []
    var backups: [(backup: String, target: String)] = []
    var created: [String] = []
    var createdDirectories: [String] = []
    func cleanUp() {
      for entry in staged { try? manager.removeItem(atPath: entry.temporary) }
    }
    do {
      for file in files {
        let target = absolute(file.path)
        guard let content = file.content else { continue }
        let directory = (target as NSString).deletingLastPathComponent
        if !manager.fileExists(atPath: directory) {
          try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
          createdDirectories.append(directory)
        }
        let temporary = directory + "/.driftwatch-\(token)-" + (target as NSString).lastPathComponent
        guard manager.createFile(atPath: temporary, contents: Data(content.utf8)) else {
          throw Conflict(message: "cannot write in \(directory): nothing was written; check its permissions")
        }
        if let attributes = try? manager.attributesOfItem(atPath: target),
          let permissions = attributes[.posixPermissions]
        {
          try manager.setAttributes([.posixPermissions: permissions], ofItemAtPath: temporary)
        }
        staged.append((temporary, target))
      }
      // 3. Swap in, keeping the originals until every file is in place.
      for file in files where file.original != nil {
        let target = absolute(file.path)
        let backup =
          (target as NSString).deletingLastPathComponent + "/.driftwatch-\(token)-backup-"
          + (target as NSString).lastPathComponent
        try manager.copyItem(atPath: target, toPath: backup)
        backups.append((backup, target))
      }
      for entry in staged {
        let existed = manager.fileExists(atPath: entry.target)
        // rename(2) replaces the target atomically.
        guard rename(entry.temporary, entry.target) == 0 else {
          throw Conflict(
            message:
              "cannot put \(entry.target) in place (\(String(cString: strerror(errno)))): nothing was written"
          )
        }
        if !existed { created.append(entry.target) }
      }
      for file in files where file.content == nil { try manager.removeItem(atPath: absolute(file.path)) }
    } catch {
      // Roll back: originals restored, new files and folders removed.
      for backup in backups {
        try? manager.removeItem(atPath: backup.target)
        try? manager.moveItem(atPath: backup.backup, toPath: backup.target)
      }
      for path in created { try? manager.removeItem(atPath: path) }
      for directory in createdDirectories.reversed() { try? manager.removeItem(atPath: directory) }
      cleanUp()
      if let error = error as? Conflict { throw error }
      throw Conflict(
        message:
          "writing the fix failed (\(error)): nothing was written; check the project folder's permissions")
    }
    for backup in backups { try? manager.removeItem(atPath: backup.backup) }
    cleanUp()
  }

  /// Where `path` (relative to the project root) is written: refused unless it is relative, has no `..`,
  /// and every folder on the way resolves (symbolic links followed) inside the project root; the file itself
  /// may not be a symbolic link (writing through one would write wherever it points).
  func target(_ path: String) throws -> String {
    let shown = TextEscape.oneLine(path)
    guard ProjectRelativePath.isContained(path) else {
      throw Conflict(
        message: "refusing to write \(shown): it is not a path inside the project; nothing was written")
    }
    guard let base = realpath(root, nil) else {
      throw Conflict(
        message: "cannot resolve the project folder \(root): nothing was written; check that it exists")
    }
    let rootPath = String(cString: base)
    free(base)
    func inside(_ candidate: String) -> Bool { candidate == rootPath || candidate.hasPrefix(rootPath + "/") }
    let components = path.split(separator: "/").map(String.init)
    var current = rootPath
    var exists = true
    for (index, component) in components.enumerated() {
      let next = (current == "/" ? "" : current) + "/" + component
      let isLast = index == components.count - 1
      var info = stat()
      guard exists, lstat(next, &info) == 0 else {
        exists = false
        current = next
        continue
      }
      if (info.st_mode & mode_t(S_IFMT)) == mode_t(S_IFLNK) {
        if isLast {
          throw Conflict(
            message:
              "refusing to write \(shown): it is a symbolic link, and driftwatch does not write through links; nothing was written"
          )
        }
        guard let real = realpath(next, nil) else {
          throw Conflict(
            message: "refusing to write \(shown): a folder on its way is a broken link; nothing was written")
        }
        let resolvedPath = String(cString: real)
        free(real)
        guard inside(resolvedPath) else {
          throw Conflict(
            message:
              "refusing to write \(shown): \(TextEscape.oneLine(component)) is a symbolic link to a folder outside the project; nothing was written"
          )
        }
        current = resolvedPath
      } else {
        current = next
      }
    }
    guard inside(current), current != rootPath else {
      throw Conflict(
        message: "refusing to write \(shown): it resolves outside the project; nothing was written")
    }
    return current
  }
}
