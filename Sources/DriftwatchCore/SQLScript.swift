/// One statement of a SQL script, as written, with the line it starts on.
public struct SQLStatement: Sendable, Hashable {
  /// The statement's text from its first token to its end, without the terminating `;` and without the
  /// comments and blank lines before it. Comments inside the statement are kept.
  public var text: String
  /// 1-based line of the statement's first token in the script.
  public var line: Int

  public init(text: String, line: Int) {
    self.text = text
    self.line = line
  }
}

/// Splits SQL scripts (migrations, seeds) into statements.
public enum SQLScript {
  /// The statements of `sql`, split on `;` outside of:
  /// - single-quoted strings (`''` escapes; PostgreSQL `E'…'` strings also honour backslash escapes),
  /// - double-quoted and backquoted identifiers (doubled-quote escapes), and `[…]` identifiers for SQLite,
  /// - `--` line comments and `/* */` block comments (nested, as PostgreSQL allows, except for SQLite),
  /// - PostgreSQL dollar-quoted bodies `$$…$$` and `$tag$…$tag$` (not for SQLite),
  /// - bodies of `CREATE TRIGGER … BEGIN … END` (SQLite) and `CREATE FUNCTION|PROCEDURE … BEGIN ATOMIC … END`
  ///   (PostgreSQL), where `BEGIN`/`CASE` … `END` pairs are counted.
  ///
  /// Empty statements (only whitespace, comments or stray `;`) are dropped. An unterminated string or
  /// comment runs to the end of the script, so the database reports it on the statement's line.
  public static func statements(in sql: String, dialect: SQLDialect = .postgres) -> [SQLStatement] {
    var splitter = Splitter(bytes: Array(sql.utf8), sqlite: dialect == .sqlite)
    return splitter.run()
  }

  /// `statements` without a `BEGIN`/`START TRANSACTION` first and `COMMIT`/`END` last that wrap the whole
  /// script, for runners that already run the script in one transaction. Anything else is left as is.
  public static func removingTransactionWrapper(_ statements: [SQLStatement]) -> [SQLStatement] {
    guard statements.count >= 2, let first = statements.first, let last = statements.last,
      isTransactionStart(first.text), isTransactionEnd(last.text)
    else { return statements }
    return Array(statements.dropFirst().dropLast())
  }

  private static func words(_ text: String) -> [String] {
    text.uppercased().split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).map(
      String.init)
  }

  private static func isTransactionStart(_ text: String) -> Bool {
    let words = words(text)
    let modes: Set<String> = ["DEFERRED", "IMMEDIATE", "EXCLUSIVE"]
    switch words.first {
    case "BEGIN":
      let rest = words.dropFirst().filter { !modes.contains($0) }
      return rest.isEmpty || rest == ["TRANSACTION"] || rest == ["WORK"]
    case "START":
      return words == ["START", "TRANSACTION"]
    default:
      return false
    }
  }

  private static func isTransactionEnd(_ text: String) -> Bool {
    let words = words(text)
    guard words.first == "COMMIT" || words.first == "END" else { return false }
    return words.count == 1 || (words.count == 2 && (words[1] == "TRANSACTION" || words[1] == "WORK"))
  }
}

private struct Splitter {
  let bytes: [UInt8]
  let sqlite: Bool
  var index = 0
  var line = 1
  var statements: [SQLStatement] = []

  // State of the statement being read.
  var start: Int?
  var startLine = 0
  var leadingWords: [String] = []
  var blockDepth = 0

  init(bytes: [UInt8], sqlite: Bool) {
    self.bytes = bytes
    self.sqlite = sqlite
  }

  mutating func run() -> [SQLStatement] {
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case .newline:
        line += 1
        index += 1
      case .space, .tab, .carriageReturn, .formFeed, .verticalTab:
        index += 1
      case .minus where peek(1) == .minus:
        skipLineComment()
      case .slash where peek(1) == .star:
        skipBlockComment()
      case .semicolon where blockDepth == 0:
        finishStatement(end: index)
        index += 1
      default:
        markStart()
        readToken(byte)
      }
    }
    finishStatement(end: bytes.count)
    return statements
  }

  private func peek(_ offset: Int) -> UInt8? {
    index + offset < bytes.count ? bytes[index + offset] : nil
  }

  private mutating func markStart() {
    if start == nil {
      start = index
      startLine = line
    }
  }

  private mutating func finishStatement(end: Int) {
    defer {
      start = nil
      leadingWords = []
      blockDepth = 0
    }
    guard let start else { return }
    var last = end
    while last > start, bytes[last - 1].isWhitespace { last -= 1 }
    guard last > start else { return }
    statements.append(
      SQLStatement(text: String(decoding: bytes[start..<last], as: UTF8.self), line: startLine))
  }

  private mutating func readToken(_ byte: UInt8) {
    switch byte {
    case .singleQuote:
      let backslashEscapes = !sqlite && isEscapeStringPrefix(before: index)
      skipQuoted(closing: .singleQuote, backslashEscapes: backslashEscapes)
    case .doubleQuote:
      skipQuoted(closing: .doubleQuote, backslashEscapes: false)
    case .backquote:
      skipQuoted(closing: .backquote, backslashEscapes: false)
    case .openBracket where sqlite:
      skipQuoted(closing: .closeBracket, backslashEscapes: false)
    case .dollar where !sqlite:
      if !skipDollarQuoted() { index += 1 }
    default:
      if byte.isIdentifierStart {
        readWord()
      } else {
        index += 1
      }
    }
  }

  private mutating func skipLineComment() {
    while index < bytes.count, bytes[index] != .newline { index += 1 }
  }

  private mutating func skipBlockComment() {
    var depth = 0
    while index < bytes.count {
      let byte = bytes[index]
      if byte == .slash, peek(1) == .star {
        if depth == 0 || !sqlite { depth += 1 }
        index += 2
      } else if byte == .star, peek(1) == .slash {
        depth -= 1
        index += 2
        if depth == 0 { return }
      } else {
        if byte == .newline { line += 1 }
        index += 1
      }
    }
  }

  /// Skips from an opening quote at `index` past its closing quote; a doubled closing quote is an escape.
  private mutating func skipQuoted(closing: UInt8, backslashEscapes: Bool) {
    index += 1
    while index < bytes.count {
      let byte = bytes[index]
      if byte == .newline { line += 1 }
      if backslashEscapes, byte == .backslash {
        if peek(1) == .newline { line += 1 }
        index += 2
        continue
      }
      index += 1
      if byte == closing {
        if index < bytes.count, bytes[index] == closing {
          index += 1
        } else {
          return
        }
      }
    }
  }

  /// `E'…'`: an `E` right before the quote that is not the end of a longer word.
  private func isEscapeStringPrefix(before quote: Int) -> Bool {
    guard quote >= 1, bytes[quote - 1] == UInt8(ascii: "E") || bytes[quote - 1] == UInt8(ascii: "e") else {
      return false
    }
    return quote < 2 || !bytes[quote - 2].isIdentifierPart
  }

  /// At a `$`: if it opens a dollar quote, skips the whole quoted body and returns true.
  private mutating func skipDollarQuoted() -> Bool {
    if index > 0, bytes[index - 1].isIdentifierPart { return false }  // part of an identifier like a$b
    var tagEnd = index + 1
    if tagEnd < bytes.count, bytes[tagEnd].isIdentifierStart {
      while tagEnd < bytes.count, bytes[tagEnd].isIdentifierPart, bytes[tagEnd] != .dollar { tagEnd += 1 }
    }
    guard tagEnd < bytes.count, bytes[tagEnd] == .dollar else { return false }  // `$1` or a lone `$`
    let tag = bytes[index...tagEnd]
    var cursor = tagEnd + 1
    while cursor < bytes.count {
      if bytes[cursor] == .dollar, bytes[cursor...].starts(with: tag) {
        countLines(from: index, to: cursor)
        index = cursor + tag.count
        return true
      }
      cursor += 1
    }
    countLines(from: index, to: bytes.count)
    index = bytes.count
    return true
  }

  private mutating func countLines(from: Int, to: Int) {
    for position in from..<to where bytes[position] == .newline { line += 1 }
  }

  private mutating func readWord() {
    let wordStart = index
    while index < bytes.count, bytes[index].isIdentifierPart { index += 1 }
    let word = String(decoding: bytes[wordStart..<index], as: UTF8.self).uppercased()
    if leadingWords.count < 8 { leadingWords.append(word) }
    guard opensBlocks else { return }
    switch word {
    case "BEGIN", "CASE": blockDepth += 1
    case "END": blockDepth = max(0, blockDepth - 1)
    default: break
    }
  }

  /// `CREATE [OR REPLACE] [TEMP|TEMPORARY] [CONSTRAINT] TRIGGER|FUNCTION|PROCEDURE`: bodies may hold `;`.
  private var opensBlocks: Bool {
    guard leadingWords.first == "CREATE" else { return false }
    let modifiers: Set<String> = ["OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT"]
    guard let kind = leadingWords.dropFirst().first(where: { !modifiers.contains($0) }) else { return false }
    return kind == "TRIGGER" || kind == "FUNCTION" || kind == "PROCEDURE"
  }
}

extension UInt8 {
  fileprivate static let newline = UInt8(ascii: "\n")
  fileprivate static let carriageReturn = UInt8(ascii: "\r")
  fileprivate static let space = UInt8(ascii: " ")
  fileprivate static let tab = UInt8(ascii: "\t")
  fileprivate static let formFeed: UInt8 = 0x0C
  fileprivate static let verticalTab: UInt8 = 0x0B
  fileprivate static let minus = UInt8(ascii: "-")
  fileprivate static let slash = UInt8(ascii: "/")
  fileprivate static let star = UInt8(ascii: "*")
  fileprivate static let semicolon = UInt8(ascii: ";")
  fileprivate static let singleQuote = UInt8(ascii: "'")
  fileprivate static let doubleQuote = UInt8(ascii: "\"")
  fileprivate static let backquote = UInt8(ascii: "`")
  fileprivate static let openBracket = UInt8(ascii: "[")
  fileprivate static let closeBracket = UInt8(ascii: "]")
  fileprivate static let dollar = UInt8(ascii: "$")
  fileprivate static let backslash = UInt8(ascii: "\\")

  fileprivate var isWhitespace: Bool {
    self == .space || self == .tab || self == .newline || self == .carriageReturn || self == .formFeed
      || self == .verticalTab
  }

  /// Letters, `_` and any non-ASCII byte (identifiers may hold Unicode letters).
  fileprivate var isIdentifierStart: Bool {
    (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "z"))
      || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z"))
      || self == UInt8(ascii: "_") || self >= 0x80
  }

  fileprivate var isIdentifierPart: Bool {
    isIdentifierStart || (self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9")) || self == .dollar
  }
}
