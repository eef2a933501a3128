/// Warehouse type names, normalized so that declared and live types compare fairly.
public enum TypeFamily: String, Sendable, Codable {
  case string
  case integer
  case decimal
  case float
  case boolean
  case temporal
  case json
  case binary
  case other
}

public struct NormalizedType: Sendable, Hashable, CustomStringConvertible {
  /// Canonical base name (`integer`, `varchar`, `timestamp`, …).
  public var base: String
  /// Parameters as written, without spaces (`12,2`), when given.
  public var parameters: String?
  public var family: TypeFamily

  public var description: String { parameters.map { "\(base)(\($0))" } ?? base }

  private static let aliases: [String: String] = [
    "int": "integer", "int4": "integer", "integer": "integer", "mediumint": "integer",
    "int8": "bigint", "bigint": "bigint", "int64": "bigint", "long": "bigint",
    "int2": "smallint", "smallint": "smallint", "tinyint": "smallint", "byteint": "smallint",
    "numeric": "numeric", "decimal": "numeric", "number": "numeric", "bignumeric": "numeric",
    "float8": "double", "double precision": "double", "double": "double", "float": "double",
    "float64": "double", "float4": "real", "real": "real",
    "text": "text", "string": "text", "varchar": "text", "character varying": "text",
    "nvarchar": "text", "clob": "text", "citext": "text", "char": "char", "character": "char",
    "bpchar": "char", "nchar": "char",
    "bool": "boolean", "boolean": "boolean",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp", "datetime": "timestamp",
    "timestamp_ntz": "timestamp", "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz", "timestamp_tz": "timestamptz", "timestamp_ltz": "timestamptz",
    "date": "date", "time": "time", "time without time zone": "time", "timetz": "timetz",
    "time with time zone": "timetz", "interval": "interval",
    "json": "json", "jsonb": "jsonb", "variant": "json", "object": "json", "super": "json",
    "bytea": "binary", "blob": "binary", "binary": "binary", "varbinary": "binary", "bytes": "binary",
    "uuid": "uuid",
  ]

  private static let families: [String: TypeFamily] = [
    "integer": .integer, "bigint": .integer, "smallint": .integer, "numeric": .decimal,
    "double": .float, "real": .float, "text": .string, "char": .string, "uuid": .string,
    "boolean": .boolean, "timestamp": .temporal, "timestamptz": .temporal, "date": .temporal,
    "time": .temporal, "timetz": .temporal, "interval": .temporal, "json": .json, "jsonb": .json,
    "binary": .binary,
  ]

  public init(_ raw: String) {
    var text = raw.lowercased().trimmingSpaces()
    var parameters: String?
    if let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close {
      let inside = text[text.index(after: open)..<close].filter { $0 != " " }
      parameters = inside.isEmpty ? nil : String(inside)
      text = (String(text[..<open]) + String(text[text.index(after: close)...])).trimmingSpaces()
    }
    text = text.split(separator: " ").joined(separator: " ")
    if text.hasSuffix("[]") || text.hasPrefix("array") {
      self.base = text
      self.parameters = parameters
      self.family = .other
      return
    }
    let base = Self.aliases[text] ?? text
    self.base = base
    // Snowflake's NUMBER(38,0) is an integer; NUMERIC(p,0) reads as one too.
    if base == "numeric", let parameters, parameters.hasSuffix(",0") {
      self.family = .integer
    } else {
      self.family = Self.families[base] ?? .other
    }
    // Length limits on text do not change how downstream SQL reads the column.
    self.parameters = self.family == .string && base == "text" ? nil : parameters
  }

  /// Equal for drift purposes: same base, and same parameters when both sides give them.
  public func matches(_ other: NormalizedType) -> Bool {
    guard base == other.base else { return false }
    guard let lhs = parameters, let rhs = other.parameters else { return true }
    return lhs == rhs
  }
}

extension String {
  func trimmingSpaces() -> String {
    var scalars = Substring(self)
    while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
    while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
    return String(scalars)
  }
}
