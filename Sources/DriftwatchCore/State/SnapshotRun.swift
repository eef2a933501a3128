/// The two data steps of the commands, over the warehouse protocols (no I/O of their own):
/// taking a snapshot, and applying a snapshot's evidence to a check's changes.
extension SnapshotPlan {
  /// Frequent values kept per column in a snapshot.
  public static let topK = 50
  /// Keys sampled per table unless told otherwise.
  public static let defaultSampleSize = 1000

  /// Profiles every planned column (one `profile` call per table) and samples every keyed table, `jobs`
  /// tables at a time (each call on its own read-only connection in the adapters); the snapshot is the same
  /// whatever `jobs` is. `progress` is told each finished step (done, total, what) for a progress line.
  ///
  /// A profiler that is also a `SnapshotTableReading` (PostgreSQL) reads each table's profile and sample
  /// together, on `jobs` connections it keeps open for the whole run (`runByTable`).
  public func run(
    metadata: SnapshotMetadata, live: LiveSchema, profiler: any WarehouseProfiler,
    sampler: any WarehouseSampler,
    sampleSize: Int, hashValues: Bool, jobs: Int = 1,
    progress: @escaping @Sendable (Int, Int, String) -> Void = { _, _, _ in }
  ) async throws -> Snapshot {
    var byTable: [TableRef: [ColumnRef]] = [:]
    var tableOrder: [TableRef] = []
    for column in columns {
      let table = TableRef(schema: column.schema, name: column.table)
      if byTable[table] == nil { tableOrder.append(table) }
      byTable[table, default: []].append(column)
    }
    if let reading = profiler as? any SnapshotTableReading {
      return try await runByTable(
        metadata: metadata, live: live, reading: reading,
        work: tableOrder.map { TableWork(table: $0, columns: byTable[$0] ?? []) },
        sampleSize: sampleSize, hashValues: hashValues, jobs: jobs, progress: progress)
    }
    enum Step: Sendable {
      case profile(TableRef, [ColumnRef])
      case sample(SampleTarget)
    }
    enum Result: Sendable {
      case profiles([ColumnProfile])
      case sample(KeyedSample?)
    }
    let steps =
      tableOrder.map { Step.profile($0, byTable[$0] ?? []) } + samples.map { Step.sample($0) }
    let total = steps.count
    @Sendable func perform(_ step: Step) async throws -> Result {
      switch step {
      case .profile(_, let columns):
        return .profiles(try await profiler.profile(columns: columns, topK: Self.topK))
      case .sample(let target):
        guard
          let rows = try await sampler.sample(
            table: target.table, key: target.key, columns: target.columns, limit: sampleSize)
        else { return .sample(nil) }
        let sample = KeyedSample(
          sourceID: target.sourceID, table: target.table, key: target.key, columns: target.columns, rows: rows
        )
        return .sample(hashValues ? sample.hashingValues() : sample)
      }
    }
    func describe(_ step: Step) -> String {
      switch step {
      case .profile(let table, _): "profiled \(table)"
      case .sample(let target): "sampled \(target.table) by \(target.key)"
      }
    }
    var results = [Result?](repeating: nil, count: total)
    var done = 0
    progress(0, total, "started")
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
      var next = 0
      func start() {
        guard next < total else { return }
        let index = next
        let step = steps[index]
        group.addTask { (index, try await perform(step)) }
        next += 1
      }
      for _ in 0..<max(1, jobs) { start() }
      while let (index, result) = try await group.next() {
        results[index] = result
        done += 1
        progress(done, total, describe(steps[index]))
        start()
      }
    }
    var profiles: [ColumnProfile] = []
    var taken: [KeyedSample] = []
    for result in results {
      switch result {
      case .profiles(let found)?: profiles += found
      case .sample(let sample?)?: taken.append(sample)
      default: break
      }
    }
    progress(done, total, "done")
    var metadata = metadata
    metadata.sampleSize = sampleSize
    metadata.valuesHashed = hashValues
    return Snapshot(metadata: metadata, schema: live, profiles: profiles, samples: taken)
  }
}

/// A warehouse that reads a snapshot table by table on connections it keeps open (PostgreSQL): each
/// table's profile and keyed sample in one read-only transaction, with no catalog read of its own.
public protocol SnapshotTableReading: Sendable {
  /// Runs `body` with a reader that holds one open connection, closed afterwards.
  func withTableReader<T: Sendable>(_ body: (any SnapshotTableReader) async throws -> T) async throws -> T
}

/// One connection of a `SnapshotTableReading`.
public protocol SnapshotTableReader: Sendable {
  /// The profiles of `columns` of `table` (columns that do not exist are left out) and, with `sample`, its
  /// keyed sample of at most `sampleSize` rows (nil when the table, its key or a column does not exist).
  func read(
    table: TableRef, columns: [ColumnRef], sample: SnapshotPlan.SampleTarget?, topK: Int, sampleSize: Int
  ) async throws -> (profiles: [ColumnProfile], sample: [KeyedRow]?)
}

extension SnapshotPlan {
  /// One table's share of a snapshot: its columns to profile and the sample to take of it, if any.
  struct TableWork: Sendable {
    var table: TableRef
    var columns: [ColumnRef]
    var sample: SampleTarget?
    /// The sample's place in `samples`.
    var sampleIndex: Int?
  }

  /// `run` over a `SnapshotTableReading`: one step per table (profile and sample together), `jobs` readers
  /// each taking the next table until none is left. Profiles come out in `columns` order and samples in
  /// `samples` order, as `run` gives them, whatever `jobs` is.
  func runByTable(
    metadata: SnapshotMetadata, live: LiveSchema, reading: any SnapshotTableReading,
    work profiled: [TableWork],
    sampleSize: Int, hashValues: Bool, jobs: Int, progress: @escaping @Sendable (Int, Int, String) -> Void
  ) async throws -> Snapshot {
    var work = profiled
    var slot: [TableRef: Int] = [:]
    for (index, item) in work.enumerated() where slot[item.table] == nil { slot[item.table] = index }
    for (index, target) in samples.enumerated() {
      if let found = slot[target.table], work[found].sample == nil {
        work[found].sample = target
        work[found].sampleIndex = index
      } else {
        work.append(TableWork(table: target.table, columns: [], sample: target, sampleIndex: index))
      }
    }
    let units = work
    let total = units.count
    let queue = WorkQueue(count: total)
    progress(0, total, "started")
    var profiles = [[ColumnProfile]](repeating: [], count: total)
    var taken = [KeyedSample?](repeating: nil, count: samples.count)
    try await withThrowingTaskGroup(of: [(Int, [ColumnProfile], [KeyedRow]?)].self) { group in
      for _ in 0..<min(max(1, jobs), max(1, total)) {
        group.addTask {
          try await reading.withTableReader { reader in
            var results: [(Int, [ColumnProfile], [KeyedRow]?)] = []
            while let index = await queue.next() {
              let unit = units[index]
              let read = try await reader.read(
                table: unit.table, columns: unit.columns, sample: unit.sample, topK: Self.topK,
                sampleSize: sampleSize)
              results.append((index, read.profiles, read.sample))
              let done = await queue.finish()
              progress(done, total, unit.sample == nil ? "profiled \(unit.table)" : "read \(unit.table)")
            }
            return results
          }
        }
      }
      for try await results in group {
        for (index, found, rows) in results {
          profiles[index] = found
          guard let target = units[index].sample, let sampleIndex = units[index].sampleIndex, let rows else {
            continue
          }
          let sample = KeyedSample(
            sourceID: target.sourceID, table: target.table, key: target.key, columns: target.columns,
            rows: rows)
          taken[sampleIndex] = hashValues ? sample.hashingValues() : sample
        }
      }
    }
    progress(total, total, "done")
    var metadata = metadata
    metadata.sampleSize = sampleSize
    metadata.valuesHashed = hashValues
    return Snapshot(
      metadata: metadata, schema: live, profiles: profiles.flatMap { $0 }, samples: taken.compactMap { $0 })
  }

  /// The next table for a reader to take, and how many are done.
  actor WorkQueue {
    let count: Int
    var taken = 0
    var done = 0
    init(count: Int) { self.count = count }

    func next() -> Int? {
      guard taken < count else { return nil }
      taken += 1
      return taken - 1
    }

    func finish() -> Int {
      done += 1
      return done
    }
  }
}

extension DriftEngine {
  /// The changes with the evidence of `snapshot` applied: live rows for the sampled keys are read with
  /// `sampler`, live profiles for the distribution fallback with `profiler`.
  public func applyingEvidence(
    to changes: [DriftChange], live: LiveSchema, snapshot: Snapshot, sampler: any WarehouseSampler,
    profiler: (any WarehouseProfiler)?
  ) async throws -> [DriftChange] {
    let requests = evidenceRequests(changes: changes, live: live, snapshot: snapshot)
    var fetched: [[String: [String?]]?] = []
    for request in requests {
      fetched.append(
        try await sampler.rows(
          table: request.table, key: request.key, keys: request.keys, columns: request.columns))
    }
    var probes = distributionProbes(changes: changes, requests: requests)
    for probe in profileDriftProbes(changes: changes, live: live, snapshot: snapshot)
    where !probes.contains(probe) {
      probes.append(probe)
    }
    let profiles =
      probes.isEmpty ? [] : try await profiler?.profile(columns: probes, topK: SnapshotPlan.topK) ?? []
    return applyingEvidence(
      to: changes, requests: requests, fetched: fetched, snapshot: snapshot, liveProfiles: profiles)
  }
}
