/// One lexical token of a SQL statement, with the line it is on. Comments and whitespace are not tokens.
public struct SQLToken: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    /// A keyword or unquoted identifier, as written (`text`), compared through `upper`.
    case word
    /// A quoted identifier (`"Name"`, and for SQLite `` `name` `` and `[name]`); `text` is its content.
    case quotedIdentifier
    /// A string literal; `text` is its content.
    case string
    /// A PostgreSQL dollar-quoted body (`$$…$$`, `$tag$…$tag$`); `text` is the body, `bodyLine` its first line.
    case dollarBody
    /// A number.
    case number
    /// A psql meta-command (`\connect db`, `\i file`): a backslash outside quotes, to the end of its line.
    case metaCommand
    /// Any other character (`(`, `,`, `.`, `;`, operators, `$1`).
    case punctuation
  }

  public var kind: Kind
  public var text: String
  public var line: Int
  /// For `.dollarBody` and `.string`: the line the content starts on.
  public var bodyLine: Int

  public init(kind: Kind, text: String, line: Int, bodyLine: Int? = nil) {
    self.kind = kind
    self.text = text
    self.line = line
    self.bodyLine = bodyLine ?? line
  }

  /// `text` uppercased, for keyword comparison.
  public var upper: String { text.uppercased() }

  /// For names: unquoted words fold to lowercase (as PostgreSQL does); quoted identifiers keep their case.
  public var identifier: String? {
    switch kind {
    case .word: text.lowercased()
    case .quotedIdentifier: text
    default: nil
    }
  }

  public func isWord(_ keyword: String) -> Bool { kind == .word && upper == keyword }
}

/// A small SQL lexer: words, quoted identifiers, strings, dollar bodies, numbers and punctuation, with line
/// numbers, skipping comments. It knows the quoting rules of PostgreSQL and SQLite (the same ones
/// `SQLScript` splits by), not SQL grammar: callers look at keywords.
public enum SQLTokenizer {
  /// The tokens of `text`, whose first line is `firstLine` of the file it came from.
  public static func tokens(in text: String, firstLine: Int = 1, dialect: SQLDialect = .postgres)
    -> [SQLToken]
  {
    var lexer = Lexer(bytes: Array(text.utf8), line: firstLine, sqlite: dialect == .sqlite)
    return lexer.run()
  }
}

private struct Lexer {
  let bytes: [UInt8]
  var line: Int
  let sqlite: Bool
  var index = 0
  var tokens: [SQLToken] = []

  init(bytes: [UInt8], line: Int, sqlite: Bool) {
    self.bytes = bytes
    self.line = line
    self.sqlite = sqlite
  }

  mutating func run() -> [SQLToken] {
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case ascii("\n"):
        line += 1
        index += 1
      case ascii(" "), ascii("\t"), ascii("\r"), 0x0B, 0x0C:
        index += 1
      case ascii("-") where peek(1) == ascii("-"):
        while index < bytes.count, bytes[index] != ascii("\n") { index += 1 }
      case ascii("/") where peek(1) == ascii("*"):
        skipBlockComment()
      case ascii("'"):
        let escapes = !sqlite && isEscapePrefix()
        if escapes { tokens.removeLast() }  // the `E` of E'…' is part of the string
        quoted(closing: ascii("'"), kind: .string, backslashEscapes: escapes)
      case ascii("\""):
        quoted(closing: ascii("\""), kind: .quotedIdentifier, backslashEscapes: false)
      case ascii("`") where sqlite:
        quoted(closing: ascii("`"), kind: .quotedIdentifier, backslashEscapes: false)
      case ascii("[") where sqlite:
        quoted(closing: ascii("]"), kind: .quotedIdentifier, backslashEscapes: false)
      case ascii("$") where !sqlite:
        if !dollarQuoted() { punctuation() }
      case ascii("\\"):
        metaCommand()
      default:
        if isIdentifierStart(byte) {
          word()
        } else if isDigit(byte) {
          number()
        } else {
          punctuation()
        }
      }
    }
    return tokens
  }

  private func peek(_ offset: Int) -> UInt8? {
    index + offset < bytes.count ? bytes[index + offset] : nil
  }

  private func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

  private mutating func skipBlockComment() {
    var depth = 0
    while index < bytes.count {
      if bytes[index] == ascii("/"), peek(1) == ascii("*") {
        if depth == 0 || !sqlite { depth += 1 }
        index += 2
      } else if bytes[index] == ascii("*"), peek(1) == ascii("/") {
        depth -= 1
        index += 2
        if depth == 0 { return }
      } else {
        if bytes[index] == ascii("\n") { line += 1 }
        index += 1
      }
    }
  }

  /// The previous token is a lone `E`/`e` written right before this quote.
  private func isEscapePrefix() -> Bool {
    guard let last = tokens.last, last.kind == .word, last.upper == "E", index >= 1 else { return false }
    return bytes[index - 1] == ascii("E") || bytes[index - 1] == ascii("e")
  }

  private mutating func quoted(closing: UInt8, kind: SQLToken.Kind, backslashEscapes: Bool) {
    let startLine = line
    index += 1
    var content: [UInt8] = []
    while index < bytes.count {
      let byte = bytes[index]
      if byte == ascii("\n") { line += 1 }
      if backslashEscapes, byte == ascii("\\"), index + 1 < bytes.count {
        if bytes[index + 1] == ascii("\n") { line += 1 }
        content.append(bytes[index + 1])
        index += 2
        continue
      }
      index += 1
      if byte == closing {
        if index < bytes.count, bytes[index] == closing {
          content.append(closing)
          index += 1
          continue
        }
        break
      }
      content.append(byte)
    }
    tokens.append(
      SQLToken(
        kind: kind, text: String(decoding: content, as: UTF8.self), line: startLine, bodyLine: startLine))
  }

  /// At `$`: a dollar-quoted body becomes one token; returns false for `$1` or a lone `$`.
  private mutating func dollarQuoted() -> Bool {
    var tagEnd = index + 1
    if tagEnd < bytes.count, isIdentifierStart(bytes[tagEnd]) {
      while tagEnd < bytes.count, isIdentifierPart(bytes[tagEnd]), bytes[tagEnd] != ascii("$") { tagEnd += 1 }
    }
    guard tagEnd < bytes.count, bytes[tagEnd] == ascii("$") else { return false }
    let tag = Array(bytes[index...tagEnd])
    let startLine = line
    let bodyStart = tagEnd + 1
    var cursor = bodyStart
    var bodyEnd = bytes.count
    var next = bytes.count
    while cursor < bytes.count {
      if bytes[cursor] == ascii("$"), bytes[cursor...].starts(with: tag) {
        bodyEnd = cursor
        next = cursor + tag.count
        break
      }
      cursor += 1
    }
    for position in index..<bodyEnd where bytes[position] == ascii("\n") { line += 1 }
    tokens.append(
      SQLToken(kind: .dollarBody, text: text(bodyStart..<bodyEnd), line: startLine, bodyLine: startLine))
    index = next
    return true
  }

  private mutating func metaCommand() {
    let start = index
    while index < bytes.count, bytes[index] != ascii("\n") { index += 1 }
    var end = index
    while end > start, bytes[end - 1] == ascii("\r") || bytes[end - 1] == ascii(" ") { end -= 1 }
    tokens.append(SQLToken(kind: .metaCommand, text: text(start..<end), line: line))
  }

  private mutating func word() {
    let start = index
    while index < bytes.count, isIdentifierPart(bytes[index]) { index += 1 }
    tokens.append(SQLToken(kind: .word, text: text(start..<index), line: line))
  }

  private mutating func number() {
    let start = index
    while index < bytes.count,
      isDigit(bytes[index]) || bytes[index] == ascii(".") || bytes[index] == ascii("_")
    {
      index += 1
    }
    tokens.append(SQLToken(kind: .number, text: text(start..<index), line: line))
  }

  private mutating func punctuation() {
    let start = index
    index += 1
    if bytes[start] == ascii("$") {  // a parameter: $1
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    } else {
      // Multi-byte UTF-8 characters that are not letters stay whole.
      while index < bytes.count, bytes[index] & 0xC0 == 0x80 { index += 1 }
    }
    tokens.append(SQLToken(kind: .punctuation, text: text(start..<index), line: line))
  }

  private func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= ascii("a") && byte <= ascii("z")) || (byte >= ascii("A") && byte <= ascii("Z"))
      || byte == ascii("_") || byte >= 0x80
  }

  private func isIdentifierPart(_ byte: UInt8) -> Bool {
    isIdentifierStart(byte) || isDigit(byte) || (!sqlite && byte == ascii("$"))
  }

  private func isDigit(_ byte: UInt8) -> Bool { byte >= ascii("0") && byte <= ascii("9") }
}

private func ascii(_ character: Unicode.Scalar) -> UInt8 { UInt8(ascii: character) }
