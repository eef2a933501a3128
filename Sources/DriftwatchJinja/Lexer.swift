enum Tok: Equatable {
  case data(String)
  case varBegin
  case varEnd
  case blockBegin
  case blockEnd
  case name(String)
  case int(Int)
  case double(Double)
  case string(String)
  case op(String)
  case eof
}

struct Token {
  var kind: Tok
  var line: Int
}

/// Jinja2's lexer with the environment dbt uses: `{{ }}`, `{% %}`, `{# #}`, `-` whitespace control,
/// `trim_blocks`/`lstrip_blocks` off, newlines normalised to `\n`, one trailing newline dropped.
struct Lexer {
  let bytes: [UInt8]
  let file: String?
  var pos = 0
  var line = 1
  var tokens: [Token] = []

  init(source: String, file: String?) {
    var b: [UInt8] = []
    b.reserveCapacity(source.utf8.count)
    var iterator = source.utf8.makeIterator()
    var pendingCR = false
    while let c = iterator.next() {
      if pendingCR {
        pendingCR = false
        if c == 10 { continue }
      }
      if c == 13 {
        b.append(10)
        pendingCR = true
      } else {
        b.append(c)
      }
    }
    if b.last == 10 { b.removeLast() }
    self.bytes = b
    self.file = file
  }

  func error(_ message: String, line: Int) -> JinjaError {
    JinjaError(.syntax, message, file: file, line: line)
  }

  /// The one-character operators, by byte.
  static let singleOperators: [String?] = {
    var table = [String?](repeating: nil, count: 256)
    for scalar in "+-/*%~[](){}><=.:|,;".unicodeScalars { table[Int(scalar.value)] = String(scalar) }
    return table
  }()

  static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 10 || c == 9 || c == 13 || c == 12 || c == 11 }

  mutating func tokenize() throws -> [Token] {
    var lstripNext = false
    let n = bytes.count
    while pos < n {
      // Find the next tag opening.
      var s = pos
      var found = false
      while s + 1 < n {
        if bytes[s] == UInt8(ascii: "{") {
          let c = bytes[s + 1]
          if c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#") {
            found = true
            break
          }
        }
        s += 1
      }
      if !found { s = n }
      var dataStart = pos
      var dataEnd = s
      let stripBefore = found && s + 2 < n && bytes[s + 2] == UInt8(ascii: "-")
      if lstripNext {
        while dataStart < dataEnd && Lexer.isSpace(bytes[dataStart]) { dataStart += 1 }
      }
      if stripBefore {
        while dataEnd > dataStart && Lexer.isSpace(bytes[dataEnd - 1]) { dataEnd -= 1 }
      }
      let dataLine = line + countNewlines(pos, dataStart)
      if dataEnd > dataStart {
        tokens.append(
          Token(kind: .data(String(decoding: bytes[dataStart..<dataEnd], as: UTF8.self)), line: dataLine))
      }
      line += countNewlines(pos, s)
      pos = s
      lstripNext = false
      if !found { break }
      let kind = bytes[s + 1]
      let tagLine = line
      pos = s + 2
      if pos < n && (bytes[pos] == UInt8(ascii: "-") || bytes[pos] == UInt8(ascii: "+")) { pos += 1 }
      if kind == UInt8(ascii: "#") {
        // Comment: up to `#}`.
        var e = pos
        var closed = false
        while e + 1 < n {
          if bytes[e] == UInt8(ascii: "#") && bytes[e + 1] == UInt8(ascii: "}") {
            closed = true
            break
          }
          e += 1
        }
        if !closed { throw error("missing end of comment tag", line: tagLine) }
        lstripNext = e > pos && bytes[e - 1] == UInt8(ascii: "-")
        line += countNewlines(pos, e)
        pos = e + 2
        continue
      }
      if kind == UInt8(ascii: "%"), let rawEnd = try lexRawIfPresent(tagLine: tagLine) {
        lstripNext = rawEnd
        continue
      }
      let isBlock = kind == UInt8(ascii: "%")
      tokens.append(Token(kind: isBlock ? .blockBegin : .varBegin, line: tagLine))
      lstripNext = try lexTagBody(block: isBlock, tagLine: tagLine)
    }
    tokens.append(Token(kind: .eof, line: line))
    return tokens
  }

  func countNewlines(_ from: Int, _ to: Int) -> Int {
    var count = 0
    var i = from
    while i < to {
      if bytes[i] == 10 { count += 1 }
      i += 1
    }
    return count
  }

  func skipSpaces(_ from: Int) -> Int {
    var i = from
    while i < bytes.count && Lexer.isSpace(bytes[i]) { i += 1 }
    return i
  }

  func matchWord(_ word: String, at i: Int) -> Bool {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count else { return false }
    for k in 0..<w.count where bytes[i + k] != w[k] { return false }
    let after = i + w.count
    return after >= bytes.count || !isNameByte(bytes[after])
  }

  /// `{% raw %}…{% endraw %}`: pos is after `{%` (and its `-`/`+`). Returns whether to strip after, or
  /// nil when the tag is not `raw`.
  mutating func lexRawIfPresent(tagLine: Int) throws -> Bool? {
    var i = skipSpaces(pos)
    guard matchWord("raw", at: i) else { return nil }
    i = skipSpaces(i + 3)
    var stripInside = false
    if i < bytes.count && bytes[i] == UInt8(ascii: "-") {
      stripInside = true
      i += 1
    }
    guard i + 1 < bytes.count && bytes[i] == UInt8(ascii: "%") && bytes[i + 1] == UInt8(ascii: "}") else {
      return nil
    }
    var contentStart = i + 2
    if stripInside { contentStart = skipSpaces(contentStart) }
    // Find `{%[-+]? endraw [-+]?%}`.
    var e = contentStart
    while e + 1 < bytes.count {
      if bytes[e] == UInt8(ascii: "{") && bytes[e + 1] == UInt8(ascii: "%") {
        var j = e + 2
        var stripContentEnd = false
        if j < bytes.count && (bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "+")) {
          stripContentEnd = bytes[j] == UInt8(ascii: "-")
          j += 1
        }
        j = skipSpaces(j)
        if matchWord("endraw", at: j) {
          j = skipSpaces(j + 6)
          var stripAfter = false
          if j < bytes.count && (bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "+")) {
            stripAfter = bytes[j] == UInt8(ascii: "-")
            j += 1
          }
          if j + 1 < bytes.count && bytes[j] == UInt8(ascii: "%") && bytes[j + 1] == UInt8(ascii: "}") {
            var contentEnd = e
            if stripContentEnd {
              while contentEnd > contentStart && Lexer.isSpace(bytes[contentEnd - 1]) { contentEnd -= 1 }
            }
            if contentEnd > contentStart {
              let dataLine = tagLine + countNewlines(pos, contentStart)
              tokens.append(
                Token(
                  kind: .data(String(decoding: bytes[contentStart..<contentEnd], as: UTF8.self)),
                  line: dataLine))
            }
            line += countNewlines(pos, j + 2)
            pos = j + 2
            return stripAfter
          }
        }
      }
      e += 1
    }
    throw error("missing end of raw directive", line: tagLine)
  }

  func isNameByte(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
      || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c >= 0x80
  }

  func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

  /// The tokens of one tag up to its end; returns whether the end was `-%}`/`-}}`.
  mutating func lexTagBody(block: Bool, tagLine: Int) throws -> Bool {
    let n = bytes.count
    var depth = 0
    let closer = block ? UInt8(ascii: "%") : UInt8(ascii: "}")
    while true {
      while pos < n && Lexer.isSpace(bytes[pos]) {
        if bytes[pos] == 10 { line += 1 }
        pos += 1
      }
      guard pos < n else {
        throw error("unexpected end of template, expected '\(block ? "%}" : "}}")'", line: tagLine)
      }
      let c = bytes[pos]
      if depth == 0 {
        var p = pos
        var strip = false
        if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")) && p + 2 < n + 0 && p + 2 <= n - 1 {
          if bytes[p + 1] == closer && bytes[p + 2] == UInt8(ascii: "}") {
            strip = c == UInt8(ascii: "-")
            p += 1
          }
        }
        if p + 1 < n && bytes[p] == closer && bytes[p + 1] == UInt8(ascii: "}") {
          tokens.append(Token(kind: block ? .blockEnd : .varEnd, line: line))
          pos = p + 2
          return strip
        }
      }
      if isDigit(c) {
        tokens.append(Token(kind: try lexNumber(), line: line))
        continue
      }
      if isNameByte(c) {
        let start = pos
        while pos < n && isNameByte(bytes[pos]) { pos += 1 }
        tokens.append(Token(kind: .name(String(decoding: bytes[start..<pos], as: UTF8.self)), line: line))
        continue
      }
      if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
        let startLine = line
        tokens.append(Token(kind: .string(try lexString(quote: c)), line: startLine))
        continue
      }
      if pos + 1 < n {
        let d = bytes[pos + 1]
        var two: String?
        switch (c, d) {
        case (UInt8(ascii: "/"), UInt8(ascii: "/")): two = "//"
        case (UInt8(ascii: "*"), UInt8(ascii: "*")): two = "**"
        case (UInt8(ascii: "="), UInt8(ascii: "=")): two = "=="
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): two = "!="
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): two = ">="
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): two = "<="
        default: two = nil
        }
        if let two {
          tokens.append(Token(kind: .op(two), line: line))
          pos += 2
          continue
        }
      }
      if let op = Lexer.singleOperators[Int(c)] {
        if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") || c == UInt8(ascii: "{") { depth += 1 }
        if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
          if depth == 0 { throw error("unexpected '\(op)'", line: line) }
          depth -= 1
        }
        tokens.append(Token(kind: .op(op), line: line))
        pos += 1
        continue
      }
      let ch = Character(Unicode.Scalar(c))
      throw error("unexpected char '\(ch)'", line: line)
    }
  }

  mutating func lexNumber() throws -> Tok {
    let n = bytes.count
    let start = pos
    let afterDot: Bool = {
      if case .op(".")? = tokens.last?.kind { return true }
      return false
    }()
    if bytes[pos] == UInt8(ascii: "0") && pos + 1 < n
      && [
        UInt8(ascii: "x"), UInt8(ascii: "o"), UInt8(ascii: "b"), UInt8(ascii: "X"), UInt8(ascii: "O"),
        UInt8(ascii: "B"),
      ].contains(bytes[pos + 1])
    {
      let radixChar = bytes[pos + 1] | 0x20
      let radix = radixChar == UInt8(ascii: "x") ? 16 : radixChar == UInt8(ascii: "o") ? 8 : 2
      pos += 2
      let digitsStart = pos
      while pos < n && isNameByte(bytes[pos]) { pos += 1 }
      let text = String(decoding: bytes[digitsStart..<pos], as: UTF8.self).replacingAll("_", "")
      guard let v = Int(text, radix: radix) else { throw error("invalid number", line: line) }
      return .int(v)
    }
    func digits() {
      while pos < n
        && (isDigit(bytes[pos])
          || (bytes[pos] == UInt8(ascii: "_") && pos + 1 < n && isDigit(bytes[pos + 1])))
      {
        pos += 1
      }
    }
    digits()
    var isFloat = false
    if !afterDot && pos + 1 < n && bytes[pos] == UInt8(ascii: ".") && isDigit(bytes[pos + 1]) {
      isFloat = true
      pos += 1
      digits()
    }
    if !afterDot && pos < n && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
      var p = pos + 1
      if p < n && (bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-")) { p += 1 }
      if p < n && isDigit(bytes[p]) {
        isFloat = true
        pos = p
        digits()
      }
    }
    let text = String(decoding: bytes[start..<pos], as: UTF8.self).replacingAll("_", "")
    if isFloat {
      guard let d = Double(text) else { throw error("invalid number '\(text)'", line: line) }
      return .double(d)
    }
    guard let i = Int(text) else { throw error("integer too large '\(text)'", line: line) }
    return .int(i)
  }

  /// A string literal, with Python's `unicode-escape` decoding (as Jinja does).
  mutating func lexString(quote: UInt8) throws -> String {
    let n = bytes.count
    let startLine = line
    pos += 1
    var out: [UInt8] = []
    var scalars = ""
    func flush() {
      if !out.isEmpty {
        scalars += String(decoding: out, as: UTF8.self)
        out.removeAll(keepingCapacity: true)
      }
    }
    while pos < n {
      let c = bytes[pos]
      if c == quote {
        pos += 1
        flush()
        return scalars
      }
      if c == 10 { line += 1 }
      if c == UInt8(ascii: "\\") && pos + 1 < n {
        let e = bytes[pos + 1]
        pos += 2
        switch e {
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "'"): out.append(UInt8(ascii: "'"))
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "a"): out.append(7)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "v"): out.append(11)
        case 10: line += 1
        case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
          let width = e == UInt8(ascii: "x") ? 2 : e == UInt8(ascii: "u") ? 4 : 8
          guard pos + width <= n,
            let v = UInt32(String(decoding: bytes[pos..<pos + width], as: UTF8.self), radix: 16),
            let scalar = Unicode.Scalar(v)
          else { throw error("invalid \\\(Character(Unicode.Scalar(e))) escape in string", line: line) }
          flush()
          scalars.unicodeScalars.append(scalar)
          pos += width
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
          var v = UInt32(e - UInt8(ascii: "0"))
          var k = 0
          while k < 2 && pos < n && bytes[pos] >= UInt8(ascii: "0") && bytes[pos] <= UInt8(ascii: "7") {
            v = v * 8 + UInt32(bytes[pos] - UInt8(ascii: "0"))
            pos += 1
            k += 1
          }
          flush()
          if let scalar = Unicode.Scalar(v) { scalars.unicodeScalars.append(scalar) }
        default:
          out.append(UInt8(ascii: "\\"))
          out.append(e)
        }
        continue
      }
      out.append(c)
      pos += 1
    }
    throw error("unexpected end of string", line: startLine)
  }
}

extension String {
  func replacingAll(_ target: String, _ replacement: String) -> String {
    guard !target.isEmpty else { return self }
    return self.replacing(target, with: replacement)
  }
}
