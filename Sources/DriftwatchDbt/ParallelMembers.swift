import Dispatch
import Foundation

/// Reads the members of one large JSON object (the manifest's `nodes`) on every core, without a first pass
/// that finds where each member starts.
///
/// The object's bytes are cut into equal chunks. Each chunk but the first guesses where its first member
/// starts (`JSONCursor.likelyMemberStart`: a key shaped like a unique id, `"model.pkg.name": {`, right after
/// a `}` and a `,`) and reads members from there until the next member would start in a later chunk. A guess
/// can be wrong (a nested object with such a key), so nothing is trusted until it is checked in order: the
/// first chunk starts at the object's real first member, and a chunk's reading counts only when the chunk
/// before it stopped exactly where it started. Where a guess was wrong, or a chunk had no guess, the members
/// are read again from where the last trusted chunk stopped, on this thread. The answer is therefore always
/// the one a plain front-to-back reading gives (same members, same order, same first error); only the time
/// depends on the guesses.
enum ParallelMembers {
  /// Below this many bytes, one thread reads the object (threads cost more than they save).
  static let serialBelow = 1 << 20

  /// What a reading collects: `read` adds what it makes of each member (or nothing).
  typealias Reader<Batch> =
    @Sendable (inout JSONCursor, JSONCursor.Key, inout Batch) throws(JSONCursor.Failure)
    -> Void

  /// Reads the members of the object at `cursor` (which must be at its `{`) with `read`, which is called
  /// with each key, positioned at its value, must consume the value, and adds what it makes of the member to
  /// a batch (`batch()` makes an empty one). Returns the batches in file order (their contents are never copied from
  /// one to another) and leaves `cursor` after the object's `}`.
  static func read<Batch: Sendable>(
    _ cursor: inout JSONCursor, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
    chunkBytes: Int? = nil, batch: @escaping @Sendable () -> Batch, _ read: @escaping Reader<Batch>
  ) throws(JSONCursor.Failure) -> [Batch] {
    guard let first = try cursor.openObject() else { return [] }
    let bytes = cursor.bytes
    let remaining = bytes.count - first
    let threads = max(1, threads)
    guard threads > 1, remaining >= (chunkBytes == nil ? serialBelow : 0) else {
      var values = batch()
      let closed = try cursor.readMembers(until: Int.max) { (cursor, key) throws(JSONCursor.Failure) in
        try read(&cursor, key, &values)
      }
      precondition(closed, "a reading without a limit ends with the object")
      return [values]
    }
    // Enough chunks that the threads finish together; each large enough that guessing is rare.
    let chunk = max(1, chunkBytes ?? max(1 << 18, remaining / (threads * 12)))
    let shared = Chunks<Batch>(
      bytes: SharedBytes(bytes), first: first, chunk: chunk, path: cursor.path, batch: batch, read: read)
    DispatchQueue.concurrentPerform(iterations: threads) { _ in shared.work() }
    return try shared.assemble(&cursor)
  }

  /// One chunk's reading: members from `start` until the object closed (`closed`) or the next member starts
  /// at `stop`, in a later chunk; or the error that ended it.
  fileprivate struct Run<Batch> {
    var start: Int
    var values: Batch
    var stop: Int
    var closed: Bool
    var failure: JSONCursor.Failure?
  }

  /// The bytes, read (never written) by the threads while the caller is inside `withUnsafeBytes`: every
  /// thread is done before `read` returns.
  fileprivate struct SharedBytes: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<UInt8>
    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }
  }

  fileprivate final class Chunks<Batch: Sendable>: @unchecked Sendable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let first: Int
    private let chunk: Int
    private let path: [String]
    private let batch: @Sendable () -> Batch
    private let read: Reader<Batch>
    private let lock = NSLock()
    private var next = 0
    /// Where a reading found the object's end: later chunks are past it (a wrong guess can make this too
    /// early; the check in `assemble` then reads the rest on one thread).
    private var end = Int.max
    private var runs: [Int: Run<Batch>] = [:]

    init(
      bytes: SharedBytes, first: Int, chunk: Int, path: [String], batch: @escaping @Sendable () -> Batch,
      read: @escaping Reader<Batch>
    ) {
      self.batch = batch
      self.bytes = bytes.buffer
      self.first = first
      self.chunk = chunk
      self.path = path
      self.read = read
    }

    /// Claims chunks in order and reads them until none is left before the object's end.
    func work() {
      while true {
        lock.lock()
        let index = next
        next += 1
        let from = first + index * chunk
        let past = from >= bytes.count || from >= end
        lock.unlock()
        if past { return }
        let limit = from + chunk
        let start =
          index == 0
          ? from : JSONCursor.likelyMemberStart(in: bytes, from: from, before: min(limit, bytes.count))
        guard let start else { continue }
        let run = reading(from: start, until: limit)
        lock.lock()
        runs[start] = run
        if run.closed { end = min(end, run.stop) }
        lock.unlock()
      }
    }

    private func reading(from start: Int, until limit: Int) -> Run<Batch> {
      var cursor = JSONCursor(bytes: bytes, at: start, path: path)
      var values = batch()
      let read = self.read
      do {
        let closed = try cursor.readMembers(until: limit) { (cursor, key) throws(JSONCursor.Failure) in
          try read(&cursor, key, &values)
        }
        return Run(start: start, values: values, stop: cursor.index, closed: closed)
      } catch {
        return Run(start: start, values: values, stop: cursor.index, closed: false, failure: error)
      }
    }

    /// The readings joined in order, each checked against where the one before it stopped; what no checked
    /// reading covers is read here. `cursor` ends after the object.
    func assemble(_ cursor: inout JSONCursor) throws(JSONCursor.Failure) -> [Batch] {
      let starts = runs.keys.sorted()
      var values: [Batch] = []
      var position = first
      while true {
        let run: Run<Batch>
        if let found = runs.removeValue(forKey: position) {
          run = found
        } else {
          // No reading starts here: read on until the next place one does (or the end).
          let later = starts.first { $0 > position } ?? Int.max
          run = reading(from: position, until: later)
        }
        if let failure = run.failure { throw failure }
        values.append(run.values)
        if run.closed {
          cursor.moveAfterObject(to: run.stop)
          return values
        }
        position = run.stop
      }
    }
  }
}
