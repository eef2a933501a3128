/// SQL text the drafter writes, per dialect: quoted identifiers, string literals, concatenation.
struct SQLDraft {
  var dialect: SQLDialect

  /// Bare when the name is a plain lowercase identifier (uppercase too on Snowflake) and not reserved;
  /// quoted otherwise.
  func identifier(_ name: String) -> String {
    let plain = name.unicodeScalars.enumerated().allSatisfy { index, scalar in
      switch scalar {
      case "a"..."z", "_": true
      case "A"..."Z": dialect == .snowflake
      case "0"..."9": index > 0
      default: false
      }
    }
    if plain && !name.isEmpty && !Self.reserved.contains(name.lowercased()) { return name }
    if dialect == .bigquery {
      // Quoted identifiers take the escapes of string literals.
      return JinjaEscape.text("`" + TextEscape.backslashEscaped(name, quote: "`") + "`")
    }
    return JinjaEscape.text("\"" + name.replacing("\"", with: "\"\"") + "\"")
  }

  /// A string literal; inside a Jinja template (every drafted SQL file is one), so wrapped by
  /// `JinjaEscape.text` when it holds a `{` or a control character.
  func literal(_ value: String) -> String {
    switch dialect {
    case .bigquery, .snowflake, .redshift:
      // Backslash starts an escape in their string literals.
      return JinjaEscape.text("'" + TextEscape.backslashEscaped(value, quote: "'") + "'")
    default:
      return JinjaEscape.text("'" + value.replacing("'", with: "''") + "'")
    }
  }

  /// A `--` comment's text: one line, and no `{` that Jinja could read.
  func comment(_ text: String) -> String {
    JinjaEscape.text(TextEscape.oneLine(text))
  }

  func concat(_ parts: [String]) -> String {
    if parts.count == 1 { return parts[0] }
    if dialect == .bigquery { return "concat(" + parts.joined(separator: ", ") + ")" }
    return parts.joined(separator: " || ")
  }

  func template(_ template: SplitTemplate) -> String {
    concat(
      template.parts.map {
        switch $0 {
        case .column(let name): identifier(name)
        case .literal(let text): literal(text)
        case .unknown: literal("?")  // drafted for review only: an unknown separator is an open question
        }
      })
  }

  /// `case x when 'new' then 'old' … else x end`: rows keep their value when no pair matches.
  func remap(_ expression: String, newToOld pairs: [(new: String, old: String)]) -> String {
    var lines = ["case \(expression)"]
    for pair in pairs { lines.append("    when \(literal(pair.new)) then \(literal(pair.old))") }
    lines.append("    else \(expression)")
    lines.append("end")
    return lines.joined(separator: "\n")
  }

  func cast(_ expression: String, to type: String) -> String { "cast(\(expression) as \(type))" }

  /// Words that cannot be bare column names in common dialects.
  static let reserved: Set<String> = [
    "all", "and", "any", "array", "as", "asc", "between", "both", "by", "case", "cast", "check", "collate",
    "column", "constraint", "create", "cross", "current_date", "current_time", "current_timestamp",
    "current_user", "default", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for",
    "foreign", "from", "full", "grant", "group", "having", "in", "inner", "intersect", "into", "is", "join",
    "lateral", "leading", "left", "like", "limit", "natural", "not", "null", "offset", "on", "only", "or",
    "order", "outer", "primary", "qualify", "references", "right", "select", "session_user", "some", "table",
    "then", "to", "trailing", "true", "union", "unique", "user", "using", "values", "when", "where", "window",
    "with",
  ]
}

/// Finds `{{ source('a', 'b') }}` expressions in a model's SQL, as whole Jinja expressions.
enum SourceCallLocator {
  struct Site {
    /// Byte range of the whole `{{ … }}` expression.
    var range: Range<Int>
    /// Indentation (spaces) of the line the expression starts on.
    var indent: Int
    /// An alias (`as x` or a bare name) follows the expression.
    var aliased: Bool
  }

  /// Sites of `source(sourceName, tableName)` in `sql`; `unrewritable` counts calls that are not a whole
  /// `{{ source(…) }}` expression (inside another call or filter).
  static func sites(in sql: String, sourceName: String, tableName: String) -> (
    sites: [Site], unrewritable: Int
  ) {
    guard let scan = try? JinjaScanner.scan(sql) else { return ([], 0) }
    let bytes = Array(sql.utf8)
    var sites: [Site] = []
    var unrewritable = 0
    for call in scan.sources where call.sourceName == sourceName && call.tableName == tableName {
      guard let site = site(bytes, at: call.offset) else {
        unrewritable += 1
        continue
      }
      sites.append(site)
    }
    return (sites, unrewritable)
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }

  private static func site(_ bytes: [UInt8], at offset: Int) -> Site? {
    // Backwards: whitespace, an optional '-', then '{{'.
    var start = offset - 1
    while start >= 0, isSpace(bytes[start]) { start -= 1 }
    if start >= 0, bytes[start] == UInt8(ascii: "-") { start -= 1 }
    guard start >= 1, bytes[start] == UInt8(ascii: "{"), bytes[start - 1] == UInt8(ascii: "{") else {
      return nil
    }
    start -= 1
    // Forwards: `source`, '(', arguments with quotes, ')', whitespace, optional '-', '}}'.
    var index = offset
    while index < bytes.count, bytes[index] != UInt8(ascii: "(") { index += 1 }
    var depth = 0
    var quote: UInt8?
    while index < bytes.count {
      let byte = bytes[index]
      if let open = quote {
        if byte == UInt8(ascii: "\\") {
          index += 1
        } else if byte == open {
          quote = nil
        }
      } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
        quote = byte
      } else if byte == UInt8(ascii: "(") {
        depth += 1
      } else if byte == UInt8(ascii: ")") {
        depth -= 1
        if depth == 0 { break }
      }
      index += 1
    }
    guard index < bytes.count else { return nil }
    index += 1
    while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "}"), bytes[index + 1] == UInt8(ascii: "}")
    else { return nil }
    let end = index + 2
    // Indentation of the line the expression starts on.
    var lineStart = start
    while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
    var indent = 0
    while lineStart + indent < start, bytes[lineStart + indent] == 0x20 { indent += 1 }
    return Site(range: start..<end, indent: indent, aliased: aliasFollows(bytes, from: end))
  }

  /// Words after a relation that are not an alias.
  static let notAliases: Set<String> = [
    "where", "join", "left", "right", "inner", "full", "cross", "outer", "on", "group", "order", "limit",
    "union", "except", "intersect", "having", "window", "qualify", "natural", "using", "lateral", "offset",
    "fetch", "for", "tablesample", "pivot", "unpivot", "match_recognize", "sample", "minus", "returning",
  ]

  private static func aliasFollows(_ bytes: [UInt8], from start: Int) -> Bool {
    var index = start
    while true {
      while index < bytes.count, isSpace(bytes[index]) { index += 1 }
      // Skip SQL line comments between the relation and what follows.
      if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "-"), bytes[index + 1] == UInt8(ascii: "-") {
        while index < bytes.count, bytes[index] != 0x0A { index += 1 }
        continue
      }
      break
    }
    guard index < bytes.count else { return false }
    let first = bytes[index]
    if first == UInt8(ascii: "\"") || first == UInt8(ascii: "`") { return true }
    var word: [UInt8] = []
    while index < bytes.count {
      let byte = bytes[index]
      let isWord =
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
        || byte == UInt8(ascii: "_")
      guard isWord else { break }
      word.append(byte)
      index += 1
    }
    guard !word.isEmpty else { return false }
    let text = String(decoding: word, as: UTF8.self).lowercased()
    return !notAliases.contains(text)
  }
}
