/// Baseline snapshots: what the warehouse looked like (schema, column profiles, keyed samples) when a
/// snapshot was taken, so that a later check can prove renames, splits and remaps from the data.
/// Values only; stores and samplers are protocols with in-memory twins here, adapters elsewhere.

/// A live relation.
public struct TableRef: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var schema: SchemaRef
  public var name: String

  public init(schema: SchemaRef, name: String) {
    self.schema = schema
    self.name = name
  }

  public var description: String { "\(schema).\(name)" }

  public static func < (lhs: TableRef, rhs: TableRef) -> Bool {
    (lhs.schema, lhs.name) < (rhs.schema, rhs.name)
  }
}

/// One sampled row: the key and the values of the sampled columns, as text (or hashes, see `KeyedSample`).
public struct KeyedRow: Sendable, Hashable, Codable {
  public var key: String
  public var values: [String?]

  public init(key: String, values: [String?]) {
    self.key = key
    self.values = values
  }
}

/// A bounded, deterministic sample of one table: key → values of the declared columns.
public struct KeyedSample: Sendable, Hashable, Codable {
  /// The declared source it was taken for (`source.acme.acme.raw_customers`).
  public var sourceID: String
  public var table: TableRef
  /// The key column (unique or primary key).
  public var key: String
  /// Sampled columns (the key excluded), in declared order.
  public var columns: [String]
  public var rows: [KeyedRow]
  /// Values are `SampleHash`es, not values (`--no-sample-values`): enough for equality, not for templates.
  public var hashed: Bool

  public init(
    sourceID: String, table: TableRef, key: String, columns: [String], rows: [KeyedRow], hashed: Bool = false
  ) {
    self.sourceID = sourceID
    self.table = table
    self.key = key
    self.columns = columns
    self.rows = rows
    self.hashed = hashed
  }

  /// The same sample with every value replaced by its hash.
  public func hashingValues() -> KeyedSample {
    guard !hashed else { return self }
    var copy = self
    copy.rows = rows.map { KeyedRow(key: $0.key, values: $0.values.map { $0.map(SampleHash.of) }) }
    copy.hashed = true
    return copy
  }
}

/// A hash of a value rendered as text, for samples kept without values (FNV-1a, 64 bit, hex).
public enum SampleHash {
  public static func of(_ value: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    let hex = String(hash, radix: 16)
    return "h" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex
  }
}

/// When, where and by what a snapshot was taken. Never holds a password.
public struct SnapshotMetadata: Sendable, Hashable, Codable {
  /// `20260217T140000Z-3f2a9c`: sorts by time.
  public var id: String
  /// ISO 8601, UTC, with milliseconds (`2026-02-17T14:00:00.123Z`; earlier snapshots have whole seconds).
  public var takenAt: String
  public var project: String
  /// The warehouse's display name (no password).
  public var warehouse: String
  public var driftwatchVersion: String
  public var sampleSize: Int
  public var valuesHashed: Bool
  public var tables: Int
  public var columns: Int
  public var sampledKeys: Int

  public init(
    id: String, takenAt: String, project: String, warehouse: String, driftwatchVersion: String,
    sampleSize: Int, valuesHashed: Bool, tables: Int = 0, columns: Int = 0, sampledKeys: Int = 0
  ) {
    self.id = id
    self.takenAt = takenAt
    self.project = project
    self.warehouse = warehouse
    self.driftwatchVersion = driftwatchVersion
    self.sampleSize = sampleSize
    self.valuesHashed = valuesHashed
    self.tables = tables
    self.columns = columns
    self.sampledKeys = sampledKeys
  }
}

public struct Snapshot: Sendable, Hashable, Codable {
  public var metadata: SnapshotMetadata
  public var schema: LiveSchema
  public var profiles: [ColumnProfile]
  public var samples: [KeyedSample]

  public init(
    metadata: SnapshotMetadata, schema: LiveSchema, profiles: [ColumnProfile], samples: [KeyedSample]
  ) {
    var metadata = metadata
    metadata.tables = schema.tables.count
    metadata.columns = profiles.count
    metadata.sampledKeys = samples.reduce(0) { $0 + $1.rows.count }
    self.metadata = metadata
    self.schema = schema
    self.profiles = profiles
    self.samples = samples
  }

  public var id: String { metadata.id }

  /// A snapshot id from its time (`20260217T140000Z`) and a short hash of what makes it unique.
  public static func makeID(compactTime: String, project: String, warehouse: String, nonce: String) -> String
  {
    compactTime + "-" + StableID.make(project, warehouse, nonce).dropFirst().prefix(6)
  }
}

/// Where snapshots are kept: embedded SQLite by default, PostgreSQL for teams, memory in tests.
/// `save` is all or nothing: a failure leaves every earlier snapshot as it was and no part of the new one.
public protocol StateStore: Sendable {
  /// A description safe to print (no password).
  var displayName: String { get }
  func save(_ snapshot: Snapshot) async throws
  /// Snapshots of `project` (all projects when nil), oldest first.
  func list(project: String?) async throws -> [SnapshotMetadata]
  /// The snapshot with this id, or nil.
  func load(id: String) async throws -> Snapshot?
}

extension StateStore {
  /// The newest snapshot of `project`, if any.
  public func latest(project: String) async throws -> Snapshot? {
    guard let newest = try await list(project: project).last else { return nil }
    return try await load(id: newest.id)
  }
}

/// The in-memory twin of a state store.
public actor InMemoryStateStore: StateStore {
  private var snapshots: [Snapshot] = []

  public init(snapshots: [Snapshot] = []) { self.snapshots = snapshots }

  public nonisolated var displayName: String { "memory" }

  public func save(_ snapshot: Snapshot) async throws {
    guard !snapshots.contains(where: { $0.id == snapshot.id }) else {
      throw InputError("snapshot \(snapshot.id) already exists: take a new one")
    }
    snapshots.append(snapshot)
  }

  public func list(project: String?) async throws -> [SnapshotMetadata] {
    snapshots.map(\.metadata).filter { project == nil || $0.project == project }
      .sorted { ($0.takenAt, $0.id) < ($1.takenAt, $1.id) }
  }

  public func load(id: String) async throws -> Snapshot? { snapshots.first { $0.id == id } }
}

/// A warehouse that can take keyed samples and read the rows of given keys. Must not write to it.
public protocol WarehouseSampler: Sendable {
  /// Up to `limit` rows of `table`, chosen by a deterministic hash of the key (the same rows every run
  /// while they exist), as key → values of `columns`, all rendered as text. nil when the table, the key or
  /// one of the columns does not exist.
  func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]?
  /// The rows of `table` whose `key` (compared as text) is one of `keys`: key → values of `columns` as text.
  /// Keys not found are absent. nil when the table, the key or a column does not exist.
  func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws -> [String:
    [String?]]?
}

/// The in-memory twin: tables as rows of text.
public struct InMemorySampler: WarehouseSampler {
  public struct Table: Sendable {
    public var ref: TableRef
    public var columns: [String]
    public var rows: [[String?]]
    public init(ref: TableRef, columns: [String], rows: [[String?]]) {
      self.ref = ref
      self.columns = columns
      self.rows = rows
    }
  }

  public var tables: [Table]
  public init(tables: [Table]) { self.tables = tables }

  private func lookup(_ table: TableRef, _ key: String, _ columns: [String]) -> (Table, Int, [Int])? {
    guard let found = tables.first(where: { $0.ref == table }),
      let keyIndex = found.columns.firstIndex(of: key)
    else { return nil }
    let indexes = columns.compactMap { found.columns.firstIndex(of: $0) }
    guard indexes.count == columns.count else { return nil }
    return (found, keyIndex, indexes)
  }

  public func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]?
  {
    guard let (found, keyIndex, indexes) = lookup(table, key, columns) else { return nil }
    let rows = found.rows.compactMap { row -> KeyedRow? in
      guard let key = row[keyIndex] else { return nil }
      return KeyedRow(key: key, values: indexes.map { row[$0] })
    }
    return Array(
      rows.sorted { (SampleHash.of($0.key), $0.key) < (SampleHash.of($1.key), $1.key) }.prefix(limit))
  }

  public func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws
    -> [String: [String?]]?
  {
    guard let (found, keyIndex, indexes) = lookup(table, key, columns) else { return nil }
    let wanted = Set(keys)
    var result: [String: [String?]] = [:]
    for row in found.rows {
      guard let key = row[keyIndex], wanted.contains(key) else { continue }
      result[key] = indexes.map { row[$0] }
    }
    return result
  }
}
