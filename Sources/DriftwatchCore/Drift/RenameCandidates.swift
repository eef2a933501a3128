/// Which unclaimed live tables a missing source is scored against as rename candidates.
///
/// Scoring a pair aligns every declared column with every live one, so scoring every missing source
/// against every undeclared table is quadratic: 20 missing sources in schemas that hold 8,000 undeclared
/// tables would be 160,000 alignments. Up to `exhaustivePairs` pairs everything is scored, as before. Beyond
/// that, each missing source is scored against the `perSource` tables that look most like it on a cheap
/// measure computed from an index of column names: the share of its declared column names the table has
/// (exactly, case-insensitively), the overlap of the table names' words, and the same schema, weighted as
/// the full score weighs coverage, name and schema. A renamed table keeps most of its column names, so it
/// ranks near the top on that measure.
struct RenameCandidates {
  static let exhaustivePairs = 4_096
  static let perSource = 32

  private let tables: [LiveTable]
  private let exhaustive: Bool
  /// Lowercased column name -> indices of the tables that have it.
  private var tablesByColumn: [String: [Int32]] = [:]
  private var nameWords: [Set<String>] = []
  private var schemas: [String] = []

  init(missing: Int, unclaimed: [LiveTable]) {
    tables = unclaimed
    exhaustive = missing * unclaimed.count <= Self.exhaustivePairs
    guard !exhaustive else { return }
    nameWords.reserveCapacity(unclaimed.count)
    schemas.reserveCapacity(unclaimed.count)
    for (index, table) in unclaimed.enumerated() {
      var seen: Set<String> = []
      for column in table.columns {
        let name = column.name.lowercased()
        if seen.insert(name).inserted { tablesByColumn[name, default: []].append(Int32(index)) }
      }
      nameWords.append(Self.words(table.name))
      schemas.append(table.schema.schema.lowercased())
    }
  }

  private static func words(_ name: String) -> Set<String> {
    Set(NameTokens.tokens(name).map(NameTokens.canonical))
  }

  /// The tables to score `source` against, in their original order.
  func candidates(for source: SourceTable) -> [LiveTable] {
    if exhaustive || tables.count <= Self.perSource { return tables }
    var shared = [Int32](repeating: 0, count: tables.count)
    var declared: Set<String> = []
    for column in source.columns where declared.insert(column.name.lowercased()).inserted {
      for index in tablesByColumn[column.name.lowercased()] ?? [] { shared[Int(index)] += 1 }
    }
    let words = Self.words(source.identifier)
    let schema = source.schema.lowercased()
    var ranked: [(score: Double, index: Int)] = []
    ranked.reserveCapacity(tables.count)
    for index in tables.indices {
      let coverage = declared.isEmpty ? 0 : Double(shared[index]) / Double(declared.count)
      let union = words.union(nameWords[index]).count
      let name = union == 0 ? 0 : Double(words.intersection(nameWords[index]).count) / Double(union)
      let sameSchema = schemas[index] == schema ? 1.0 : 0.0
      ranked.append((0.75 * coverage + 0.15 * name + 0.1 * sameSchema, index))
    }
    let best = ranked.sorted { ($0.score, $1.index) > ($1.score, $0.index) }.prefix(Self.perSource)
    return best.map(\.index).sorted().map { tables[$0] }
  }
}
