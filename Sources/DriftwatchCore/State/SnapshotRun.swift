/// The two data steps of the commands, over the warehouse protocols (no I/O of their own):
/// taking a snapshot, and applying a snapshot's evidence to a check's changes.
extension SnapshotPlan {
  /// Frequent values kept per column in a snapshot.
  public static let topK = 50
  /// Keys sampled per table unless told otherwise.
  public static let defaultSampleSize = 1000

  /// Profiles every planned column and samples every keyed table. `progress` is told each step
  /// (done, total, what) for a progress line.
  public func run(
    metadata: SnapshotMetadata, live: LiveSchema, profiler: any WarehouseProfiler,
    sampler: any WarehouseSampler,
    sampleSize: Int, hashValues: Bool, progress: @Sendable (Int, Int, String) -> Void = { _, _, _ in }
  ) async throws -> Snapshot {
    let total = Set(columns.map { TableRef(schema: $0.schema, name: $0.table) }).count + samples.count
    var done = 0
    var profiles: [ColumnProfile] = []
    var byTable: [TableRef: [ColumnRef]] = [:]
    var tableOrder: [TableRef] = []
    for column in columns {
      let table = TableRef(schema: column.schema, name: column.table)
      if byTable[table] == nil { tableOrder.append(table) }
      byTable[table, default: []].append(column)
    }
    for table in tableOrder {
      progress(done, total, "profiling \(table)")
      profiles += try await profiler.profile(columns: byTable[table] ?? [], topK: Self.topK)
      done += 1
    }
    var taken: [KeyedSample] = []
    for target in samples {
      progress(done, total, "sampling \(target.table) by \(target.key)")
      if let rows = try await sampler.sample(
        table: target.table, key: target.key, columns: target.columns, limit: sampleSize)
      {
        let sample = KeyedSample(
          sourceID: target.sourceID, table: target.table, key: target.key, columns: target.columns, rows: rows
        )
        taken.append(hashValues ? sample.hashingValues() : sample)
      }
      done += 1
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
    let probes = distributionProbes(changes: changes, requests: requests)
    let profiles =
      probes.isEmpty ? [] : try await profiler?.profile(columns: probes, topK: SnapshotPlan.topK) ?? []
    return applyingEvidence(
      to: changes, requests: requests, fetched: fetched, snapshot: snapshot, liveProfiles: profiles)
  }
}
