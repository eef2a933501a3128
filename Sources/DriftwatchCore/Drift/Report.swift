/// The values a check produces. Renderers (text, JSON, markdown) turn these into output.

public enum ChangeKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  case tableMissing = "table_missing"
  case tableRenamed = "table_renamed"
  case tableAdded = "table_added"
  case columnMissing = "column_missing"
  case columnRenamed = "column_renamed"
  case columnSplit = "column_split"
  case columnTypeChanged = "column_type_changed"
  /// The declared accepted values of a column were replaced by others (`premium` → `gold` …).
  case valuesRemapped = "values_remapped"
  /// The column holds values outside its declared `accepted_values`, alongside the old ones.
  case acceptedValuesViolated = "accepted_values_violated"
  /// Behind an unchanged schema, against a baseline snapshot: two columns hold each other's values.
  case columnsSwapped = "columns_swapped"
  /// Behind an unchanged schema: the share of NULLs jumped (or the column became all NULL).
  case nullRateChanged = "null_rate_changed"
  /// Behind an unchanged schema: the numbers are a power of ten larger or smaller (cents → units).
  case scaleChanged = "scale_changed"
  /// Behind an unchanged schema: the values are of another kind of text (e-mail-shaped → name-shaped).
  case valueShapeChanged = "value_shape_changed"
  /// Behind an unchanged schema: the number of distinct values collapsed or exploded.
  case distinctCountChanged = "distinct_count_changed"
  case columnAdded = "column_added"

  private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
  public static func < (lhs: ChangeKind, rhs: ChangeKind) -> Bool { lhs.order < rhs.order }

  public var isTableLevel: Bool { self == .tableMissing || self == .tableRenamed || self == .tableAdded }

  /// Found by comparing a column's live profile with its baseline profile, its name and type unchanged.
  public var isProfileDrift: Bool {
    [.columnsSwapped, .nullRateChanged, .scaleChanged, .valueShapeChanged, .distinctCountChanged].contains(
      self)
  }
}

/// `to` is one name, or several for a split.
public enum ChangeTarget: Sendable, Hashable, Codable, CustomStringConvertible {
  case one(String)
  case many([String])

  public var names: [String] {
    switch self {
    case .one(let name): [name]
    case .many(let names): names
    }
  }

  public var description: String {
    switch self {
    case .one(let name): name
    case .many(let names): "[" + names.joined(separator: ", ") + "]"
    }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let many = try? container.decode([String].self) {
      self = .many(many)
    } else {
      self = .one(try container.decode(String.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .one(let name): try container.encode(name)
    case .many(let names): try container.encode(names)
    }
  }
}

/// What is downstream of a change: dbt unique ids, sorted.
public struct BlastRadius: Sendable, Hashable, Codable {
  public var models: [String]
  public var tests: [String]
  public var exposures: [String]

  public init(models: [String] = [], tests: [String] = [], exposures: [String] = []) {
    self.models = models
    self.tests = tests
    self.exposures = exposures
  }

  public var isEmpty: Bool { models.isEmpty && tests.isEmpty && exposures.isEmpty }

  public func union(_ other: BlastRadius) -> BlastRadius {
    BlastRadius(
      models: Array(Set(models).union(other.models)).sorted(),
      tests: Array(Set(tests).union(other.tests)).sorted(),
      exposures: Array(Set(exposures).union(other.exposures)).sorted())
  }
}

/// One inferred change between the declared sources and the live warehouse.
public struct DriftChange: Sendable, Hashable, Codable {
  /// Stable across runs for the same change: a hash of kind, source, from and to.
  public var id: String
  public var kind: ChangeKind
  /// The declared source it concerns (`acme.raw_customers`); for `table_added`, the source whose schema it is in.
  public var source: String
  /// The source's unique id, when the change concerns a declared source table.
  public var sourceID: String?
  /// The live relation the change was found in (`raw.raw_accounts`), when there is one.
  public var relation: String?
  /// Old name (table or column), or for `column_type_changed` the old type.
  public var from: String?
  /// New name(s), or for `column_type_changed` the new type.
  public var to: ChangeTarget?
  /// For `column_type_changed`: the column.
  public var column: String?
  /// 0…1: how sure the inference is. Exact observations (a missing table, a type change) are 1.
  public var confidence: Double
  /// Something downstream reads what changed.
  public var breaking: Bool
  /// Why driftwatch believes it, in words.
  public var evidence: [String]
  /// For column changes found inside a renamed table: the id of that `table_renamed` change.
  public var parent: String?
  /// What this change alone breaks.
  public var blastRadius: BlastRadius
  /// For `values_remapped`: old value → new value, with the support behind each pair when measured.
  public var mapping: [ValueMapping]?
  /// For `column_split`: how the old value is rebuilt from the new columns, when known.
  public var template: SplitTemplate?
  /// For `accepted_values_violated` and `values_remapped`: the live values outside the declared list.
  public var values: [String]?
  /// For `column_renamed`: the kinds of evidence the claim rests on (names, the table's rename, the data,
  /// position, type, keys). For a `column_missing` with `possibleRename`: what suggested it.
  public var evidenceKinds: [EvidenceKind]?
  /// For `column_missing`: a new column that stands where it stood with a compatible type, but that neither
  /// the names nor the data show to be it. A hint, not a rename: the column is still reported missing.
  public var possibleRename: String?
  /// For a column that is gone (`column_missing`, `column_renamed`, `column_split`): the models whose compiled
  /// SQL selects NULL in its place, and what reads them. Such a change is breaking although dbt stays green.
  public var silentNulls: [SilentNull]?
  /// For the profile drift kinds (`ChangeKind.isProfileDrift`): what was measured, before and now.
  public var measure: ProfileMeasure?

  public init(
    kind: ChangeKind, source: String, sourceID: String?, relation: String?, from: String?, to: ChangeTarget?,
    column: String? = nil, confidence: Double, breaking: Bool = false, evidence: [String],
    parent: String? = nil, blastRadius: BlastRadius = BlastRadius()
  ) {
    self.id = StableID.make(
      kind.rawValue, sourceID ?? source, column ?? "", from ?? "", to?.description ?? "")
    self.kind = kind
    self.source = source
    self.sourceID = sourceID
    self.relation = relation
    self.from = from
    self.to = to
    self.column = column
    self.confidence = (confidence * 100).rounded() / 100
    self.breaking = breaking
    self.evidence = evidence
    self.parent = parent
    self.blastRadius = blastRadius
  }
}

/// A measurement behind a profile drift change: the baseline's value and the live one, and for a scale
/// change the factor (`0.01`: the numbers are 100 times smaller) with the keys that prove it exactly.
public struct ProfileMeasure: Sendable, Hashable, Codable {
  /// `null_fraction`, `shape_class_share` (of `shapeClass`), `distinct_count`, `mean_magnitude`, or for a swap
  /// `keys_swapped`/`shape_class_share`.
  public var metric: String
  public var before: Double
  public var after: Double
  /// For `scale_changed`: new = old × factor.
  public var factor: Double?
  /// For `value_shape_changed` and `columns_swapped`: the dominant class before and now.
  public var shapeBefore: ShapeClass?
  public var shapeAfter: ShapeClass?
  /// Sampled keys on which the exact relation holds, out of `keysJoined`, when a keyed sample was joined.
  public var keysAgreeing: Int?
  public var keysJoined: Int?
  /// The baseline snapshot compared with.
  public var snapshot: String

  public init(
    metric: String, before: Double, after: Double, factor: Double? = nil, shapeBefore: ShapeClass? = nil,
    shapeAfter: ShapeClass? = nil, keysAgreeing: Int? = nil, keysJoined: Int? = nil, snapshot: String
  ) {
    self.metric = metric
    self.before = before
    self.after = after
    self.factor = factor
    self.shapeBefore = shapeBefore
    self.shapeAfter = shapeAfter
    self.keysAgreeing = keysAgreeing
    self.keysJoined = keysJoined
    self.snapshot = snapshot
  }
}

/// Human-facing names of the nodes a report mentions, so renderers need not carry the graph.
public struct NodeLabel: Sendable, Hashable, Codable {
  public var uniqueID: String
  public var name: String
  public var resourceType: ResourceType
  public var label: String?
  public var exposureType: String?
  /// Parents within the report (other radius nodes and changed sources), for graphs.
  public var parents: [String]

  public init(
    uniqueID: String, name: String, resourceType: ResourceType, label: String?, exposureType: String?,
    parents: [String] = []
  ) {
    self.uniqueID = uniqueID
    self.name = name
    self.resourceType = resourceType
    self.label = label
    self.exposureType = exposureType
    self.parents = parents
  }
}

/// The outcome of one check.
public struct DriftReport: Sendable, Hashable, Codable {
  public static let schemaVersion = 1

  public var project: String
  public var warehouse: String
  /// The schemas that were compared.
  public var schemas: [String]
  public var sourcesChecked: Int
  public var changes: [DriftChange]
  public var blastRadius: BlastRadius
  /// Names and labels of every node in the blast radius.
  public var nodes: [String: NodeLabel]
  /// Milliseconds spent introspecting and diffing, when measured.
  public var timings: Timings?
  /// The nodes and sources this answer depends on that the project reader could not read exactly (see
  /// `Exactness.check`); `nil` or empty: the answer is exact.
  public var incomplete: [IncompleteNode]?
  /// Readers of the changed sources whose column reads are not known exactly (not rendered: counted as
  /// reading every column; rendered approximately; only raw SQL calling a macro). `nil` or empty: none.
  public var columnReads: [ColumnReadNote]?

  public struct Timings: Sendable, Hashable, Codable {
    public var readProjectMs: Double
    public var introspectMs: Double
    public var diffMs: Double
    public init(readProjectMs: Double, introspectMs: Double, diffMs: Double) {
      self.readProjectMs = readProjectMs
      self.introspectMs = introspectMs
      self.diffMs = diffMs
    }
  }

  public init(
    project: String, warehouse: String, schemas: [String], sourcesChecked: Int, changes: [DriftChange],
    blastRadius: BlastRadius, nodes: [String: NodeLabel], timings: Timings? = nil
  ) {
    self.project = project
    self.warehouse = warehouse
    self.schemas = schemas
    self.sourcesChecked = sourcesChecked
    self.changes = changes
    self.blastRadius = blastRadius
    self.nodes = nodes
    self.timings = timings
  }

  public var breaking: Bool { changes.contains { $0.breaking } }

  /// No node this answer depends on is incomplete.
  public var exact: Bool { incomplete?.isEmpty ?? true }

  /// Every id in the blast radius (of the report and of each change).
  public var blastRadiusIDs: Set<String> {
    var ids = Set(blastRadius.models + blastRadius.tests + blastRadius.exposures)
    for change in changes {
      ids.formUnion(change.blastRadius.models + change.blastRadius.tests + change.blastRadius.exposures)
    }
    return ids
  }

  /// Records which incomplete nodes of `project` this answer depends on (`Exactness.check`).
  public mutating func markIncompleteness(from project: ProjectGraph) {
    let ids = Exactness.check(hasChanges: !changes.isEmpty, blastRadius: blastRadiusIDs, project: project)
    incomplete = project.incompleteNodes(ids)
  }

  /// Whether `change`'s blast radius holds an incomplete node (or its source is one).
  public func isIncomplete(_ change: DriftChange) -> Bool {
    guard let incomplete, !incomplete.isEmpty else { return false }
    let ids = Set(incomplete.map(\.uniqueID))
    if let source = change.sourceID, ids.contains(source) { return true }
    let radius = change.blastRadius
    return (radius.models + radius.tests + radius.exposures).contains { ids.contains($0) }
  }
}

/// Short deterministic ids (FNV-1a, 64 bit): the same inputs give the same id on every machine and run.
public enum StableID {
  public static func make(_ parts: String...) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for (index, part) in parts.enumerated() {
      if index > 0 { hash = (hash ^ 0x1f) &* 0x0000_0100_0000_01b3 }
      for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    }
    let hex = String(hash, radix: 16)
    let padded = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    return "c" + padded.prefix(10)
  }
}
