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

  /// The file's text (see `decode`), or `nil` when it cannot be read. Read with `open`/`read` straight into
  /// the string's storage: a large project reads tens of thousands of files, and Foundation's `Data` would
  /// add an allocation and a copy to each.
  static func readText(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      return FileManager.default.contents(atPath: path).map(decode)
    }
    let size = Int(status.st_size)
    if size == 0 { return "" }
    var complete = true
    // Invalid UTF-8 is repaired (U+FFFD) by the initializer, as `decode` does.
    let text = String(unsafeUninitializedCapacity: size) { buffer in
      guard let base = buffer.baseAddress else { return 0 }
      var filled = 0
      while filled < size {
        let count = read(descriptor, base + filled, size - filled)
        if count > 0 {
          filled += count
        } else if count == 0 || errno != EINTR {
          break
        }
      }
      complete = filled == size
      return filled
    }
    // A file that changed size while being read: read it again the slow way.
    guard complete else { return FileManager.default.contents(atPath: path).map(decode) }
    if text.utf8.starts(with: [0xEF, 0xBB, 0xBF]) { return String(text.unicodeScalars.dropFirst()) }
    return text
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

  /// Every regular file under `directory` (following symbolic links), as paths relative to it, sorted.
  /// A missing directory has no files.
  static func files(under directory: String) -> [String] {
    guard isDirectory(directory) else { return [] }
    var output: [String] = []
    var visited: Set<String> = [realPath(directory)]
    walk(directory, prefix: "", into: &output, visited: &visited)
    return output.sorted()
  }

  private static func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// `readdir` with the entry type it reports, so that a large tree costs one `stat` per link only.
  private static func walk(
    _ directory: String, prefix: String, into output: inout [String], visited: inout Set<String>
  ) {
    guard let handle = opendir(directory) else { return }
    defer { closedir(handle) }
    var subdirectories: [(String, String)] = []
    while let entry = readdir(handle) {
      let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
        String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
      }
      if name == "." || name == ".." { continue }
      let path = join(directory, name)
      let relative = prefix.isEmpty ? name : prefix + "/" + name
      var isDirectory = false
      var isFile = false
      switch Int32(entry.pointee.d_type) {
      case Int32(DT_DIR): isDirectory = true
      case Int32(DT_REG): isFile = true
      default:
        // A link or an unknown type: ask the file system (following links).
        var status = stat()
        guard stat(path, &status) == 0 else { continue }
        isDirectory = (status.st_mode & S_IFMT) == S_IFDIR
        isFile = (status.st_mode & S_IFMT) == S_IFREG
        if isDirectory && !visited.insert(realPath(path)).inserted { continue }
      }
      if isDirectory {
        subdirectories.append((path, relative))
      } else if isFile {
        output.append(relative)
      }
    }
    for (path, relative) in subdirectories { walk(path, prefix: relative, into: &output, visited: &visited) }
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
