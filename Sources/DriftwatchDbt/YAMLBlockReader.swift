/// A fast reader for the plain block YAML that dbt projects are written in, giving exactly the `YAMLNode` tree
/// libyaml gives (texts, plain flags, marks), and declining everything else.
///
/// It reads block mappings and sequences (indentless ones too, and compact mappings after `- `), plain,
/// single-quoted and double-quoted scalars on one line, and flow sequences and mappings on one line, with
/// comments anywhere. Anything outside that subset makes it answer `.unsupported` before any tree is
/// returned, and `YAMLLoader` then reads the file with libyaml, which also gives every error message: block
/// scalars (`|`, `>`), scalars over several lines, empty values, anchors, aliases, tags, merge keys, complex
/// keys, directives and document markers, repeated keys, tabs, carriage returns, other control characters
/// and non-ASCII bytes (where columns would count characters, not bytes). libyaml remains the reference:
/// the test suite reads the same files with both and compares the trees.
struct YAMLBlockReader {
  enum Outcome {
    /// The document's root (`nil` for a stream of comments and blank lines).
    case document(YAMLNode?)
    case unsupported
  }

  private struct Unsupported: Error {}

  private let bytes: UnsafeBufferPointer<UInt8>
  /// Where reading is; after `advance()`, the first byte of the next content line's text.
  private var position = 0
  /// 1-based line of `position`, and the offset where that line starts.
  private var line = 1
  private var lineStart = 0
  /// Indentation of the content line at `position`; `nil` at the end.
  private var indent: Int?
  /// Collections open around `position`. Past `NestingLimit.documents` the reader declines, and libyaml's
  /// reading (which stops at the same limit with an error) takes over: the recursion here never runs deep.
  private var depth = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
    // Only printable ASCII, spaces and line feeds: columns are then byte offsets, as libyaml counts them.
    for byte in bytes where byte > 0x7E || (byte < 0x20 && byte != 0x0A) { return .unsupported }
    var reader = YAMLBlockReader(bytes)
    do {
      try reader.advance()
      guard let indent = reader.indent else { return .document(nil) }
      if reader.startsWith("---") || reader.startsWith("...") || reader.byte(0) == UInt8(ascii: "%") {
        return .unsupported
      }
      let root = try reader.blockNode(indent: indent)
      // Only blank and comment lines may follow the root.
      guard reader.indent == nil else { return .unsupported }
      return .document(root)
    } catch {
      return .unsupported
    }
  }

  // MARK: Lines

  private func byte(_ offset: Int) -> UInt8? {
    let at = position + offset
    return at < bytes.count ? bytes[at] : nil
  }

  private func startsWith(_ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    guard position + count <= bytes.count else { return false }
    for offset in 0..<count where bytes[position + offset] != text.utf8Start[offset] { return false }
    return true
  }

  private var mark: YAMLMark { YAMLMark(line: line, column: position - lineStart + 1) }

  private static func isSpace(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: " ") }
  private static func isBreak(_ byte: UInt8?) -> Bool { byte == nil || byte == 0x0A }
  private static func isBlank(_ byte: UInt8?) -> Bool { isSpace(byte) || isBreak(byte) }

  /// Moves to the first content line at or after the current position's line end (or at the next line when
  /// `position` is at a line's start), skipping blank and comment lines; sets `indent`.
  private mutating func advance() throws(Unsupported) {
    while true {
      // At a line's start: measure it.
      var cursor = position
      while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
      if cursor >= bytes.count {
        position = bytes.count
        indent = nil
        return
      }
      if bytes[cursor] == 0x0A || bytes[cursor] == UInt8(ascii: "#") {
        try skipToNextLine(from: cursor)
        continue
      }
      indent = cursor - position
      position = cursor
      return
    }
  }

  /// From `from` (a comment or line break), to the start of the next line.
  private mutating func skipToNextLine(from: Int) throws(Unsupported) {
    var cursor = from
    while cursor < bytes.count, bytes[cursor] != 0x0A { cursor += 1 }
    if cursor < bytes.count {
      position = cursor + 1
      line += 1
      lineStart = position
    } else {
      position = bytes.count
    }
  }

  /// After a value: only spaces and a comment may end the line; then on to the next content line.
  private mutating func endLine() throws(Unsupported) {
    var cursor = position
    var spaced = cursor == lineStart || Self.isSpace(cursor > 0 ? bytes[cursor - 1] : nil)
    while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") {
      cursor += 1
      spaced = true
    }
    if cursor < bytes.count, bytes[cursor] != 0x0A {
      guard bytes[cursor] == UInt8(ascii: "#"), spaced else { throw Unsupported() }
    }
    try skipToNextLine(from: cursor)
    try advance()
  }

  // MARK: Block nodes

  /// The block node at `position`, which starts a content line indented `indent`.
  private mutating func blockNode(indent: Int) throws(Unsupported) -> YAMLNode {
    if isSequenceEntry { return try sequence(indent: indent) }
    if lineHasKey { return try mapping() }
    // A scalar or flow node on a line of its own: may continue on the next lines; leave it to libyaml.
    throw Unsupported()
  }

  private var isSequenceEntry: Bool { byte(0) == UInt8(ascii: "-") && Self.isBlank(byte(1)) }

  /// Whether a `key:` (followed by a space or the line's end) starts at `position`.
  private var lineHasKey: Bool {
    var cursor = position
    guard cursor < bytes.count else { return false }
    let first = bytes[cursor]
    if first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") {
      cursor += 1
      while cursor < bytes.count, bytes[cursor] != first, bytes[cursor] != 0x0A { cursor += 1 }
      guard cursor < bytes.count, bytes[cursor] == first else { return false }
      cursor += 1
      while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
      return cursor < bytes.count && bytes[cursor] == UInt8(ascii: ":")
        && (cursor + 1 >= bytes.count || Self.isBlank(bytes[cursor + 1]))
    }
    while cursor < bytes.count, bytes[cursor] != 0x0A {
      if bytes[cursor] == UInt8(ascii: ":"), cursor + 1 >= bytes.count || Self.isBlank(bytes[cursor + 1]) {
        return true
      }
      if bytes[cursor] == UInt8(ascii: "#"), cursor > position, bytes[cursor - 1] == UInt8(ascii: " ") {
        return false
      }
      cursor += 1
    }
    return false
  }

  /// Enters one more collection; declines past the nesting limit.
  private mutating func enter() throws(Unsupported) {
    depth += 1
    if depth > NestingLimit.documents { throw Unsupported() }
  }

  /// A block mapping whose first key is at `position`; its keys sit at that column.
  private mutating func mapping() throws(Unsupported) -> YAMLNode {
    try enter()
    defer { depth -= 1 }
    let column = position - lineStart
    let start = mark
    var pairs: [YAMLPair] = []
    var keys: Set<String> = []
    while true {
      let keyMark = mark
      let key = try self.key()
      // A repeated key is libyaml's error to report.
      if pairs.count < 16 {
        if pairs.contains(where: { $0.key == key }) { throw Unsupported() }
      } else {
        if pairs.count == 16 { keys = Set(pairs.map(\.key)) }
        guard keys.insert(key).inserted else { throw Unsupported() }
      }
      // After `:` and its spaces.
      while Self.isSpace(byte(0)) { position += 1 }
      let value: YAMLNode
      if Self.isBreak(byte(0)) || byte(0) == UInt8(ascii: "#") {
        // The value is on the next lines: more indented, or an indentless sequence at this column.
        let keyLine = line
        try endLine()
        guard let next = indent, line > keyLine else { throw Unsupported() }
        if next > column {
          value = try blockNode(indent: next)
        } else if next == column, isSequenceEntry {
          value = try sequence(indent: column)
        } else {
          throw Unsupported()
        }
      } else {
        value = try inlineValue()
        try endLine()
        // A more indented line would continue the scalar (or be an error): libyaml decides.
        if let next = indent, next > column { throw Unsupported() }
      }
      pairs.append(YAMLPair(key: key, keyMark: keyMark, value: value))
      guard let next = indent, next == column else {
        if let next = indent, next > column { throw Unsupported() }
        break
      }
      if isSequenceEntry { break }
      guard lineHasKey else { throw Unsupported() }
    }
    return .mapping(pairs, start)
  }

  /// A block sequence whose first `-` is at `position`, the entries' column `indent`.
  private mutating func sequence(indent column: Int) throws(Unsupported) -> YAMLNode {
    try enter()
    defer { depth -= 1 }
    let start = mark
    var items: [YAMLNode] = []
    while true {
      let dashLine = line
      position += 1
      while Self.isSpace(byte(0)) { position += 1 }
      if Self.isBreak(byte(0)) || byte(0) == UInt8(ascii: "#") {
        try endLine()
        guard let next = indent, next > column, line > dashLine else { throw Unsupported() }
        items.append(try blockNode(indent: next))
      } else if isSequenceEntry {
        // `- - x`: leave it to libyaml.
        throw Unsupported()
      } else if lineHasKey {
        items.append(try mapping())
      } else {
        items.append(try inlineValue())
        try endLine()
        if let next = indent, next > column { throw Unsupported() }
      }
      guard let next = indent, next == column, isSequenceEntry else {
        if let next = indent, next > column { throw Unsupported() }
        break
      }
    }
    return .sequence(items, start)
  }

  /// A mapping key at `position` (plain or quoted), consuming it and its `:`.
  private mutating func key() throws(Unsupported) -> String {
    let keyStart = position
    let text: String
    if byte(0) == UInt8(ascii: "'") || byte(0) == UInt8(ascii: "\"") {
      text = try quoted()
      while Self.isSpace(byte(0)) { position += 1 }
    } else {
      guard let first = byte(0), Self.canStartPlain(first, next: byte(1), flow: false) else {
        throw Unsupported()
      }
      let begin = position
      while let current = byte(0), !(current == UInt8(ascii: ":") && Self.isBlank(byte(1))) {
        position += 1
      }
      var end = position
      while end > begin, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
      text = String(decoding: UnsafeBufferPointer(rebasing: bytes[begin..<end]), as: UTF8.self)
      if text == "<<" { throw Unsupported() }
    }
    // libyaml allows implicit keys of up to 1024 characters (and reports longer ones).
    guard byte(0) == UInt8(ascii: ":"), position - keyStart < 1024 else { throw Unsupported() }
    position += 1
    return text
  }

  /// A value that starts and ends on this line: a scalar or a flow collection.
  private mutating func inlineValue() throws(Unsupported) -> YAMLNode {
    switch byte(0) {
    case UInt8(ascii: "["), UInt8(ascii: "{"): return try flowNode()
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      let start = mark
      return .scalar(YAMLScalar(text: try quoted(), plain: false, mark: start))
    default:
      guard let first = byte(0), Self.canStartPlain(first, next: byte(1), flow: false) else {
        throw Unsupported()
      }
      let start = mark
      let begin = position
      var end = position
      while let current = byte(0), current != 0x0A {
        if current == UInt8(ascii: ":"), Self.isBlank(byte(1)) { throw Unsupported() }
        if current == UInt8(ascii: "#"), bytes[position - 1] == UInt8(ascii: " ") { break }
        position += 1
        if current != UInt8(ascii: " ") { end = position }
      }
      position = end
      return .scalar(
        YAMLScalar(
          text: String(decoding: UnsafeBufferPointer(rebasing: bytes[begin..<end]), as: UTF8.self),
          plain: true,
          mark: start))
    }
  }

  /// What may start a plain scalar here (YAML's indicators may not, but `-`, `?` and `:` before a non-space).
  private static func canStartPlain(_ byte: UInt8, next: UInt8?, flow: Bool) -> Bool {
    switch byte {
    case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
      guard let next, next != UInt8(ascii: " "), next != 0x0A else { return false }
      if flow, next == UInt8(ascii: ",") || next == UInt8(ascii: "]") || next == UInt8(ascii: "}") {
        return false
      }
      return byte == UInt8(ascii: "-")
    case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
      UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
      UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
      UInt8(ascii: "`"), UInt8(ascii: " "), 0x0A:
      return false
    default:
      return true
    }
  }

  /// A quoted scalar on one line, unescaped; `position` moves past the closing quote.
  private mutating func quoted() throws(Unsupported) -> String {
    guard let quote = byte(0) else { throw Unsupported() }
    position += 1
    var text: [UInt8] = []
    while true {
      guard let current = byte(0), current != 0x0A else { throw Unsupported() }
      if quote == UInt8(ascii: "'") {
        if current == UInt8(ascii: "'") {
          if byte(1) == UInt8(ascii: "'") {
            text.append(current)
            position += 2
            continue
          }
          position += 1
          break
        }
      } else {
        if current == UInt8(ascii: "\"") {
          position += 1
          break
        }
        if current == UInt8(ascii: "\\") {
          switch byte(1) {
          case UInt8(ascii: "\""): text.append(UInt8(ascii: "\""))
          case UInt8(ascii: "\\"): text.append(UInt8(ascii: "\\"))
          case UInt8(ascii: "/"): text.append(UInt8(ascii: "/"))
          case UInt8(ascii: "n"): text.append(0x0A)
          case UInt8(ascii: "t"): text.append(0x09)
          case UInt8(ascii: "r"): text.append(0x0D)
          default: throw Unsupported()
          }
          position += 2
          continue
        }
      }
      text.append(current)
      position += 1
    }
    return String(decoding: text, as: UTF8.self)
  }

  // MARK: Flow nodes (one line)

  private mutating func flowNode() throws(Unsupported) -> YAMLNode {
    let start = mark
    switch byte(0) {
    case UInt8(ascii: "["):
      try enter()
      defer { depth -= 1 }
      var items: [YAMLNode] = []
      try flowEntries(closedBy: UInt8(ascii: "]")) { (reader) throws(Unsupported) in
        items.append(try reader.flowNode())
      }
      return .sequence(items, start)
    case UInt8(ascii: "{"):
      try enter()
      defer { depth -= 1 }
      var pairs: [YAMLPair] = []
      try flowEntries(closedBy: UInt8(ascii: "}")) { (reader) throws(Unsupported) in
        let keyMark = reader.mark
        let key: String
        if reader.byte(0) == UInt8(ascii: "'") || reader.byte(0) == UInt8(ascii: "\"") {
          key = try reader.quoted()
        } else {
          guard case .scalar(let scalar) = try reader.flowScalar() else { throw Unsupported() }
          key = scalar.text
        }
        if key == "<<" || pairs.contains(where: { $0.key == key }) { throw Unsupported() }
        guard reader.byte(0) == UInt8(ascii: ":"), Self.isSpace(reader.byte(1)) else { throw Unsupported() }
        reader.position += 1
        try reader.skipFlowSpaces()
        pairs.append(YAMLPair(key: key, keyMark: keyMark, value: try reader.flowNode()))
      }
      return .mapping(pairs, start)
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      return .scalar(YAMLScalar(text: try quoted(), plain: false, mark: start))
    default:
      return try flowScalar()
    }
  }

  /// The entries of the flow collection whose opening bracket is at `position`, each read by `entry`, up to
  /// and including `close`: entries separated by `,`, none empty, no `,` before `close`.
  private mutating func flowEntries(
    closedBy close: UInt8, _ entry: (inout YAMLBlockReader) throws(Unsupported) -> Void
  ) throws(Unsupported) {
    position += 1
    try skipFlowSpaces()
    if byte(0) == close {
      position += 1
      return
    }
    while true {
      try entry(&self)
      try skipFlowSpaces()
      if byte(0) == close {
        position += 1
        return
      }
      guard byte(0) == UInt8(ascii: ",") else { throw Unsupported() }
      position += 1
      try skipFlowSpaces()
      if byte(0) == close || byte(0) == UInt8(ascii: ",") { throw Unsupported() }
    }
  }

  /// Spaces inside a flow collection; its end must be on this line.
  private mutating func skipFlowSpaces() throws(Unsupported) {
    while Self.isSpace(byte(0)) { position += 1 }
    if Self.isBreak(byte(0)) || byte(0) == UInt8(ascii: "#") { throw Unsupported() }
  }

  /// A plain scalar inside a flow collection: up to `,`, `]`, `}`, `: ` or a comment.
  private mutating func flowScalar() throws(Unsupported) -> YAMLNode {
    guard let first = byte(0), Self.canStartPlain(first, next: byte(1), flow: true) else {
      throw Unsupported()
    }
    let start = mark
    let begin = position
    var end = position
    while let current = byte(0), current != 0x0A {
      if current == UInt8(ascii: ",") || current == UInt8(ascii: "]") || current == UInt8(ascii: "}")
        || current == UInt8(ascii: "[") || current == UInt8(ascii: "{")
      {
        break
      }
      if current == UInt8(ascii: ":") {
        // `key: value` in a flow mapping; a `:` inside a flow scalar is read differently by libyaml versions.
        guard Self.isSpace(byte(1)) else { throw Unsupported() }
        break
      }
      if current == UInt8(ascii: "#"), bytes[position - 1] == UInt8(ascii: " ") { throw Unsupported() }
      position += 1
      if current != UInt8(ascii: " ") { end = position }
    }
    position = end
    return .scalar(
      YAMLScalar(
        text: String(decoding: UnsafeBufferPointer(rebasing: bytes[begin..<end]), as: UTF8.self), plain: true,
        mark: start))
  }
}
