/// Compares the sources a dbt project declares with what a warehouse has, and says what changed,
/// how sure it is, and what each change breaks. Pure: give it values, get values.
public struct DriftEngine: Sendable {
  public var project: ProjectGraph
  public var lineage: LineageGraph

  public init(project: ProjectGraph, lineage: LineageGraph? = nil) {
    self.project = project
    self.lineage = lineage ?? LineageGraph(project: project)
  }

  /// Below this a table is reported missing rather than renamed.
  static let tableRenameThreshold = 0.5

  public func report(
    live: LiveSchema, baseline: LiveSchema? = nil, warehouse: String, timings: DriftReport.Timings? = nil
  ) -> DriftReport {
    report(changes: diff(live: live, baseline: baseline), warehouse: warehouse, timings: timings)
  }

  /// The report for changes already found (by `diff`, plus `valueChanges` when the data was looked at).
  public func report(changes: [DriftChange], warehouse: String, timings: DriftReport.Timings? = nil)
    -> DriftReport
  {
    // Columns a reader's compiled SQL now fills with NULL: breaking, with what reads them.
    let context = Context(project: project, lineage: lineage)
    let changes = changes.map(context.withSilentNulls)
    var radius = BlastRadius()
    for change in changes where change.breaking {
      radius = radius.union(change.blastRadius)
      for silent in change.silentNulls ?? [] { radius = radius.union(silent.readBy) }
    }
    var labels: [String: NodeLabel] = [:]
    let changedSources = Set(changes.filter(\.breaking).compactMap(\.sourceID))
    let shown = Set(radius.models + radius.tests + radius.exposures).union(changedSources)
    for id in shown {
      if let node = project.nodes[id] {
        labels[id] = NodeLabel(
          uniqueID: id, name: node.name, resourceType: node.resourceType, label: node.label,
          exposureType: node.exposureType, parents: node.dependsOn.filter(shown.contains).sorted())
      } else if let source = project.sources[id] {
        labels[id] = NodeLabel(
          uniqueID: id, name: source.displayName, resourceType: .source, label: nil, exposureType: nil)
      }
    }
    var report = DriftReport(
      project: project.projectName, warehouse: warehouse, schemas: project.sourceSchemas.map(\.description),
      sourcesChecked: project.sources.count, changes: changes, blastRadius: radius, nodes: labels,
      timings: timings)
    let notes = context.columnReadNotes(changes)
    report.columnReads = notes.isEmpty ? nil : notes
    return report
  }

  /// The changes between what the project expects of its sources and `live`. What it expects of a source
  /// table: the columns its yml declares, every column `baseline` (a snapshot's schema) recorded of it, in
  /// their physical order and with their types, and the columns its readers' SQL reads from it (without a
  /// baseline, a read name the table lacks is a column gone, named with the same evidence rules).
  public func diff(live: LiveSchema, baseline: LiveSchema? = nil) -> [DriftChange] {
    let context = Context(project: project, lineage: lineage, baseline: baseline)
    var tablesByKey: [String: [LiveTable]] = [:]
    for table in live.tables {
      tablesByKey[Self.key(table.schema.schema, table.name), default: []].append(table)
    }
    let sources = project.sources.values.sorted { $0.uniqueID < $1.uniqueID }

    var claimed = Set<String>()  // live tables accounted for, by qualified name
    var missing: [SourceTable] = []
    var changes: [DriftChange] = []
    for source in sources {
      let candidates = tablesByKey[Self.key(source.schema, source.identifier)] ?? []
      let table =
        candidates.first { $0.name == source.identifier && $0.schema.schema == source.schema }
        ?? candidates.first
      guard let table else {
        missing.append(source)
        continue
      }
      claimed.insert(table.qualifiedName)
      changes += context.columnChanges(source: source, table: table, entities: .empty, parent: nil)
    }

    // Tables no source declares, in the schemas the sources live in: rename candidates, else additions.
    let watched = Set(sources.map { $0.schema.lowercased() })
    let unclaimed = live.tables.filter {
      watched.contains($0.schema.schema.lowercased()) && !claimed.contains($0.qualifiedName)
    }
    var scored: [(score: Double, source: SourceTable, table: LiveTable, alignment: ColumnAligner.Alignment)] =
      []
    let renameCandidates = RenameCandidates(missing: missing.count, unclaimed: unclaimed)
    for source in missing {
      for table in renameCandidates.candidates(for: source) {
        let entities = EntityMap.from(oldTable: source.identifier, newTable: table.name)
        let expected = context.expectedColumns(source)
        let alignment = context.aligner(source: source, expected: expected, table: table, entities: entities)
          .align()
        let nameScore = NameRelation.between(old: source.identifier, new: table.name, entities: .empty).score
        let sameSchema = table.schema.schema.lowercased() == source.schema.lowercased() ? 1.0 : 0.0
        let score =
          expected.isEmpty
          ? 0.5 * nameScore + 0.1 * sameSchema
          : 0.75 * alignment.coverage + 0.15 * nameScore + 0.1 * sameSchema
        scored.append((score, source, table, alignment))
      }
    }
    var renamedSources = Set<String>()
    for candidate in scored.sorted(by: { ($0.score, $1.source.uniqueID) > ($1.score, $0.source.uniqueID) })
    where candidate.score >= Self.tableRenameThreshold
      && !renamedSources.contains(candidate.source.uniqueID)
      && !claimed.contains(candidate.table.qualifiedName)
    {
      let rivals = scored.filter {
        $0.source.uniqueID == candidate.source.uniqueID
          && $0.table.qualifiedName != candidate.table.qualifiedName
          && !claimed.contains($0.table.qualifiedName)
      }
      changes += context.tableRenamed(
        source: candidate.source, table: candidate.table, score: candidate.score,
        alignment: candidate.alignment, rivals: rivals.map { ($0.table, $0.score) },
        unclaimedCount: unclaimed.count)
      renamedSources.insert(candidate.source.uniqueID)
      claimed.insert(candidate.table.qualifiedName)
    }
    for source in missing where !renamedSources.contains(source.uniqueID) {
      let near = scored.filter { $0.source.uniqueID == source.uniqueID }.max { $0.score < $1.score }
      changes.append(
        context.tableMissing(source: source, live: live, nearest: near.map { ($0.table, $0.score) }))
    }
    var sourceNamesBySchema: [String: Set<String>] = [:]
    for source in sources {
      sourceNamesBySchema[source.schema.lowercased(), default: []].insert(source.sourceName)
    }
    for table in unclaimed where !claimed.contains(table.qualifiedName) {
      let sourceNames = (sourceNamesBySchema[table.schema.schema.lowercased()] ?? []).sorted()
      changes.append(
        DriftChange(
          kind: .tableAdded, source: sourceNames.joined(separator: ","), sourceID: nil,
          relation: table.qualifiedName, from: nil, to: .one(table.name), confidence: 1,
          evidence: [
            "\(table.qualifiedName) (\(table.columns.count) columns) is in a watched schema and no source declares it"
          ]))
    }
    return Self.ordered(changes)
  }

  /// Table-level changes by source and kind; a table's column changes stay in declared column order.
  static func ordered(_ changes: [DriftChange]) -> [DriftChange] {
    changes.enumerated().sorted { lhs, rhs in
      let l = lhs.element
      let r = rhs.element
      if l.source != r.source { return l.source < r.source }
      let lColumn = !l.kind.isTableLevel
      let rColumn = !r.kind.isTableLevel
      if lColumn != rColumn { return !lColumn }
      if !lColumn, l.kind != r.kind { return l.kind < r.kind }
      return lhs.offset < rhs.offset
    }.map(\.element)
  }

  static func key(_ schema: String, _ name: String) -> String {
    schema.lowercased() + "\u{1}" + name.lowercased()
  }
}

/// What the engine needs to know about the declared side, computed once per diff.
struct Context {
  let project: ProjectGraph
  let lineage: LineageGraph
  /// Direct readers of each source: models and other non-test nodes.
  let readers: [String: [GraphNode]]
  /// Tests attached to each source, by column (lowercased); table-level tests under "".
  let sourceTests: [String: [String: [String]]]
  /// Source columns tested unique: declared keys.
  let keys: [String: Set<String>]
  /// A warehouse spells the same few types hundreds of thousands of times: each is parsed once.
  let types = TypeCache()
  /// The baseline snapshot's tables, by lowercased schema and name.
  let baseline: [String: [LiveTable]]

  init(project: ProjectGraph, lineage: LineageGraph, baseline: LiveSchema? = nil) {
    self.project = project
    self.lineage = lineage
    var baselineTables: [String: [LiveTable]] = [:]
    for table in baseline?.tables ?? [] {
      baselineTables[DriftEngine.key(table.schema.schema, table.name), default: []].append(table)
    }
    self.baseline = baselineTables
    var readers: [String: [GraphNode]] = [:]
    var sourceTests: [String: [String: [String]]] = [:]
    var keys: [String: Set<String>] = [:]
    for node in project.nodes.values {
      for parent in node.dependsOn where project.sources[parent] != nil {
        if node.resourceType == .test {
          let column = node.test?.attachedNode == parent ? (node.test?.columnName ?? "").lowercased() : ""
          sourceTests[parent, default: [:]][column, default: []].append(node.uniqueID)
          if let test = node.test, test.attachedNode == parent, let column = test.columnName,
            ["unique", "primary_key", "unique_key"].contains(test.testName.lowercased())
          {
            keys[parent, default: []].insert(column.lowercased())
          }
        } else {
          readers[parent, default: []].append(node)
        }
      }
    }
    self.readers = readers.mapValues { $0.sorted { $0.uniqueID < $1.uniqueID } }
    self.sourceTests = sourceTests
    self.keys = keys
  }

  func aligner(
    source: SourceTable, expected: [ExpectedColumn], table: LiveTable, entities: EntityMap,
    liveIndices: [Int]? = nil, ordered: Bool = true
  ) -> ColumnAligner {
    let keys = self.keys[source.uniqueID] ?? []
    let live = liveIndices.map { $0.map { table.columns[$0] } } ?? table.columns
    var aligner = ColumnAligner(
      declared: expected.map {
        .init(name: $0.name, type: $0.type.map(types.normalized), isKey: keys.contains($0.name.lowercased()))
      },
      live: live.map { .init(name: $0.name, type: types.normalized($0.dataType), isKey: $0.isKey) },
      entities: entities)
    aligner.ordered = ordered
    return aligner
  }

  // MARK: Blast radius

  func tableRadius(_ source: SourceTable) -> BlastRadius {
    radius(lineage.impact(from: [source.uniqueID]))
  }

  /// The direct readers of a source with what their SQL reads (the compiled SQL when known, else the raw
  /// code); nil usage: SQL unknown or not rendered, assume it reads all.
  func readerUsages(_ source: SourceTable) -> [(node: GraphNode, usage: ColumnUsage?)] {
    (readers[source.uniqueID] ?? []).map { ($0, $0.columnUsage) }
  }

  /// What breaks when `column` of `source` stops being there as it was.
  func columnRadius(
    _ source: SourceTable, column: String, usages: [(node: GraphNode, usage: ColumnUsage?)]
  ) -> (BlastRadius, readers: [String]) {
    let readingNodes = usages.filter { $0.usage?.reads(column: column) ?? true }.map(\.node)
    let tests = sourceTests[source.uniqueID]?[column.lowercased()] ?? []
    var start = Set(readingNodes.map(\.uniqueID))
    start.formUnion(tests)
    guard !start.isEmpty else { return (BlastRadius(), []) }
    var impact = radius(lineage.impact(from: start))
    impact.tests = Array(Set(impact.tests).union(tests)).sorted()
    return (impact, readingNodes.map(\.uniqueID))
  }

  func radius(_ impact: Impact) -> BlastRadius {
    BlastRadius(models: impact.models, tests: impact.tests, exposures: impact.exposures)
  }

  // MARK: Changes

  func tableMissing(source: SourceTable, live: LiveSchema, nearest: (LiveTable, Double)?) -> DriftChange {
    var evidence = ["\(source.schema).\(source.identifier) is not in the warehouse"]
    let schemaHasTables = live.tables.contains { $0.schema.schema.lowercased() == source.schema.lowercased() }
    if !schemaHasTables {
      evidence.append(
        "schema \(source.schema) has no tables visible to this connection (does it exist? may this role read it?)"
      )
    }
    if let (table, score) = nearest {
      evidence.append(
        expectedColumns(source).isEmpty
          ? "\(table.qualifiedName) might be its new name, but the source declares no columns to compare (a snapshot would record them)"
          : "closest undeclared table is \(table.qualifiedName), too different to call a rename (score \(Self.format(score)))"
      )
    }
    let radius = tableRadius(source)
    return DriftChange(
      kind: .tableMissing, source: source.displayName, sourceID: source.uniqueID, relation: nil,
      from: source.identifier, to: nil, confidence: 1, breaking: !radius.isEmpty || hasReaders(source),
      evidence: evidence, blastRadius: radius)
  }

  func hasReaders(_ source: SourceTable) -> Bool {
    !(readers[source.uniqueID] ?? []).isEmpty || !(sourceTests[source.uniqueID] ?? [:]).isEmpty
  }

  func tableRenamed(
    source: SourceTable, table: LiveTable, score: Double, alignment: ColumnAligner.Alignment,
    rivals: [(LiveTable, Double)], unclaimedCount: Int
  ) -> [DriftChange] {
    var evidence = [
      "\(source.schema).\(source.identifier) is gone and \(table.qualifiedName), which no source declares, is there instead"
    ]
    var same = 0
    var renamed = 0
    var split = 0
    for match in alignment.matches {
      switch match {
      case .same: same += 1
      case .renamed: renamed += 1
      case .split: split += 1
      }
    }
    let accounted = same + renamed + split
    let expected = expectedColumns(source)
    if !expected.isEmpty {
      var parts = ["\(same) by name"]
      if renamed > 0 { parts.append("\(renamed) renamed") }
      if split > 0 { parts.append("\(split) split") }
      let whose =
        expected.allSatisfy { $0.origin == .declared }
        ? "declared columns" : "columns declared or recorded by the baseline snapshot"
      evidence.append(
        "\(accounted) of \(expected.count) \(whose) are found in \(table.name) (\(parts.joined(separator: ", ")))"
      )
    }
    let entities = EntityMap.from(oldTable: source.identifier, newTable: table.name)
    if !entities.substitutions.isEmpty {
      let words = entities.substitutions.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }
      evidence.append("table name changed its words: \(words.joined(separator: ", "))")
    }
    var confidence = score
    let closeRivals = rivals.filter { $0.1 >= score - 0.1 }
    if closeRivals.isEmpty {
      if unclaimedCount == 1 {
        evidence.append("it is the only undeclared table in \(table.schema)")
        confidence = min(1, confidence + 0.05)
      }
    } else {
      confidence *= 0.8
      let names = closeRivals.map { "\($0.0.qualifiedName) (\(Self.format($0.1)))" }
      evidence.append("nearly as good a match: \(names.joined(separator: ", "))")
    }
    let radius = tableRadius(source)
    let tableChange = DriftChange(
      kind: .tableRenamed, source: source.displayName, sourceID: source.uniqueID,
      relation: table.qualifiedName,
      from: source.identifier, to: .one(table.name), confidence: min(confidence, 0.95),
      breaking: !radius.isEmpty || hasReaders(source), evidence: evidence, blastRadius: radius)
    return [tableChange]
      + columnChanges(
        source: source, table: table, entities: entities, parent: tableChange.id, alignment: alignment)
  }

  func columnChanges(
    source: SourceTable, table: LiveTable, entities: EntityMap, parent: String?,
    alignment given: ColumnAligner.Alignment? = nil
  ) -> [DriftChange] {
    let ordered = expectedColumns(source, live: given == nil ? table : nil)
    // Tokenize the readers' SQL once per table, and only when some change needs it.
    var usages: [(node: GraphNode, usage: ColumnUsage?)]?
    func readerUsagesOnce() -> [(node: GraphNode, usage: ColumnUsage?)] {
      let found = usages ?? readerUsages(source)
      usages = found
      return found
    }
    var alignment: ColumnAligner.Alignment
    if ordered.isEmpty {
      alignment = ColumnAligner.Alignment(
        matches: [], missing: [], added: Array(table.columns.indices), coverage: 0)
    } else {
      alignment =
        given ?? aligner(source: source, expected: ordered, table: table, entities: entities).align()
    }
    // Without a baseline: what the readers read that the table lacks, aligned (by names only: their place
    // is unknown) with the live columns nothing accounts for and no reader reads.
    var expected = ordered
    var namedByReaders = Set<String>()
    let hasReaders = !(readers[source.uniqueID] ?? []).isEmpty
    if hasReaders, baselineTable(source) == nil {
      let (candidates, referenced) = readCandidates(
        source, table: table, expected: ordered, usages: readerUsagesOnce)
      namedByReaders = referenced
      if !candidates.isEmpty {
        expected += candidates
        let pool = alignment.added.filter { !referenced.contains(table.columns[$0].name.lowercased()) }
        let names = aligner(
          source: source, expected: candidates, table: table, entities: entities, liveIndices: pool,
          ordered: false
        ).align()
        let offset = ordered.count
        var taken = Set<Int>()
        for match in names.matches {
          switch match {
          case .renamed(let d, let l, let confidence, let evidence, let kinds):
            alignment.matches.append(
              .renamed(
                declared: d + offset, live: pool[l], confidence: confidence, evidence: evidence, kinds: kinds)
            )
            taken.insert(pool[l])
          case .split(let d, let parts, let confidence, let evidence):
            alignment.matches.append(
              .split(
                declared: d + offset, live: parts.map { pool[$0] }, confidence: confidence, evidence: evidence
              ))
            taken.formUnion(parts.map { pool[$0] })
          case .same: break
          }
        }
        alignment.missing += names.missing.map { $0 + offset }
        alignment.added.removeAll { taken.contains($0) }
      }
    }
    guard !expected.isEmpty else { return [] }
    let reportsAdded = !ordered.isEmpty
    let fromSnapshot = baselineTable(source) != nil
    var changes: [DriftChange] = []
    func make(
      _ kind: ChangeKind, from: String?, to: ChangeTarget?, column: String? = nil, confidence: Double,
      evidence: [String], radiusColumn: String?, breakingIf: Bool = true, kinds: [EvidenceKind]? = nil,
      possibleRename: String? = nil
    ) {
      var evidence = evidence
      var radius = BlastRadius()
      if let radiusColumn {
        let (columnRadius, readerIDs) = columnRadius(source, column: radiusColumn, usages: readerUsagesOnce())
        radius = columnRadius
        if !readerIDs.isEmpty {
          evidence.append("read by \(readerIDs.map(Self.shortName).joined(separator: ", "))")
        }
      }
      var change = DriftChange(
        kind: kind, source: source.displayName, sourceID: source.uniqueID, relation: table.qualifiedName,
        from: from, to: to, column: column, confidence: confidence, breaking: breakingIf && !radius.isEmpty,
        evidence: evidence, parent: parent, blastRadius: radius)
      change.evidenceKinds = kinds
      change.possibleRename = possibleRename
      changes.append(change)
    }
    /// What says the expected column was there: nothing for a declared one (the yml is the contract).
    func provenance(_ column: ExpectedColumn) -> [String] {
      switch column.origin {
      case .declared: return []
      case .snapshot: return ["the baseline snapshot recorded \(column.name) (the yml does not declare it)"]
      case .read:
        return [
          "\(column.readers.map(Self.shortName).joined(separator: ", ")) read\(column.readers.count == 1 ? "s" : "") "
            + "\(column.name) from this source alone; the yml declares no such column and no snapshot "
            + "recorded the table, so that it was a column is inferred from the SQL"
        ]
      }
    }
    for match in alignment.matches.sorted(by: { Self.declaredIndex($0) < Self.declaredIndex($1) }) {
      switch match {
      case .same(let d, let l):
        let column = expected[d]
        let live = table.columns[l]
        guard let expectedType = column.type else { continue }
        let old = types.normalized(expectedType)
        let new = types.normalized(live.dataType)
        guard !old.matches(new) else { continue }
        let crossFamily = old.family != new.family || old.family == .other
        let said =
          column.typeOrigin == .declared
          ? "declared \(expectedType)" : "the baseline snapshot recorded \(expectedType)"
        make(
          .columnTypeChanged, from: expectedType, to: .one(live.dataType), column: live.name, confidence: 1,
          evidence: [
            "\(said), the warehouse says \(live.dataType)"
              + (crossFamily ? "" : " (same family: \(old.family.rawValue); usually safe)")
          ], radiusColumn: column.name, breakingIf: crossFamily)
      case .renamed(let d, let l, let confidence, let evidence, let kinds):
        make(
          .columnRenamed, from: expected[d].name, to: .one(table.columns[l].name),
          confidence: confidence, evidence: provenance(expected[d]) + evidence,
          radiusColumn: expected[d].name,
          kinds: kinds)
      case .split(let d, let parts, let confidence, let evidence):
        make(
          .columnSplit, from: expected[d].name, to: .many(parts.map { table.columns[$0].name }),
          confidence: confidence, evidence: provenance(expected[d]) + evidence, radiusColumn: expected[d].name
        )
      }
    }
    let hints = Dictionary(
      alignment.hints.map { ($0.declared, $0) }, uniquingKeysWith: { first, _ in first })
    for d in alignment.missing.sorted() {
      let column = expected[d]
      let name = column.name
      let confidence = column.origin == .read ? 0.9 : 1
      guard let hint = hints[d] else {
        make(
          .columnMissing, from: name, to: nil, confidence: confidence,
          evidence: provenance(column) + [
            "\(table.qualifiedName) has no column \(name) and none takes its place"
          ],
          radiusColumn: name)
        continue
      }
      let candidate = table.columns[hint.live].name
      make(
        .columnMissing, from: name, to: nil, confidence: confidence,
        evidence: provenance(column) + [
          "\(table.qualifiedName) has no column \(name)",
          "possibly renamed to \(candidate) (position and type only: "
            + hint.evidence.joined(separator: "; ")
            + "); no name or data evidence, so not called a rename",
        ], radiusColumn: name, kinds: hint.kinds, possibleRename: candidate)
    }
    if reportsAdded {
      for l in alignment.added {
        let column = table.columns[l]
        // Without a baseline, "new" only means "not declared": a column a reader names is part of the
        // contract as it stands, not news (one that only flows through a `select *` still is).
        if !fromSnapshot, namedByReaders.contains(column.name.lowercased()) { continue }
        make(
          .columnAdded, from: nil, to: .one(column.name), confidence: 1,
          evidence: [
            fromSnapshot
              ? "\(table.qualifiedName).\(column.name) (\(column.dataType)) is new since the baseline snapshot"
              : "\(table.qualifiedName).\(column.name) (\(column.dataType)) is not declared"
          ],
          radiusColumn: nil, breakingIf: false)
      }
    }
    return changes
  }

  private static func declaredIndex(_ match: ColumnAligner.Match) -> Int {
    switch match {
    case .same(let d, _), .renamed(let d, _, _, _, _), .split(let d, _, _, _): d
    }
  }

  static func shortName(_ uniqueID: String) -> String {
    let parts = uniqueID.split(separator: ".")
    return parts.count >= 3 ? String(parts[2...].joined(separator: ".")) : uniqueID
  }

  static func format(_ value: Double) -> String { Decimal2.format(value) }
}

/// `NormalizedType`s by their spelling, for one diff (single-threaded).
final class TypeCache {
  private var parsed: [String: NormalizedType] = [:]

  func normalized(_ spelling: String) -> NormalizedType {
    if let known = parsed[spelling] { return known }
    let type = NormalizedType(spelling)
    parsed[spelling] = type
    return type
  }
}
