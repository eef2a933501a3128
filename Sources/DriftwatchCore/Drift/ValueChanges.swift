/// Value-level drift: a column still there (or renamed) whose values no longer fit its declared
/// `accepted_values`. Two pure steps around one warehouse call:
/// `valueProbes` says which live columns to profile, the adapter profiles them with SQL,
/// `valueChanges` turns the profiles into changes.
extension DriftEngine {
  /// One live column to look at, and what the project declared about it.
  public struct ValueProbe: Sendable, Hashable {
    /// The live column (after any table or column rename).
    public var column: ColumnRef
    public var sourceID: String
    /// The declared (old) column name.
    public var declaredColumn: String
    /// The values the project's `accepted_values` test allows, in declared order.
    public var acceptedValues: [String]
    /// The `accepted_values` tests on the declared column.
    public var tests: [String]
    /// The table rename the column moved with, when there was one.
    public var parent: String?
  }

  /// Frequent values kept per profiled column: enough for any `accepted_values` list worth the name.
  public static let valueProbeTopK = 50

  /// The live columns whose values must be seen: every declared column with an `accepted_values` test
  /// that can still be found in the warehouse, under its old name or the name it was renamed to.
  public func valueProbes(changes: [DriftChange], live: LiveSchema) -> [ValueProbe] {
    var accepted: [String: [String: (values: [String], tests: [String])]] = [:]
    for node in project.nodes.values where node.resourceType == .test {
      guard let test = node.test, let values = test.acceptedValues, let column = test.columnName,
        let attached = test.attachedNode, project.sources[attached] != nil
      else { continue }
      var entry = accepted[attached]?[column.lowercased()] ?? (values, [])
      entry.tests.append(node.uniqueID)
      accepted[attached, default: [:]][column.lowercased()] = entry
    }
    guard !accepted.isEmpty else { return [] }
    let tables = Dictionary(
      live.tables.map { ($0.qualifiedName, $0) }, uniquingKeysWith: { first, _ in first })
    var probes: [ValueProbe] = []
    for (sourceID, columns) in accepted.sorted(by: { $0.key < $1.key }) {
      guard let source = project.sources[sourceID] else { continue }
      let sourceChanges = changes.filter { $0.sourceID == sourceID }
      if sourceChanges.contains(where: { $0.kind == .tableMissing }) { continue }
      let tableRename = sourceChanges.first { $0.kind == .tableRenamed }
      let table: LiveTable?
      if let relation = tableRename?.relation {
        table = tables[relation]
      } else {
        table = live.tables.first {
          $0.schema.schema.lowercased() == source.schema.lowercased()
            && $0.name.lowercased() == source.identifier.lowercased()
        }
      }
      guard let table else { continue }
      for (column, entry) in columns.sorted(by: { $0.key < $1.key }) {
        let moves = sourceChanges.filter { $0.from?.lowercased() == column && !$0.kind.isTableLevel }
        if moves.contains(where: { $0.kind == .columnMissing || $0.kind == .columnSplit }) { continue }
        let rename = moves.first { $0.kind == .columnRenamed }
        let liveName = rename?.to?.names.first ?? column
        guard let liveColumn = table.columns.first(where: { $0.name.lowercased() == liveName.lowercased() })
        else { continue }
        let declared = source.columns.first { $0.name.lowercased() == column }?.name ?? column
        probes.append(
          ValueProbe(
            column: ColumnRef(schema: table.schema, table: table.name, column: liveColumn.name),
            sourceID: sourceID, declaredColumn: declared, acceptedValues: entry.values,
            tests: entry.tests.sorted(), parent: tableRename?.id))
      }
    }
    return probes
  }

  /// Changes for probed columns whose live values fall outside what was declared:
  /// `values_remapped` when none of the declared values is left (the values were replaced),
  /// `accepted_values_violated` when new values appear beside the old ones.
  public func valueChanges(probes: [ValueProbe], profiles: [ColumnProfile]) -> [DriftChange] {
    let context = Context(project: project, lineage: lineage)
    let byColumn = Dictionary(profiles.map { ($0.column, $0) }, uniquingKeysWith: { first, _ in first })
    var changes: [DriftChange] = []
    for probe in probes {
      guard let profile = byColumn[probe.column], let source = project.sources[probe.sourceID] else {
        continue
      }
      let accepted = Set(probe.acceptedValues)
      let outside = profile.topValues.filter { !accepted.contains($0.value) }
      guard !outside.isEmpty else { continue }
      let remaining = profile.topValues.filter { accepted.contains($0.value) }
      let counts = { (values: [ValueCount]) in
        values.map { "\($0.value) (\($0.count))" }.joined(separator: ", ")
      }
      let testNames = probe.tests.map(Context.shortName).joined(separator: ", ")
      var evidence = [
        "\(probe.declaredColumn) declares accepted_values \(probe.acceptedValues.joined(separator: ", ")) (\(testNames))"
      ]
      let where_ = "\(probe.column.schema).\(probe.column.table).\(probe.column.column)"
      let kind: ChangeKind
      var mapping: [ValueMapping]?
      var confidence: Double
      if remaining.isEmpty {
        kind = .valuesRemapped
        evidence.append(
          "\(where_) holds \(counts(outside))\(profile.topValuesComplete ? "" : " and more"): none of the declared values"
        )
        // Pairs that only differ in case or surrounding spaces are the same value; the rest is meaning.
        var unused = outside.map(\.value)
        var pairs: [ValueMapping] = []
        for old in probe.acceptedValues {
          let key = Self.valueKey(old)
          if let index = unused.firstIndex(where: { Self.valueKey($0) == key }) {
            pairs.append(ValueMapping(old: old, new: unused.remove(at: index)))
          } else {
            pairs.append(ValueMapping(old: old, new: nil))
          }
        }
        mapping = pairs
        let sameCount = outside.count == probe.acceptedValues.count && profile.topValuesComplete
        // Calibrated on scripts/drift_benchmark.py: as many values as declared, none of them, is a remap; when
        // every pair differs only in case or spaces the mapping is known too.
        let everyPairKnown = !pairs.contains { $0.new == nil }
        confidence = sameCount ? (everyPairKnown ? 0.95 : 0.9) : 0.6
        if sameCount {
          evidence.append(
            "as many values as before (\(outside.count)): looks like a one-to-one remap")
        }
        if pairs.contains(where: { $0.new == nil }) {
          evidence.append(
            "which new value stands for which old one is not in the schema: a question for a human (a snapshot would prove it from the data)"
          )
        }
      } else {
        kind = .acceptedValuesViolated
        confidence = 1
        evidence.append(
          "\(where_) holds \(counts(outside)) beside the declared \(counts(remaining))")
      }
      let usages = context.readerUsages(source)
      let (radius, readers) = context.columnRadius(source, column: probe.declaredColumn, usages: usages)
      if !readers.isEmpty {
        evidence.append("read by \(readers.map(Context.shortName).joined(separator: ", "))")
      }
      var change = DriftChange(
        kind: kind, source: source.displayName, sourceID: source.uniqueID,
        relation: "\(probe.column.schema).\(probe.column.table)", from: probe.declaredColumn,
        to: .one(probe.column.column), column: probe.column.column, confidence: confidence,
        breaking: !radius.isEmpty, evidence: evidence, parent: probe.parent, blastRadius: radius)
      change.mapping = mapping
      change.values = outside.map(\.value)
      changes.append(change)
    }
    return changes
  }

  /// Puts each added change right after the change it belongs to (its `parent`, else the last change of
  /// its source), keeping the report's order.
  public static func merge(_ changes: [DriftChange], _ added: [DriftChange]) -> [DriftChange] {
    var result = changes
    for change in added {
      // After the change that moved the same column, else after its table's last change.
      let anchor =
        result.lastIndex {
          $0.sourceID == change.sourceID && !$0.kind.isTableLevel && $0.from != nil && $0.from == change.from
        }
        ?? result.lastIndex { $0.id == change.parent || ($0.parent != nil && $0.parent == change.parent) }
        ?? result.lastIndex { $0.sourceID == change.sourceID }
      if let anchor {
        result.insert(change, at: result.index(after: anchor))
      } else {
        result.append(change)
      }
    }
    return ordered(result)
  }

  static func valueKey(_ value: String) -> String {
    String(value.lowercased().drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
  }
}

extension DriftEngine {
  /// The whole diff: schema changes, then value changes when a profiler can look at the data.
  public func changes(
    live: LiveSchema, baseline: LiveSchema? = nil, profiler: (any WarehouseProfiler)?
  ) async throws -> [DriftChange] {
    let changes = diff(live: live, baseline: baseline)
    guard let profiler else { return changes }
    let probes = valueProbes(changes: changes, live: live)
    guard !probes.isEmpty else { return changes }
    let profiles = try await profiler.profile(columns: probes.map(\.column), topK: Self.valueProbeTopK)
    return Self.merge(changes, valueChanges(probes: probes, profiles: profiles))
  }
}
