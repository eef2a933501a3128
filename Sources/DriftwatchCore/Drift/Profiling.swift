/// Helpers shared by the warehouse profilers: which live column a requested `ColumnRef` names, and the
/// shape signature of a value. Pure.

/// The shape of a value rendered as text: ASCII digits become `9`, lowercase ASCII letters `a`, uppercase
/// ASCII letters `A`; everything else (separators, spaces, other scripts) is kept. Cut to `maxLength`
/// characters so that free text does not make every shape unique. `12 Oak St` → `99 Aaa Aa`.
public enum ValueShape {
  public static let maxLength = 32
  /// The characters mapped and what they map to, in the form SQL `translate` takes.
  public static let from = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  public static let to =
    String(repeating: "9", count: 10) + String(repeating: "a", count: 26) + String(repeating: "A", count: 26)

  public static func of(_ value: String) -> String {
    var shape = ""
    for scalar in value.unicodeScalars.prefix(maxLength) {
      switch scalar {
      case "0"..."9": shape.append("9")
      case "a"..."z": shape.append("a")
      case "A"..."Z": shape.append("A")
      default: shape.unicodeScalars.append(scalar)
      }
    }
    return shape
  }
}

extension LiveSchema {
  /// The live table and column a request names: exact names first, then ignoring case (unquoted
  /// identifiers fold in most warehouses). nil when the table or the column does not exist.
  public func resolve(_ ref: ColumnRef) -> (table: LiveTable, column: LiveColumn)? {
    guard let table = resolve(schema: ref.schema, table: ref.table) else { return nil }
    let column =
      table.columns.first { $0.name == ref.column }
      ?? table.columns.first { $0.name.lowercased() == ref.column.lowercased() }
    return column.map { (table, $0) }
  }

  /// The live table a request names: exact name first, then ignoring case.
  public func resolve(schema: SchemaRef, table name: String) -> LiveTable? {
    let candidates = tables.filter { $0.schema == schema }
    return candidates.first { $0.name == name }
      ?? candidates.first { $0.name.lowercased() == name.lowercased() }
  }
}

extension ColumnProfile {
  /// Orders values and shapes as profiles list them: most frequent first, ties by value.
  public static func ranked(_ counts: [ValueCount]) -> [ValueCount] {
    counts.sorted { ($1.count, $0.value) < ($0.count, $1.value) }
  }
}
