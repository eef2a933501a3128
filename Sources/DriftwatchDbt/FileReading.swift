import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// File access for the readers: text decoding, directory walks and a parallel map.
enum FileReading {
  /// UTF-8 text, without a byte-order mark; invalid bytes become U+FFFD rather than failing.
  static func decode(_ data: Data) -> String {
    var bytes = data[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Why a file or folder could not be read: the `errno` of the failing call.
  struct Problem: Error, Equatable {
    var code: Int32

    /// `open` / `opendir` found nothing there (or a link pointing nowhere).
    var isMissing: Bool { code == ENOENT || code == ENOTDIR }

    /// The system's reason, lowercased: `permission denied`, `too many levels of symbolic links`.
    var reason: String {
      guard let text = strerror(code) else { return "error \(code)" }
      return String(cString: text).lowercased()
    }
  }

  /// The file's text (see `decode`), or `nil` when it cannot be read.
  static func readText(_ path: String) -> String? {
    try? contents(of: path).get()
  }

  /// The file's text (see `decode`), or why it cannot be read. Read with `open`/`read` straight into the
  /// string's storage: a large project reads tens of thousands of files, and Foundation's `Data` would add an
  /// allocation and a copy to each.
  static func contents(of path: String) -> Result<String, Problem> {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return .failure(Problem(code: errno)) }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { return .failure(Problem(code: errno)) }
    if (status.st_mode & S_IFMT) == S_IFDIR { return .failure(Problem(code: EISDIR)) }
    guard (status.st_mode & S_IFMT) == S_IFREG else { return readStream(descriptor) }
    let size = Int(status.st_size)
    if size == 0 { return .success("") }
    var complete = true
    var failure: Int32 = 0
    // Invalid UTF-8 is repaired (U+FFFD) by the initializer, as `decode` does.
    let text = String(unsafeUninitializedCapacity: size) { buffer in
      guard let base = buffer.baseAddress else { return 0 }
      var filled = 0
      while filled < size {
        let count = systemRead(descriptor, base + filled, size - filled)
        if count > 0 {
          filled += count
        } else if count == 0 {
          break
        } else if errno != EINTR {
          failure = errno
          break
        }
      }
      complete = filled == size
      return filled
    }
    if failure != 0 { return .failure(Problem(code: failure)) }
    // A file that changed size while being read: read it again to its end.
    guard complete else {
      guard lseek(descriptor, 0, SEEK_SET) == 0 else { return .failure(Problem(code: errno)) }
      return readStream(descriptor)
    }
    if text.utf8.starts(with: [0xEF, 0xBB, 0xBF]) {
      return .success(String(text.unicodeScalars.dropFirst()))
    }
    return .success(text)
  }

  /// Everything left to read from `descriptor` (a pipe, a file whose size changed), decoded.
  private static func readStream(_ descriptor: Int32) -> Result<String, Problem> {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
      if count > 0 {
        bytes += chunk[..<count]
      } else if count == 0 {
        return .success(decode(Data(bytes)))
      } else if errno != EINTR {
        return .failure(Problem(code: errno))
      }
    }
  }

  static func isDirectory(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }

  static func isFile(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
  }

  static func join(_ base: String, _ component: String) -> String {
    if component.hasPrefix("/") { return component }
    if base.isEmpty { return component }
    return base.hasSuffix("/") ? base + component : base + "/" + component
  }

  /// Why `path` cannot be opened for reading, after a read of it failed (`ENOENT` when nothing can be said).
  static func openProblem(_ path: String) -> Problem {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return Problem(code: errno) }
    close(descriptor)
    var status = stat()
    if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { return Problem(code: EISDIR) }
    return Problem(code: EIO)
  }

  /// The names in a folder (`.` and `..` left out), or why it cannot be listed.
  static func entries(of directory: String) -> Result<[String], Problem> {
    guard let handle = opendir(directory) else { return .failure(Problem(code: errno)) }
    defer { closedir(handle) }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(handle) else {
        return errno == 0 ? .success(names) : .failure(Problem(code: errno))
      }
      let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
        String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
      }
      if name != "." && name != ".." { names.append(name) }
    }
  }

  /// Throws unless `path` is a folder that can be read: says whether it is missing, a file, or unreadable.
  static func requireDirectory(_ path: String, what: String) throws {
    var status = stat()
    guard stat(path, &status) == 0 else {
      let problem = Problem(code: errno)
      if problem.isMissing {
        throw DbtError("\(what) \(path) does not exist; pass the directory that holds dbt_project.yml")
      }
      throw DbtError(
        "cannot read \(what) \(path) (\(problem.reason)); make it readable by the user running driftwatch")
    }
    guard (status.st_mode & S_IFMT) == S_IFDIR else {
      throw DbtError(
        "\(what) \(path) is a file, not a directory; pass the directory that holds dbt_project.yml")
    }
  }

  /// A listing of the regular files under a folder, and what could not be read on the way.
  struct Listing {
    /// Paths relative to the folder, sorted.
    var files: [String] = []
    /// Folders that could not be listed and entries whose type could not be learnt (a link to nothing, a link
    /// loop), relative to the folder, with why; in the order met.
    var problems: [(path: String, isFolder: Bool, problem: Problem)] = []
  }

  /// Every regular file under `directory`, as paths relative to it, sorted. Walks as dbt does (`os.walk`):
  /// the folder itself may be a symbolic link, links to files are read through, links to folders inside it are
  /// not followed. A missing directory has no files; one that exists but cannot be read is a problem.
  static func files(under directory: String) -> Listing {
    var listing = Listing()
    var status = stat()
    guard stat(directory, &status) == 0 else {
      if errno != ENOENT && errno != ENOTDIR { listing.problems.append(("", true, Problem(code: errno))) }
      return listing
    }
    guard (status.st_mode & S_IFMT) == S_IFDIR else { return listing }
    walk(directory, prefix: "", into: &listing)
    listing.files.sort()
    return listing
  }

  /// `readdir` with the entry type it reports, so that a large tree costs one `stat` per link only.
  private static func walk(_ directory: String, prefix: String, into listing: inout Listing) {
    // An explicit stack of folders: no recursion, however deep the tree.
    var pending: [(path: String, relative: String)] = [(directory, prefix)]
    while let (directory, prefix) = pending.popLast() {
      guard let handle = opendir(directory) else {
        listing.problems.append((prefix, true, Problem(code: errno)))
        continue
      }
      var subdirectories: [(String, String)] = []
      while true {
        errno = 0
        guard let entry = readdir(handle) else {
          if errno != 0 { listing.problems.append((prefix, true, Problem(code: errno))) }
          break
        }
        let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
          String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
        }
        if name == "." || name == ".." { continue }
        let path = join(directory, name)
        let relative = prefix.isEmpty ? name : prefix + "/" + name
        switch Int32(entry.pointee.d_type) {
        case Int32(DT_DIR): subdirectories.append((path, relative))
        case Int32(DT_REG): listing.files.append(relative)
        default:
          // A link or an unknown type: ask the file system. A link to a folder is not followed (dbt's
          // `os.walk` does not follow them); a link to a file is read through it.
          var status = stat()
          guard lstat(path, &status) == 0 else {
            listing.problems.append((relative, false, Problem(code: errno)))
            continue
          }
          let isLink = (status.st_mode & S_IFMT) == S_IFLNK
          if isLink && stat(path, &status) != 0 {
            listing.problems.append((relative, false, Problem(code: errno)))
            continue
          }
          switch status.st_mode & S_IFMT {
          case S_IFDIR where !isLink: subdirectories.append((path, relative))
          case S_IFREG: listing.files.append(relative)
          default: break
          }
        }
      }
      closedir(handle)
      // Depth first, in listing order, as before: the files are sorted at the end anyway.
      pending += subdirectories.reversed()
    }
  }

  /// `transform` applied to every element, across cores; results in input order.
  static func parallelMap<Input: Sendable, Output: Sendable>(
    _ inputs: [Input], _ transform: @Sendable (Input) -> Output
  ) -> [Output] {
    if inputs.count < 4 { return inputs.map(transform) }
    let slots = Slots<Output>(count: inputs.count)
    inputs.withUnsafeBufferPointer { buffer in
      let base = UncheckedPointer(buffer)
      DispatchQueue.concurrentPerform(iterations: buffer.count) { index in
        slots.set(index, transform(base.buffer[index]))
      }
    }
    return slots.values()
  }
}

/// Write-once result slots filled by `concurrentPerform`: every index is written by exactly one iteration,
/// and read only after all of them finish.
private final class Slots<Value: Sendable>: @unchecked Sendable {
  private var storage: [Value?]
  private let lock = NSLock()

  init(count: Int) {
    storage = Array(repeating: nil, count: count)
  }

  func set(_ index: Int, _ value: Value) {
    lock.lock()
    storage[index] = value
    lock.unlock()
  }

  func values() -> [Value] {
    lock.lock()
    defer { lock.unlock() }
    return storage.compactMap { $0 }
  }
}

/// A buffer of Sendable values read (never written) from the iterations of `concurrentPerform`.
private struct UncheckedPointer<Element: Sendable>: @unchecked Sendable {
  let buffer: UnsafeBufferPointer<Element>
  init(_ buffer: UnsafeBufferPointer<Element>) { self.buffer = buffer }
}

/// Work on items known up front, shared between helper threads started early and the caller, who joins in
/// once it is done with its own work. `startInBackground()` begins on all cores but one; `finish()` takes what
/// is left on the caller's thread, waits for the items in progress and returns every output in item order.
/// Items are claimed in batches, in order, one claim at a time.
final class SharedWork<Input: Sendable, Output: Sendable>: @unchecked Sendable {
  private let batch: Int
  private let body: @Sendable (Input) -> Output
  private let lock = NSLock()
  private let inputs: [Input]
  private var outputs: [Output?]
  private var claimed = 0
  private let helpers = DispatchGroup()

  init(_ inputs: [Input], batch: Int = 16, _ body: @escaping @Sendable (Input) -> Output) {
    self.batch = max(1, batch)
    self.body = body
    self.inputs = inputs
    outputs = Array(repeating: nil, count: inputs.count)
  }

  /// Starts `threads` helpers (default: one fewer than the cores, at least one).
  func startInBackground(threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)) {
    for _ in 0..<threads {
      helpers.enter()
      DispatchQueue.global(qos: .userInitiated).async {
        self.work()
        self.helpers.leave()
      }
    }
  }

  /// Every output, in item order, once all items are done (the caller works on what is left meanwhile).
  func finish() -> [Output] {
    work()
    helpers.wait()
    lock.lock()
    defer { lock.unlock() }
    return outputs.compactMap { $0 }
  }

  /// Claims and runs batches until none is left.
  private func work() {
    while true {
      lock.lock()
      guard claimed < inputs.count else {
        lock.unlock()
        return
      }
      let first = claimed
      let chunk = inputs[first..<min(first + batch, inputs.count)]
      claimed = first + chunk.count
      lock.unlock()
      let results = chunk.map(body)
      lock.lock()
      for (offset, result) in results.enumerated() { outputs[first + offset] = result }
      lock.unlock()
    }
  }
}

/// What a reader is done with once the graph is built: tens of thousands of parsed files or nodes, which take a
/// while to free. `release` frees them on another core, or, for a command line that exits right after its
/// answer, never (the process's exit returns the memory at no cost).
final class Leftovers<Value: Sendable>: @unchecked Sendable {
  private var value: Value?

  private init(_ value: Value) { self.value = value }

  static func release(_ value: consuming Value, free: Bool) {
    let leftovers = Leftovers(value)
    if free {
      DispatchQueue.global(qos: .utility).async { leftovers.value = nil }
    } else {
      _ = Unmanaged.passRetained(leftovers)
    }
  }
}

/// `read(2)`, under a name the readers' own `read` methods do not shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
  read(descriptor, buffer, count)
}
