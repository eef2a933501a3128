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

  public static func of(_ value: String, cut: Bool = true) -> String {
    var shape = ""
    for scalar in value.unicodeScalars.prefix(cut ? maxLength : Int.max) {
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

  /// Sets the counts a profile statement returned, as every warehouse's profile keeps them: the `topK` most
  /// frequent values and shapes and every shape class, each `ranked`; no classes (nil) when none were
  /// counted (a column of another type than text, or no value).
  public mutating func setCounts(values: [ValueCount], shapes: [ValueCount], classes: [ValueCount], topK: Int)
  {
    topValues = Array(Self.ranked(values).prefix(max(0, topK)))
    topShapes = Array(Self.ranked(shapes).prefix(max(0, topK)))
    shapeClasses = classes.isEmpty ? nil : Self.ranked(classes)
  }
}

/// What kind of text a value is, from its `ValueShape` (of the whole value, not cut): e-mail-shaped,
/// name-shaped (`Aaaa Aaaaa`), a number, a date… The warehouse counts the classes in SQL
/// (`ShapeClass.sqlCase`) so a profile says which share of a column's values is of which class, whatever the
/// number of distinct shapes. `of(shape:)` is the same rule in Swift (tests hold the two equal).
public enum ShapeClass: String, Sendable, Hashable, Codable, CaseIterable {
  case empty
  /// `aaaa.aaaa@aaaa.aaa`: an `@` with text on both sides, a dot after it, no space.
  case email
  /// `aaaa://…` or `aaaaa://…` (http, https, other five-letter schemes).
  case url
  /// 36 characters, dashes at 9, 14, 19 and 24, digits and letters elsewhere.
  case uuid
  /// `9999-99-99`.
  case date
  /// `9999-99-99` then one separator and `99:99`.
  case timestamp
  /// Digits with at most one inner dot and an optional leading minus: `-12.5`, `1234`.
  case number
  /// Digits with spaces, dashes, dots, parentheses or plus signs: phone numbers, codes.
  case digits
  /// Capitalized words: `Aaaa Aaaaa`, `Aaaa-Aaaa`, `A'Aaaa` — names.
  case titleCase = "title_case"
  /// Lowercase letters with spaces, underscores or dashes: `free`, `past_due`.
  case lowercase
  /// Uppercase letters with spaces, underscores or dashes: `US`, `ACTIVE`.
  case uppercase
  case other

  /// How a report names the class.
  public var label: String {
    switch self {
    case .empty: "empty"
    case .email: "e-mail-shaped"
    case .url: "URL-shaped"
    case .uuid: "UUID-shaped"
    case .date: "date-shaped"
    case .timestamp: "timestamp-shaped"
    case .number: "numeric"
    case .digits: "digit-code-shaped"
    case .titleCase: "name-shaped (capitalized words)"
    case .lowercase: "lowercase words"
    case .uppercase: "uppercase codes"
    case .other: "other text"
    }
  }

  /// The class of a value's whole shape (`ValueShape`, not cut at `ValueShape.maxLength`), by unicode
  /// scalars as SQL counts characters.
  public static func of(shape: String) -> ShapeClass {
    let s = Array(shape.unicodeScalars)
    func strip(_ removed: Set<Unicode.Scalar>) -> [Unicode.Scalar] { s.filter { !removed.contains($0) } }
    func starts(_ prefix: String, at offset: Int = 0) -> Bool {
      let p = Array(prefix.unicodeScalars)
      return s.count >= offset + p.count && Array(s[offset..<(offset + p.count)]) == p
    }
    if s.isEmpty { return .empty }
    if like(s, "%_@_%._%"), !like(s, "% %"), !like(s, "%."), !like(s, "%@.%") { return .email }
    if starts("aaaa://") || starts("aaaaa://") { return .url }
    if s.count == 36, strip(["9", "a", "A", "-"]).isEmpty, [8, 13, 18, 23].allSatisfy({ s[$0] == "-" }) {
      return .uuid
    }
    if s == Array("9999-99-99".unicodeScalars) { return .date }
    if starts("9999-99-99"), starts("99:99", at: 11) { return .timestamp }
    let unsigned = s.first == "-" ? Array(s.dropFirst()) : s
    let undotted = unsigned.filter { $0 != "9" }
    if !unsigned.isEmpty, undotted.isEmpty || undotted == ["."], unsigned.first == "9", unsigned.last == "9" {
      return .number
    }
    if strip(["9", "-", " ", "(", ")", "+", "."]).isEmpty, s.contains("9") { return .digits }
    if s.first == "A", !s.contains("9"), !like(s, "%AA%"), strip(["a", "A", " ", "-", "'"]).isEmpty {
      return .titleCase
    }
    if strip(["a", " ", "_", "-"]).isEmpty, s.contains("a") { return .lowercase }
    if strip(["A", " ", "_", "-"]).isEmpty, s.contains("A") { return .uppercase }
    return .other
  }

  /// SQL `LIKE` (`%` any run, `_` one character), case-sensitive.
  static func like(_ s: [Unicode.Scalar], _ pattern: String) -> Bool {
    let p = Array(pattern.unicodeScalars)
    // matches[j]: the first i characters of s match the first j of p (one row per i).
    var row = [Bool](repeating: false, count: p.count + 1)
    row[0] = true
    for j in p.indices where p[j] == "%" { row[j + 1] = row[j] }
    for character in s {
      var next = [Bool](repeating: false, count: p.count + 1)
      for j in p.indices {
        switch p[j] {
        case "%": next[j + 1] = next[j] || row[j + 1]
        case "_": next[j + 1] = row[j]
        default: next[j + 1] = row[j] && p[j] == character
        }
      }
      row = next
    }
    return row[p.count]
  }

  /// The class of a value rendered as text.
  public static func of(value: String) -> ShapeClass {
    of(shape: ValueShape.of(value, cut: false))
  }

  /// The same rule as `of(shape:)` as one SQL `CASE` over `shape`, an SQL expression of a value's whole
  /// shape. Uses only `CASE`, `=`, `<>`, `LIKE` (on non-letters: SQLite's LIKE ignores ASCII case),
  /// `replace`, `substr` and `length`, which PostgreSQL, SQLite, DuckDB and most warehouses share; no
  /// parameters. Evaluate it over a column that holds the shape (a subquery), not over the `translate`
  /// expression itself, which it references many times.
  public static func sqlCase(shape s: String) -> String {
    func strip(_ characters: [String]) -> String {
      characters.reduce(s) { "replace(\($0), '\($1 == "'" ? "''" : $1)', '')" }
    }
    let unsigned = "(CASE WHEN substr(\(s), 1, 1) = '-' THEN substr(\(s), 2) ELSE \(s) END)"
    return """
      CASE WHEN \(s) = '' THEN 'empty' \
      WHEN \(s) LIKE '%_@_%._%' AND \(s) NOT LIKE '% %' AND \(s) NOT LIKE '%.' AND \(s) NOT LIKE '%@.%' THEN 'email' \
      WHEN substr(\(s), 1, 7) = 'aaaa://' OR substr(\(s), 1, 8) = 'aaaaa://' THEN 'url' \
      WHEN length(\(s)) = 36 AND \(strip(["9", "a", "A", "-"])) = '' AND substr(\(s), 9, 1) = '-' \
      AND substr(\(s), 14, 1) = '-' AND substr(\(s), 19, 1) = '-' AND substr(\(s), 24, 1) = '-' THEN 'uuid' \
      WHEN \(s) = '9999-99-99' THEN 'date' \
      WHEN substr(\(s), 1, 10) = '9999-99-99' AND substr(\(s), 12, 5) = '99:99' THEN 'timestamp' \
      WHEN \(unsigned) <> '' AND replace(\(unsigned), '9', '') IN ('', '.') AND substr(\(unsigned), 1, 1) = '9' \
      AND substr(\(unsigned), length(\(unsigned)), 1) = '9' THEN 'number' \
      WHEN \(strip(["9", "-", " ", "(", ")", "+", "."])) = '' AND replace(\(s), '9', '') <> \(s) THEN 'digits' \
      WHEN substr(\(s), 1, 1) = 'A' AND replace(\(s), '9', '') = \(s) AND replace(\(s), 'AA', '') = \(s) \
      AND \(strip(["a", "A", " ", "-", "'"])) = '' THEN 'title_case' \
      WHEN \(strip(["a", " ", "_", "-"])) = '' AND replace(\(s), 'a', '') <> \(s) THEN 'lowercase' \
      WHEN \(strip(["A", " ", "_", "-"])) = '' AND replace(\(s), 'A', '') <> \(s) THEN 'uppercase' \
      ELSE 'other' END
      """
  }
}
