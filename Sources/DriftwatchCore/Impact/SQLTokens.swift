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
  ///
  /// PostgreSQL: `E'…'` strings (and, with `standardConformingStrings` false, as the server then reads them,
  /// plain `'…'` strings too) have their backslash escapes decoded (`\n`, `\x5f`, `\137`, `\u005f`, …);
  /// `U&"…"` and `U&'…'` have their Unicode escapes decoded (also with a `UESCAPE 'c'` clause). A token's
  /// `text` is then what the server sees: `U&"lo\005fexport"` is the identifier `lo_export`.
  ///
  /// `metaCommands`: a backslash outside quotes starts a psql meta-command (a file's top level); false for
  /// code held in a string or body, where it is a character like any other.
  public static func tokens(
    in text: String, firstLine: Int = 1, dialect: SQLDialect = .postgres,
    standardConformingStrings: Bool = true,
    metaCommands: Bool = true
  ) -> [SQLToken] {
    var lexer = Lexer(
      bytes: Array(text.utf8), line: firstLine, sqlite: dialect == .sqlite,
      standardConformingStrings: standardConformingStrings, metaCommands: metaCommands)
    return lexer.run()
  }
}

private struct Lexer {
  let bytes: [UInt8]
  var line: Int
  let sqlite: Bool
  let standardConformingStrings: Bool
  let metaCommands: Bool
  var index = 0
  var tokens: [SQLToken] = []
  /// Tokens written `U&"…"` / `U&'…'`: their index and raw content, decoded once a `UESCAPE` is known.
  var unicodeTokens: [(index: Int, raw: [UInt8])] = []

  init(bytes: [UInt8], line: Int, sqlite: Bool, standardConformingStrings: Bool, metaCommands: Bool) {
    self.bytes = bytes
    self.line = line
    self.sqlite = sqlite
    self.standardConformingStrings = standardConformingStrings
    self.metaCommands = metaCommands
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
        let prefixed = !sqlite && isEscapePrefix()
        if prefixed { tokens.removeLast() }  // the `E` of E'…' is part of the string
        if !sqlite, isUnicodePrefix() {
          unicodeQuoted(closing: ascii("'"), kind: .string)
        } else {
          quoted(
            closing: ascii("'"), kind: .string,
            backslashEscapes: prefixed || (!sqlite && !standardConformingStrings))
        }
      case ascii("\""):
        if !sqlite, isUnicodePrefix() {
          unicodeQuoted(closing: ascii("\""), kind: .quotedIdentifier)
        } else {
          quoted(closing: ascii("\""), kind: .quotedIdentifier, backslashEscapes: false)
        }
      case ascii("`") where sqlite:
        quoted(closing: ascii("`"), kind: .quotedIdentifier, backslashEscapes: false)
      case ascii("[") where sqlite:
        quoted(closing: ascii("]"), kind: .quotedIdentifier, backslashEscapes: false)
      case ascii("$") where !sqlite:
        if !dollarQuoted() { punctuation() }
      case ascii("\\") where metaCommands:
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
    decodeUnicodeTokens()
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

  /// The previous tokens are `U` `&` written right before this quote (`U&"…"`, `U&'…'`); they are dropped.
  private mutating func isUnicodePrefix() -> Bool {
    guard tokens.count >= 2, index >= 2, bytes[index - 1] == ascii("&"),
      bytes[index - 2] == ascii("U") || bytes[index - 2] == ascii("u")
    else { return false }
    let word = tokens[tokens.count - 2]
    guard word.kind == .word, word.upper == "U", tokens[tokens.count - 1].text == "&" else { return false }
    tokens.removeLast(2)
    return true
  }

  /// `U&"…"` or `U&'…'`: read like a plain quoted token, decoded at the end (a `UESCAPE` may follow).
  private mutating func unicodeQuoted(closing: UInt8, kind: SQLToken.Kind) {
    quoted(closing: closing, kind: kind, backslashEscapes: false)
    // Without backslash escapes the content is the raw text, doubled quotes undone.
    unicodeTokens.append((tokens.count - 1, Array(tokens[tokens.count - 1].text.utf8)))
  }

  /// Decodes `U&` tokens with their escape character (`\` or the one `UESCAPE 'c'` names, whose tokens are
  /// dropped).
  private mutating func decodeUnicodeTokens() {
    var dropped: Set<Int> = []
    for (position, raw) in unicodeTokens {
      var escape = ascii("\\")
      if position + 2 < tokens.count, tokens[position + 1].isWord("UESCAPE"),
        tokens[position + 2].kind == .string,
        let character = tokens[position + 2].text.utf8.first, tokens[position + 2].text.utf8.count == 1
      {
        escape = character
        dropped.insert(position + 1)
        dropped.insert(position + 2)
      }
      tokens[position].text = String(decoding: Self.unicodeDecoded(raw, escape: escape), as: UTF8.self)
    }
    if !dropped.isEmpty {
      tokens = tokens.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
    }
  }

  static func unicodeDecoded(_ raw: [UInt8], escape: UInt8) -> [UInt8] {
    var out: [UInt8] = []
    var cursor = 0
    while cursor < raw.count {
      guard raw[cursor] == escape, cursor + 1 < raw.count else {
        out.append(raw[cursor])
        cursor += 1
        continue
      }
      if raw[cursor + 1] == escape {
        out.append(escape)
        cursor += 2
      } else if raw[cursor + 1] == ascii("+"), let scalar = hexScalar(raw, from: cursor + 2, digits: 6) {
        out += Array(String(Character(scalar)).utf8)
        cursor += 8
      } else if let scalar = hexScalar(raw, from: cursor + 1, digits: 4) {
        out += Array(String(Character(scalar)).utf8)
        cursor += 5
      } else {
        out.append(raw[cursor])
        cursor += 1
      }
    }
    return out
  }

  /// The scalar written as exactly `digits` hex digits at `from`, if there are that many and it is valid.
  static func hexScalar(_ raw: [UInt8], from: Int, digits: Int) -> Unicode.Scalar? {
    guard from + digits <= raw.count else { return nil }
    var value: UInt32 = 0
    for byte in raw[from..<(from + digits)] {
      guard let digit = hexValue(byte) else { return nil }
      value = value * 16 + UInt32(digit)
    }
    return Unicode.Scalar(value)
  }

  static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case ascii("0")...ascii("9"): byte - ascii("0")
    case ascii("a")...ascii("f"): byte - ascii("a") + 10
    case ascii("A")...ascii("F"): byte - ascii("A") + 10
    default: nil
    }
  }

  /// A backslash escape of an `E'…'` string at `index` (on the backslash), as PostgreSQL decodes it:
  /// `\b \f \n \r \t`, `\ooo` octal, `\xhh` hex, `\uXXXX`, `\UXXXXXXXX`, else the next character itself.
  /// Returns the bytes and how many input bytes it used.
  private func backslashEscape() -> (bytes: [UInt8], length: Int) {
    let next = bytes[index + 1]
    switch next {
    case ascii("b"): return ([0x08], 2)
    case ascii("f"): return ([0x0C], 2)
    case ascii("n"): return ([0x0A], 2)
    case ascii("r"): return ([0x0D], 2)
    case ascii("t"): return ([0x09], 2)
    case ascii("0")...ascii("7"):
      var value = 0
      var length = 1
      while length <= 3, index + length < bytes.count,
        (ascii("0")...ascii("7")).contains(bytes[index + length])
      {
        value = value * 8 + Int(bytes[index + length] - ascii("0"))
        length += 1
      }
      return ([UInt8(truncatingIfNeeded: value)], length)
    case ascii("x"):
      var value = 0
      var length = 2
      while length <= 3, index + length < bytes.count, let digit = Self.hexValue(bytes[index + length]) {
        value = value * 16 + Int(digit)
        length += 1
      }
      return length == 2 ? ([next], 2) : ([UInt8(truncatingIfNeeded: value)], length)
    case ascii("u"), ascii("U"):
      let digits = next == ascii("u") ? 4 : 8
      let raw = Array(bytes[(index + 2)..<min(bytes.count, index + 2 + digits)])
      if raw.count == digits, let scalar = Self.hexScalar(raw, from: 0, digits: digits) {
        return (Array(String(Character(scalar)).utf8), 2 + digits)
      }
      return ([next], 2)
    default:
      return ([next], 2)
    }
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
        let (decoded, length) = backslashEscape()
        content += decoded
        index += length
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
