/// What a snapshot records for a project: which columns to profile and which tables to sample by key.
/// Pure: the commands run the plan against a `WarehouseProfiler` and a `WarehouseSampler`.
public struct SnapshotPlan: Sendable, Hashable {
  public struct SampleTarget: Sendable, Hashable {
    public var sourceID: String
    public var table: TableRef
    public var key: String
    public var columns: [String]
  }

  /// A source table that cannot be sampled by key, and why: its renames and remaps can then only be
  /// inferred from names and profiles.
  public struct Unsampled: Sendable, Hashable {
    public var sourceID: String
    public var table: TableRef
    public var reason: String
  }

  /// Every column of every source table found in the warehouse, declared or not: the contract is what the
  /// models read, and a later check or diff compares all of them.
  public var columns: [ColumnRef]
  /// One per source table with a key: a `unique` test on one of its columns, else the table's only
  /// primary or unique key column. Then one per undeclared table in the sources' schemas with a single key
  /// column (all its columns, `sourceID` empty): a later snapshot's sample of a renamed table, which
  /// `diff` joins to (the same keys come first in the same hash order).
  public var samples: [SampleTarget]
  /// The source tables found in the warehouse that have no key to sample by.
  public var unsampled: [Unsampled] = []
  /// The declared source tables the warehouse does not have (ids, sorted): nothing of them is recorded.
  public var notFound: [String] = []

  public static func make(project: ProjectGraph, live: LiveSchema) -> SnapshotPlan {
    var uniqueTested: [String: [String]] = [:]
    for node in project.nodes.values where node.resourceType == .test {
      guard let test = node.test, test.testName == "unique", let column = test.columnName,
        let attached = test.attachedNode, project.sources[attached] != nil
      else { continue }
      uniqueTested[attached, default: []].append(column.lowercased())
    }
    var columns: [ColumnRef] = []
    var samples: [SampleTarget] = []
    var unsampled: [Unsampled] = []
    var notFound: [String] = []
    for source in project.sources.values.sorted(by: { $0.uniqueID < $1.uniqueID }) {
      guard let table = live.resolve(schema: source.schemaRef, table: source.identifier) else {
        notFound.append(source.uniqueID)
        continue
      }
      let recorded = table.columns
      columns += recorded.map { ColumnRef(schema: table.schema, table: table.name, column: $0.name) }
      let tested = uniqueTested[source.uniqueID] ?? []
      let liveKeys = table.columns.filter(\.isKey)
      let key =
        recorded.first { tested.contains($0.name.lowercased()) }
        ?? (liveKeys.count == 1 ? liveKeys.first : nil)
      guard let key else {
        let why: String
        if !tested.isEmpty {
          why =
            "its unique test names \(tested.sorted().joined(separator: ", ")), which the table does not have"
        } else if liveKeys.count > 1 {
          why =
            "no unique test, and its primary or unique key has \(liveKeys.count) columns (only a single-column key can be sampled)"
        } else {
          why = "no unique test on a column and no primary or unique key"
        }
        unsampled.append(
          Unsampled(
            sourceID: source.uniqueID, table: TableRef(schema: table.schema, name: table.name), reason: why))
        continue
      }
      samples.append(
        SampleTarget(
          sourceID: source.uniqueID, table: TableRef(schema: table.schema, name: table.name), key: key.name,
          columns: recorded.map(\.name).filter { $0 != key.name }))
    }
    let claimed = Set(samples.map(\.table))
    let declared = Set(
      project.sources.values.compactMap { live.resolve(schema: $0.schemaRef, table: $0.identifier) }.map {
        TableRef(schema: $0.schema, name: $0.name)
      })
    let schemas = Set(project.sources.values.map(\.schemaRef))
    for table in live.tables.sorted(by: { $0.qualifiedName < $1.qualifiedName })
    where table.kind == .table && schemas.contains(table.schema) {
      let ref = TableRef(schema: table.schema, name: table.name)
      let keys = table.columns.filter(\.isKey)
      guard !claimed.contains(ref), !declared.contains(ref), keys.count == 1, let key = keys.first else {
        continue
      }
      samples.append(
        SampleTarget(
          sourceID: "", table: ref, key: key.name,
          columns: table.columns.map(\.name).filter { $0 != key.name }))
    }
    return SnapshotPlan(columns: columns, samples: samples, unsampled: unsampled, notFound: notFound)
  }
}
