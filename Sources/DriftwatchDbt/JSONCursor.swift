#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A forward-only JSON reader over UTF-8 bytes: reads the values asked for and skips the rest without
/// building them. For dbt's manifest (tens of megabytes of which driftwatch needs a few fields per node),
/// this is several times faster than `JSONDecoder`, which materialises every value first.
///
/// Errors carry the path of keys that led to them (`nodes.model.x.name`), like `DecodingError`'s coding path.
struct JSONCursor {
  enum Failure: Error {
    case invalid(path: String)
    case missing(key: String, path: String)
    case unexpected(path: String)
    /// Arrays and objects nested deeper than `NestingLimit.documents`.
    case tooDeep(path: String)

    var description: String {
      switch self {
      case .invalid(let path): return "invalid json near \(path)"
      case .missing(let key, let path): return "missing `\(key)` at \(path)"
      case .unexpected(let path): return "unexpected value at \(path)"
      case .tooDeep(let path): return "json nested deeper than \(NestingLimit.documents) levels at \(path)"
      }
    }
  }

  /// A scalar or anything else, for lenient fields.
  enum Value {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([Value])
    case object([(String, Value)])
  }

  /// An object's key, not decoded: most keys are only compared with a few names (`case "name":`), and a
  /// manifest has millions of them. `string` decodes it when the text itself is needed.
  struct Key {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Between the quotes.
    let start: Int
    let end: Int
    /// Holds a backslash escape, so its bytes are not its text.
    let escaped: Bool

    var string: String {
      guard escaped else {
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
      }
      var reader = JSONCursor(bytes: bytes)
      reader.index = start - 1
      return (try? reader.readStringToken())
        ?? String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    static func ~= (pattern: StaticString, key: Key) -> Bool { key == pattern }

    static func == (key: Key, literal: StaticString) -> Bool {
      if key.escaped { return key.string == literal.description }
      let count = literal.utf8CodeUnitCount
      guard key.end - key.start == count else { return false }
      guard count > 0, let base = key.bytes.baseAddress else { return count == 0 }
      return memcmp(base + key.start, literal.utf8Start, count) == 0
    }
  }

  /// One step of the way to the value being read; decoded only for an error message.
  private enum PathStep {
    case key(Key)
    case item(Int)
    case text(String)

    var text: String {
      switch self {
      case .key(let key): return key.string
      case .item(let position): return "[\(position)]"
      case .text(let text): return text
      }
    }
  }

  let bytes: UnsafeBufferPointer<UInt8>
  private(set) var index = 0
  /// Keys from the top level to the value being read.
  private var steps: [PathStep] = []

  init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  /// A cursor at `index` (the start of a value found earlier), for reading it apart from the rest.
  init(bytes: UnsafeBufferPointer<UInt8>, at index: Int, path: [String]) {
    self.bytes = bytes
    self.index = index
    self.steps = path.map(PathStep.text)
  }

  /// Keys from the top level to the value being read.
  var path: [String] { steps.map(\.text) }

  var pathText: String { steps.isEmpty ? "top level" : path.joined(separator: ".") }

  func invalid() -> Failure { .invalid(path: pathText) }
  func unexpected() -> Failure { .unexpected(path: pathText) }

  // MARK: Tokens

  mutating func skipSpace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x0A, 0x0D, 0x09: index += 1
      default: return
      }
    }
  }

  /// The next byte that is not white space, not consumed.
  mutating func peek() -> UInt8? {
    skipSpace()
    return index < bytes.count ? bytes[index] : nil
  }

  mutating func expect(_ byte: UInt8) throws(Failure) {
    guard peek() == byte else { throw invalid() }
    index += 1
  }

  /// Iterates over an object's members: `body` is called with each key, positioned at its value, and must
  /// consume that value (read or skip it). Throws `unexpected` when the value is not an object.
  mutating func forEachMember(_ body: (inout JSONCursor, Key) throws(Failure) -> Void) throws(Failure) {
    guard try openObject() != nil else { return }
    _ = try readMembers(until: .max, body)
  }

  /// Consumes an object's `{`: the index of its first member's key, or `nil` for `{}` (consumed whole).
  /// Throws `unexpected` when the value is not an object.
  mutating func openObject() throws(Failure) -> Int? {
    guard peek() == UInt8(ascii: "{") else {
      if index < bytes.count { throw unexpected() }
      throw invalid()
    }
    index += 1
    if peek() == UInt8(ascii: "}") {
      index += 1
      return nil
    }
    return index
  }

  /// From a member's key inside an object, reads members as `forEachMember` does until the object closes
  /// (`true`, `index` after its `}`) or the next member's key would start at or after `limit` (`false`,
  /// `index` at that key). At least one member is read.
  mutating func readMembers(until limit: Int, _ body: (inout JSONCursor, Key) throws(Failure) -> Void)
    throws(Failure) -> Bool
  {
    while true {
      guard peek() == UInt8(ascii: "\"") else { throw invalid() }
      let key = try readKey()
      try expect(UInt8(ascii: ":"))
      steps.append(.key(key))
      try body(&self, key)
      steps.removeLast()
      guard let next = peek() else { throw invalid() }
      index += 1
      if next == UInt8(ascii: "}") { return true }
      guard next == UInt8(ascii: ",") else { throw invalid() }
      skipSpace()
      if index >= limit { return false }
    }
  }

  /// Continues after an object read elsewhere (by `ParallelMembers`), which ended just before `index`.
  mutating func moveAfterObject(to index: Int) {
    self.index = index
  }

  /// The first place in `from..<before` that looks like the start of an object member whose key has the shape
  /// of a dbt unique id (`model.pkg.name`: lowercase letters or `_`, a dot, and another dot later) and whose
  /// value is an object, right after another object member: `}, "model.pkg.name": {`. A guess: the member may
  /// belong to a nested object. The quote found is a real one (not inside a string): inside a string, every
  /// quote follows an odd number of backslashes.
  static func likelyMemberStart(in bytes: UnsafeBufferPointer<UInt8>, from: Int, before: Int) -> Int? {
    guard let base = bytes.baseAddress, from < before else { return nil }
    let count = bytes.count
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
    var position = max(from, 1)
    while position < before {
      guard let found = memchr(base + position, Int32(UInt8(ascii: "\"")), before - position) else {
        return nil
      }
      let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
      position = quote + 1
      // After `}` and `,` (spaces allowed), and not escaped.
      var back = quote - 1
      while back >= 0, isSpace(base[back]) { back -= 1 }
      guard back > 0, base[back] == UInt8(ascii: ",") else { continue }
      back -= 1
      while back >= 0, isSpace(base[back]) { back -= 1 }
      guard back >= 0, base[back] == UInt8(ascii: "}") else { continue }
      // The key: `word.` then another dot before the closing quote, no escapes.
      var scan = quote + 1
      while scan < count,
        (base[scan] >= UInt8(ascii: "a") && base[scan] <= UInt8(ascii: "z"))
          || base[scan] == UInt8(ascii: "_")
      {
        scan += 1
      }
      guard scan > quote + 1, scan < count, base[scan] == UInt8(ascii: ".") else { continue }
      var dots = 1
      scan += 1
      while scan < count, base[scan] != UInt8(ascii: "\""), base[scan] != UInt8(ascii: "\\") {
        if base[scan] == UInt8(ascii: ".") { dots += 1 }
        scan += 1
      }
      guard dots >= 2, scan < count, base[scan] == UInt8(ascii: "\"") else { continue }
      // Then `:` and an object.
      scan += 1
      while scan < count, isSpace(base[scan]) { scan += 1 }
      guard scan < count, base[scan] == UInt8(ascii: ":") else { continue }
      scan += 1
      while scan < count, isSpace(base[scan]) { scan += 1 }
      guard scan < count, base[scan] == UInt8(ascii: "{") else { continue }
      return quote
    }
    return nil
  }

  /// Iterates over an array's items: `body` must consume each. Throws `unexpected` when not an array.
  mutating func forEachItem(_ body: (inout JSONCursor) throws(Failure) -> Void) throws(Failure) {
    guard peek() == UInt8(ascii: "[") else {
      if index < bytes.count { throw unexpected() }
      throw invalid()
    }
    index += 1
    if peek() == UInt8(ascii: "]") {
      index += 1
      return
    }
    var position = 0
    while true {
      steps.append(.item(position))
      try body(&self)
      steps.removeLast()
      position += 1
      guard let next = peek() else { throw invalid() }
      index += 1
      if next == UInt8(ascii: "]") { return }
      guard next == UInt8(ascii: ",") else { throw invalid() }
    }
  }

  // MARK: Values

  /// `null` (consumed) gives `true`.
  mutating func readNull() -> Bool {
    guard peek() == UInt8(ascii: "n"), index + 4 <= bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
      bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
    else { return false }
    index += 4
    return true
  }

  /// A string, or `nil` for `null`; anything else throws `unexpected` (after skipping it).
  mutating func readOptionalString() throws(Failure) -> String? {
    if readNull() { return nil }
    guard peek() == UInt8(ascii: "\"") else {
      try skipValue()
      throw unexpected()
    }
    return try readStringToken()
  }

  mutating func readString() throws(Failure) -> String {
    guard let text = try readOptionalString() else { throw unexpected() }
    return text
  }

  /// A string, or `nil` for anything else (consumed either way): for fields read leniently.
  mutating func readLenientString() throws(Failure) -> String? {
    guard peek() == UInt8(ascii: "\"") else {
      try skipValue()
      return nil
    }
    return try readStringToken()
  }

  /// A list of strings, or `nil` when the value is not one (consumed either way).
  mutating func readLenientStringList() throws(Failure) -> [String]? {
    guard peek() == UInt8(ascii: "[") else {
      try skipValue()
      return nil
    }
    var items: [String] = []
    var valid = true
    try forEachItem { (cursor: inout JSONCursor) throws(Failure) in
      if let text = try cursor.readLenientString() { items.append(text) } else { valid = false }
    }
    return valid ? items : nil
  }

  /// Any value, built. Recurses once per level of nesting, up to `NestingLimit.documents` levels from the
  /// top of the document (each level adds a step to the path).
  mutating func readValue() throws(Failure) -> Value {
    guard let byte = peek() else { throw invalid() }
    if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "["), steps.count >= NestingLimit.documents {
      // The first steps name the place; the rest would make the message as long as the input.
      let shown = steps.prefix(8).map(\.text).joined(separator: ".")
      throw .tooDeep(path: shown + (steps.count > 8 ? "…" : ""))
    }
    switch byte {
    case UInt8(ascii: "\""): return .string(try readStringToken())
    case UInt8(ascii: "{"):
      var members: [(String, Value)] = []
      try forEachMember { (cursor: inout JSONCursor, key: Key) throws(Failure) in
        members.append((key.string, try cursor.readValue()))
      }
      return .object(members)
    case UInt8(ascii: "["):
      var items: [Value] = []
      try forEachItem { (cursor: inout JSONCursor) throws(Failure) in items.append(try cursor.readValue()) }
      return .array(items)
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      let literal = readLiteral()
      switch literal {
      case "true": return .bool(true)
      case "false": return .bool(false)
      case "null": return .null
      default: throw invalid()
      }
    default:
      let literal = readLiteral()
      guard !literal.isEmpty else { throw invalid() }
      return .number(literal)
    }
  }

  /// `true`/`false`, or `nil` for anything else (consumed either way).
  mutating func readLenientBool() throws(Failure) -> Bool? {
    guard let byte = peek(), byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f") else {
      try skipValue()
      return nil
    }
    switch readLiteral() {
    case "true": return true
    case "false": return false
    default: throw invalid()
    }
  }

  private mutating func readLiteral() -> String {
    let start = index
    while index < bytes.count {
      switch bytes[index] {
      case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: break
      default:
        index += 1
        continue
      }
      break
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }

  /// The key at `index` (which holds its opening quote), not decoded.
  private mutating func readKey() throws(Failure) -> Key {
    let start = index + 1
    let escaped = try skipStringReportingEscapes(detect: true)
    return Key(bytes: bytes, start: start, end: index - 1, escaped: escaped)
  }

  /// The string at `index` (which holds its opening quote), unescaped.
  private mutating func readStringToken() throws(Failure) -> String {
    index += 1
    let start = index
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        index += 1
        return text
      }
      if byte == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
      index += 1
    }
    throw invalid()
  }

  private mutating func readEscapedString(from start: Int) throws(Failure) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(index - start + 64)
    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        index += 1
        return String(decoding: output, as: UTF8.self)
      }
      guard byte == UInt8(ascii: "\\") else {
        output.append(byte)
        index += 1
        continue
      }
      guard index + 1 < bytes.count else { throw invalid() }
      let escape = bytes[index + 1]
      index += 2
      switch escape {
      case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
      case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
      case UInt8(ascii: "/"): output.append(UInt8(ascii: "/"))
      case UInt8(ascii: "b"): output.append(0x08)
      case UInt8(ascii: "f"): output.append(0x0C)
      case UInt8(ascii: "n"): output.append(0x0A)
      case UInt8(ascii: "r"): output.append(0x0D)
      case UInt8(ascii: "t"): output.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try readHex4()
        if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
          bytes[index + 1] == UInt8(ascii: "u")
        {
          index += 2
          let low = try readHex4()
          if (0xDC00..<0xE000).contains(low) {
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else {
            // A lone high surrogate followed by another escape: keep the second one as it is.
            output.append(contentsOf: Array(String(Unicode.Scalar(0xFFFD) ?? "?").utf8))
            scalar = low
          }
        }
        let character = Unicode.Scalar(scalar) ?? Unicode.Scalar(0xFFFD) ?? "?"
        output.append(contentsOf: Array(String(character).utf8))
      default:
        throw invalid()
      }
    }
    throw invalid()
  }

  private mutating func readHex4() throws(Failure) -> UInt32 {
    guard index + 4 <= bytes.count else { throw invalid() }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[index]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw invalid()
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  /// Skips one value of any kind, checking only what it must to find its end.
  mutating func skipValue() throws(Failure) {
    guard let first = peek() else { throw invalid() }
    if first != UInt8(ascii: "{") && first != UInt8(ascii: "[") {
      if first == UInt8(ascii: "\"") {
        try skipString()
      } else if readLiteral().isEmpty {
        throw invalid()
      }
      return
    }
    var depth = 0
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "\""):
        try skipString()
        continue
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if depth == 0 {
          index += 1
          return
        }
      default:
        break
      }
      index += 1
    }
    throw invalid()
  }

  private mutating func skipString() throws(Failure) { _ = try skipStringReportingEscapes(detect: false) }

  /// Moves past the string at `index` (its opening quote); says whether it held an escape. Finds each quote
  /// with `memchr` (long SQL bodies are most of a manifest's bytes) and counts the backslashes before it.
  /// Escapes are looked for only when `detect` is set; otherwise the answer is meaningless.
  private mutating func skipStringReportingEscapes(detect: Bool) throws(Failure) -> Bool {
    guard let base = bytes.baseAddress else { throw invalid() }
    let start = index + 1
    var from = start
    var escaped = false
    while from < bytes.count {
      guard let found = memchr(base + from, Int32(UInt8(ascii: "\"")), bytes.count - from) else { break }
      let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
      var backslashes = 0
      while quote - backslashes - 1 >= start, base[quote - backslashes - 1] == UInt8(ascii: "\\") {
        backslashes += 1
      }
      if backslashes > 0 { escaped = true }
      if backslashes % 2 == 0 {
        if detect, !escaped, memchr(base + start, Int32(UInt8(ascii: "\\")), quote - start) != nil {
          escaped = true
        }
        index = quote + 1
        return escaped
      }
      from = quote + 1
    }
    index = bytes.count
    throw invalid()
  }

}
