/// What the data says, as opposed to the names: column profiles computed in the warehouse,
/// value mappings and split templates. Values only; adapters compute profiles with SQL.

/// One column of one live relation.
public struct ColumnRef: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var schema: SchemaRef
  public var table: String
  public var column: String

  public init(schema: SchemaRef, table: String, column: String) {
    self.schema = schema
    self.table = table
    self.column = column
  }

  public var description: String { "\(schema).\(table).\(column)" }

  public static func < (lhs: ColumnRef, rhs: ColumnRef) -> Bool {
    (lhs.schema, lhs.table, lhs.column) < (rhs.schema, rhs.table, rhs.column)
  }
}

/// A value and how many rows hold it. Values are compared as text, as the warehouse renders them.
public struct ValueCount: Sendable, Hashable, Codable {
  public var value: String
  public var count: Int

  public init(value: String, count: Int) {
    self.value = value
    self.count = count
  }
}

/// Aggregates of one column, computed by the warehouse (never by pulling the table).
public struct ColumnProfile: Sendable, Hashable, Codable {
  public var column: ColumnRef
  public var rowCount: Int
  public var nullCount: Int
  public var distinctCount: Int
  /// The most frequent non-null values, most frequent first, ties by value.
  public var topValues: [ValueCount]
  /// Smallest and largest non-null value in the column type's own order, rendered as text.
  public var minValue: String?
  public var maxValue: String?
  /// Average length, in characters, of the non-null values rendered as text.
  public var averageLength: Double?
  /// The most frequent shapes (`ValueShape`) of the non-null values rendered as text, most frequent first.
  public var topShapes: [ValueCount]?
  /// The counts are estimates scaled from a bounded sample of a large table and the warehouse's statistics,
  /// not exact counts.
  public var estimated: Bool?
  /// How many non-null values (rendered as text) are of each `ShapeClass` (raw value as `value`), most
  /// frequent first; nil when not measured (snapshots before 0.x, columns of non-text types).
  public var shapeClasses: [ValueCount]?
  /// Average absolute value of the numeric values, for columns of a numeric type; nil otherwise.
  public var meanMagnitude: Double?

  public init(
    column: ColumnRef, rowCount: Int, nullCount: Int, distinctCount: Int, topValues: [ValueCount],
    minValue: String? = nil, maxValue: String? = nil, averageLength: Double? = nil,
    topShapes: [ValueCount]? = nil
  ) {
    self.column = column
    self.rowCount = rowCount
    self.nullCount = nullCount
    self.distinctCount = distinctCount
    self.topValues = topValues
    self.minValue = minValue
    self.maxValue = maxValue
    self.averageLength = averageLength
    self.topShapes = topShapes
  }

  /// Nulls out of all rows; 0 for an empty table.
  public var nullFraction: Double { rowCount == 0 ? 0 : Double(nullCount) / Double(rowCount) }

  /// Every distinct non-null value is in `topValues`.
  public var topValuesComplete: Bool { distinctCount <= topValues.count }

  /// Rows that hold a value.
  public var nonNullCount: Int { max(0, rowCount - nullCount) }

  /// The share of the classified values in each `ShapeClass`; empty when none were classified.
  public var shapeShares: [ShapeClass: Double] {
    let counts = (shapeClasses ?? []).compactMap { count in
      ShapeClass(rawValue: count.value).map { ($0, count.count) }
    }
    let total = counts.reduce(0) { $0 + $1.1 }
    guard total > 0 else { return [:] }
    return Dictionary(counts.map { ($0.0, Double($0.1) / Double(total)) }, uniquingKeysWith: +)
  }
}

/// A warehouse that can profile columns with SQL it runs itself. Must not write to the warehouse.
public protocol WarehouseProfiler: Sendable {
  /// Profiles of the given columns; `topK` bounds the frequent values kept per column.
  /// Columns that do not exist are left out of the result rather than failing the call.
  func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile]
}

/// The in-memory twin: profiles given up front.
public struct InMemoryProfiler: WarehouseProfiler {
  public var profiles: [ColumnRef: ColumnProfile]

  public init(profiles: [ColumnProfile]) {
    self.profiles = Dictionary(profiles.map { ($0.column, $0) }, uniquingKeysWith: { first, _ in first })
  }

  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    columns.compactMap { column in
      profiles[column].map { profile in
        var profile = profile
        profile.topValues = Array(profile.topValues.prefix(topK))
        return profile
      }
    }
  }
}

/// One pair of a value remap: rows that held `old` now hold `new`.
public struct ValueMapping: Sendable, Hashable, Codable {
  public var old: String
  /// nil: nothing known to replace it (the old value is gone).
  public var new: String?
  /// How many observations agree with the pair, out of `total`, when measured (keyed samples, counts).
  public var support: Int?
  public var total: Int?

  public init(old: String, new: String?, support: Int? = nil, total: Int? = nil) {
    self.old = old
    self.new = new
    self.support = support
    self.total = total
  }
}

/// How a split column's old value is rebuilt from its parts: `{street}, {city}, {state_code} {postal_code}`.
public struct SplitTemplate: Sendable, Hashable, Codable, CustomStringConvertible {
  public enum Part: Sendable, Hashable, Codable {
    case column(String)
    case literal(String)
    /// A separator nothing shows (no data): shown as `?`, never guessed.
    case unknown
  }

  public var parts: [Part]
  /// Sampled rows the template rebuilds exactly, out of `sampled`, when measured.
  public var matched: Int?
  public var sampled: Int?

  public init(parts: [Part], matched: Int? = nil, sampled: Int? = nil) {
    self.parts = parts
    self.matched = matched
    self.sampled = sampled
  }

  /// The columns joined by `separator`, in order.
  public static func joined(_ columns: [String], separator: String) -> SplitTemplate {
    var parts: [Part] = []
    for (index, column) in columns.enumerated() {
      if index > 0 { parts.append(.literal(separator)) }
      parts.append(.column(column))
    }
    return SplitTemplate(parts: parts)
  }

  /// The columns in order with the separators between them unknown (`{first_name}?{last_name}`): what is
  /// known when no data shows the old values.
  public static func unknownSeparators(_ columns: [String]) -> SplitTemplate {
    var parts: [Part] = []
    for (index, column) in columns.enumerated() {
      if index > 0 { parts.append(.unknown) }
      parts.append(.column(column))
    }
    return SplitTemplate(parts: parts)
  }

  /// Some separator is unknown: the template cannot be used as it is.
  public var hasUnknownSeparators: Bool { parts.contains(.unknown) }

  public var columns: [String] {
    parts.compactMap {
      if case .column(let name) = $0 { return name }
      return nil
    }
  }

  /// `{street}, {city}`: columns in braces, `{{` and `}}` for literal braces.
  public var description: String {
    parts.map {
      switch $0 {
      case .column(let name): "{\(name)}"
      case .unknown: "?"
      case .literal(let text):
        text.reduce(into: "") { out, character in
          out.append(character)
          if character == "{" || character == "}" { out.append(character) }
        }
      }
    }.joined()
  }

  /// Parses the `description` form. Every column named must be in `columns` (case-insensitive) when given.
  public static func parse(_ text: String, columns allowed: [String]? = nil) throws(InputError)
    -> SplitTemplate
  {
    var parts: [Part] = []
    var literal = ""
    var index = text.startIndex
    func flush() {
      if !literal.isEmpty { parts.append(.literal(literal)) }
      literal = ""
    }
    while index < text.endIndex {
      let character = text[index]
      let next = text.index(after: index)
      if character == "{" {
        if next < text.endIndex, text[next] == "{" {
          literal.append("{")
          index = text.index(after: next)
          continue
        }
        guard let close = text[next...].firstIndex(of: "}") else {
          throw InputError("template '\(text)' has a '{' without its '}' (write {{ for a literal brace)")
        }
        let name = String(
          String(text[next..<close]).drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        guard !name.isEmpty else {
          throw InputError("template '\(text)' has an empty {} (name a column in it)")
        }
        var resolved = name
        if let allowed {
          guard let match = allowed.first(where: { $0.lowercased() == name.lowercased() }) else {
            throw InputError(
              "template '\(text)' names column '\(name)', which is not one of \(allowed.joined(separator: ", "))"
            )
          }
          resolved = match
        }
        flush()
        parts.append(.column(resolved))
        index = text.index(after: close)
      } else if character == "}" {
        guard next < text.endIndex, text[next] == "}" else {
          throw InputError("template '\(text)' has a '}' without its '{' (write }} for a literal brace)")
        }
        literal.append("}")
        index = text.index(after: next)
      } else {
        literal.append(character)
        index = next
      }
    }
    flush()
    guard parts.contains(where: { if case .column = $0 { true } else { false } }) else {
      throw InputError("template '\(text)' names no column (write columns in braces: {street}, {city})")
    }
    return SplitTemplate(parts: parts)
  }
}
