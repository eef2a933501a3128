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
    /// For a column with no `accepted_values` test: the baseline snapshot whose complete set of values
    /// (`acceptedValues`) stands for the contract. nil for a declared test.
    public var baselineSnapshot: String?
  }

  /// Frequent values kept per profiled column: enough for any `accepted_values` list worth the name.
  public static let valueProbeTopK = 50

  /// The live columns whose values must be seen: every declared column with an `accepted_values` test
  /// that can still be found in the warehouse, under its old name or the name it was renamed to.
  ///
  /// With a baseline `snapshot`, also every other column it recorded as holding a few repeated values (an
  /// enumeration: every value seen, at most `valueProbeTopK`) that kept its name and that something downstream
  /// reads: its recorded values are what the readers were written against.
  public func valueProbes(changes: [DriftChange], live: LiveSchema, snapshot: Snapshot? = nil) -> [ValueProbe]
  {
    var probes = acceptedValuesProbes(changes: changes, live: live)
    if let snapshot {
      let probed = Set(probes.map { "\($0.sourceID)\u{0}\($0.declaredColumn.lowercased())" })
      probes += baselineValueProbes(changes: changes, live: live, snapshot: snapshot).filter {
        !probed.contains("\($0.sourceID)\u{0}\($0.declaredColumn.lowercased())")
      }
    }
    return probes
  }

  private func acceptedValuesProbes(changes: [DriftChange], live: LiveSchema) -> [ValueProbe] {
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

  /// A baseline profile that holds an enumeration: every distinct value seen, few of them, each repeated,
  /// and words (`completed`, `PAST_DUE`, `Gold`) — not dates, numbers or codes, whose values come and go as
  /// rows do (a rolling window's days).
  static func isEnumeration(_ profile: ColumnProfile) -> Bool {
    let nonNull = profile.rowCount - profile.nullCount
    guard profile.topValuesComplete, profile.estimated != true, profile.distinctCount >= 2,
      profile.distinctCount <= valueProbeTopK, nonNull >= ProfileRules.minimumRows,
      profile.distinctCount * 4 <= nonNull
    else { return false }
    let words: Set<ShapeClass> = [.lowercase, .uppercase, .titleCase]
    let wordRows = profile.topValues.filter { words.contains(ShapeClass.of(value: $0.value)) }
      .reduce(0) { $0 + $1.count }
    return wordRows * 10 >= nonNull * 9
  }

  private func baselineValueProbes(changes: [DriftChange], live: LiveSchema, snapshot: Snapshot)
    -> [ValueProbe]
  {
    let context = Context(project: project, lineage: lineage)
    var probes: [ValueProbe] = []
    for source in project.sources.values.sorted(by: { $0.uniqueID < $1.uniqueID }) {
      let sourceChanges = changes.filter { $0.sourceID == source.uniqueID }
      guard let table = liveTable(for: source, changes: changes, live: live) else { continue }
      let touched = Set(
        sourceChanges.filter { !$0.kind.isTableLevel }.flatMap {
          [$0.from, $0.column].compactMap { $0?.lowercased() } + ($0.to?.names.map { $0.lowercased() } ?? [])
        })
      let recorded = snapshot.profiles.filter {
        $0.column.schema == source.schemaRef && $0.column.table.lowercased() == source.identifier.lowercased()
          && Self.isEnumeration($0)
      }
      guard !recorded.isEmpty else { continue }
      let usages = context.readerUsages(source)
      for profile in recorded.sorted(by: { $0.column.column < $1.column.column }) {
        let name = profile.column.column
        guard !touched.contains(name.lowercased()),
          let liveColumn = table.columns.first(where: { $0.name.lowercased() == name.lowercased() }),
          !context.columnRadius(source, column: name, usages: usages).0.isEmpty
        else { continue }
        let declared = source.columns.first { $0.name.lowercased() == name.lowercased() }?.name ?? name
        probes.append(
          ValueProbe(
            column: ColumnRef(schema: table.schema, table: table.name, column: liveColumn.name),
            sourceID: source.uniqueID, declaredColumn: declared,
            acceptedValues: ColumnProfile.ranked(profile.topValues).map(\.value), tests: [],
            parent: sourceChanges.first { $0.kind == .tableRenamed }?.id,
            baselineSnapshot: snapshot.metadata.id))
      }
    }
    return probes
  }

  /// A column with no declared test whose values changed against the baseline snapshot's complete set:
  /// some recorded values are gone and new ones hold their rows (`completed` → `complete`). New values
  /// beside all the old ones are a new member of the enumeration, not a remap: quiet.
  private func baselineRemap(_ probe: ValueProbe, profile: ColumnProfile, snapshot: String) -> (
    evidence: [String], mapping: [ValueMapping], confidence: Double, values: [String]
  )? {
    guard profile.topValuesComplete, profile.estimated != true else { return nil }
    // Exact values: `sales` → `SALES` breaks `where department = 'sales'` downstream.
    let before = Set(probe.acceptedValues)
    let now = Set(profile.topValues.map(\.value))
    let gone = probe.acceptedValues.filter { !now.contains($0) }
    let new = ColumnProfile.ranked(profile.topValues).filter { !before.contains($0.value) }
    guard !gone.isEmpty, !new.isEmpty else { return nil }
    let where_ = "\(probe.column.schema).\(probe.column.table).\(probe.column.column)"
    let counts = new.map { "\($0.value) (\($0.count))" }.joined(separator: ", ")
    var evidence = [
      "snapshot \(snapshot) recorded every value of \(probe.declaredColumn): \(probe.acceptedValues.joined(separator: ", "))",
      "\(where_) no longer holds \(gone.joined(separator: ", ")) and holds new values \(counts)",
    ]
    let sameCount = gone.count == new.count
    if sameCount {
      evidence.append("as many new values as gone (\(gone.count)): looks like a one-to-one remap")
    }
    evidence.append(
      "which new value stands for which old one is not in the schema: a question for a human (a snapshot would prove it from the data)"
    )
    return (
      evidence, gone.map { ValueMapping(old: $0, new: nil) }, sameCount ? 0.6 : 0.5, new.map(\.value)
    )
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
      if let snapshot = probe.baselineSnapshot {
        guard let remap = baselineRemap(probe, profile: profile, snapshot: snapshot) else { continue }
        var evidence = remap.evidence
        let (radius, readers) = context.columnRadius(
          source, column: probe.declaredColumn, usages: context.readerUsages(source))
        if !readers.isEmpty {
          evidence.append("read by \(readers.map(Context.shortName).joined(separator: ", "))")
        }
        var change = DriftChange(
          kind: .valuesRemapped, source: source.displayName, sourceID: source.uniqueID,
          relation: "\(probe.column.schema).\(probe.column.table)", from: probe.declaredColumn,
          to: .one(probe.column.column), column: probe.column.column, confidence: remap.confidence,
          breaking: !radius.isEmpty, evidence: evidence, parent: probe.parent, blastRadius: radius)
        change.mapping = remap.mapping
        change.values = remap.values
        changes.append(change)
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
    live: LiveSchema, baseline: LiveSchema? = nil, snapshot: Snapshot? = nil,
    profiler: (any WarehouseProfiler)?
  ) async throws -> [DriftChange] {
    let changes = diff(live: live, baseline: baseline ?? snapshot?.schema)
    guard let profiler else { return changes }
    let probes = valueProbes(changes: changes, live: live, snapshot: snapshot)
    guard !probes.isEmpty else { return changes }
    let profiles = try await profiler.profile(columns: probes.map(\.column), topK: Self.valueProbeTopK)
    return Self.merge(changes, valueChanges(probes: probes, profiles: profiles))
  }
}
