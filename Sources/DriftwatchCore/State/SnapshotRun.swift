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
  public func run(
    metadata: SnapshotMetadata, live: LiveSchema, profiler: any WarehouseProfiler,
    sampler: any WarehouseSampler,
    sampleSize: Int, hashValues: Bool, jobs: Int = 1,
    progress: @Sendable (Int, Int, String) -> Void = { _, _, _ in }
  ) async throws -> Snapshot {
    var byTable: [TableRef: [ColumnRef]] = [:]
    var tableOrder: [TableRef] = []
    for column in columns {
      let table = TableRef(schema: column.schema, name: column.table)
      if byTable[table] == nil { tableOrder.append(table) }
      byTable[table, default: []].append(column)
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
