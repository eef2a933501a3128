/// What the project expects of a source table's columns: the contract a live table is compared with.
///
/// Three sources of truth, strongest first: a baseline snapshot (every column the table had, in physical
/// order, with its type), the yml (declared columns, and declared types, which win over the snapshot's),
/// and the SQL of the source's readers (a name a reader of this source alone reads is a column it expects).
struct ExpectedColumn: Equatable {
  enum Origin: Equatable {
    /// The source's yml declares it.
    case declared
    /// The baseline snapshot recorded it (the yml does not declare it).
    case snapshot
    /// Only the readers' SQL says it: no yml entry, no snapshot.
    case read
  }

  var name: String
  /// The type to compare with: the declared `data_type`, else the snapshot's.
  var type: String?
  /// Where `type` comes from: the yml (`declared`) or the snapshot.
  var typeOrigin: Origin
  var origin: Origin
  /// For `read`: the readers whose SQL reads it (unique ids, sorted).
  var readers: [String] = []
}

extension Context {
  /// The table `source` was in the baseline snapshot, if one was given and recorded it.
  func baselineTable(_ source: SourceTable) -> LiveTable? {
    let candidates = baseline[DriftEngine.key(source.schema, source.identifier)] ?? []
    return candidates.first { $0.name == source.identifier && $0.schema.schema == source.schema }
      ?? candidates.first
  }

  /// The columns compared in order: with a baseline, every column it recorded (physical order; a declared
  /// type wins over the recorded one) and then the declared columns it did not have; without one, the
  /// declared columns, put in the live table's physical order when the yml lists them otherwise.
  func expectedColumns(_ source: SourceTable, live table: LiveTable? = nil) -> [ExpectedColumn] {
    var declaredByName: [String: DeclaredColumn] = [:]
    for column in source.columns where declaredByName[column.name.lowercased()] == nil {
      declaredByName[column.name.lowercased()] = column
    }
    if let recorded = baselineTable(source) {
      var expected: [ExpectedColumn] = recorded.columns.sorted { $0.position < $1.position }.map { column in
        let declared = declaredByName[column.name.lowercased()]
        return ExpectedColumn(
          name: declared?.name ?? column.name, type: declared?.dataType ?? column.dataType,
          typeOrigin: declared?.dataType != nil ? .declared : .snapshot,
          origin: declared != nil ? .declared : .snapshot)
      }
      let recordedNames = Set(recorded.columns.map { $0.name.lowercased() })
      for column in source.columns where !recordedNames.contains(column.name.lowercased()) {
        expected.append(
          ExpectedColumn(name: column.name, type: column.dataType, typeOrigin: .declared, origin: .declared))
      }
      return expected
    }
    let declared = source.columns.map {
      ExpectedColumn(name: $0.name, type: $0.dataType, typeOrigin: .declared, origin: .declared)
    }
    guard let table else { return declared }
    return Self.physicalOrder(declared, live: table)
  }

  /// `columns` with those the live table has in its order; one it lacks stays after the column the yml
  /// lists before it. Unchanged when the yml's order already is the table's.
  static func physicalOrder(_ columns: [ExpectedColumn], live table: LiveTable) -> [ExpectedColumn] {
    var position: [String: Int] = [:]
    for column in table.columns where position[column.name.lowercased()] == nil {
      position[column.name.lowercased()] = column.position
    }
    let present = columns.compactMap { position[$0.name.lowercased()] }
    guard zip(present, present.dropFirst()).contains(where: { $0 >= $1 }) else { return columns }
    // Each absent column follows its yml predecessor that the table has (or leads, when none does).
    var followers: [String: [ExpectedColumn]] = [:]
    var leading: [ExpectedColumn] = []
    var anchor: String?
    var anchored: [ExpectedColumn] = []
    for column in columns {
      if position[column.name.lowercased()] != nil {
        anchor = column.name.lowercased()
        anchored.append(column)
      } else if let anchor {
        followers[anchor, default: []].append(column)
      } else {
        leading.append(column)
      }
    }
    anchored.sort { (position[$0.name.lowercased()] ?? 0) < (position[$1.name.lowercased()] ?? 0) }
    var result = leading
    for column in anchored {
      result.append(column)
      result += followers[column.name.lowercased()] ?? []
    }
    return result
  }

  /// Without a baseline: the names the source's readers read that `table` lacks and `expected` does not
  /// list — columns the SQL expects that are gone. Only readers of this one relation count (a reader of
  /// several cannot say which one a name comes from), only names its `usage` also reads, and a name the
  /// reader defines as an alias before using it is the alias. `referenced`: every name they read.
  /// `usages` is asked only when some name is missing (most checks find every one).
  func readCandidates(
    _ source: SourceTable, table: LiveTable, expected: [ExpectedColumn],
    usages: () -> [(node: GraphNode, usage: ColumnUsage?)]
  ) -> (candidates: [ExpectedColumn], referenced: Set<String>) {
    guard baselineTable(source) == nil else { return ([], []) }
    var known = Set(table.columns.map { $0.name.lowercased() })
    known.formUnion(expected.map { $0.name.lowercased() })
    var referencesByNode: [String: Set<String>] = [:]
    var referenced = Set<String>()
    var absent = false
    for node in readers[source.uniqueID] ?? [] where Set(node.dependsOn) == [source.uniqueID] {
      guard let sql = node.rawCode else { continue }
      let names = ColumnReferences(sql: sql).names
      referencesByNode[node.uniqueID] = names
      referenced.formUnion(names)
      if !absent, names.contains(where: { !known.contains($0) }) { absent = true }
    }
    guard absent else { return ([], referenced) }
    var readers: [String: [String]] = [:]
    for (node, usage) in usages() {
      guard let usage, let names = referencesByNode[node.uniqueID] else { continue }
      for name in names where !known.contains(name) && usage.reads(column: name) {
        readers[name, default: []].append(node.uniqueID)
      }
    }
    let candidates = readers.keys.sorted().map { name in
      ExpectedColumn(
        name: name, type: nil, typeOrigin: .read, origin: .read, readers: (readers[name] ?? []).sorted())
    }
    return (candidates, referenced)
  }
}
