/// Finds dbt's `ref()`, `source()` and `config()` calls in a Jinja template without rendering it.
///
/// What it reads:
/// - calls inside `{{ … }}` expressions and `{% … %}` statements, with any whitespace control
///   (`{{-`, `-}}`, `{%-`, `+%}`, …), across lines;
/// - `ref('m')`, `ref("m")`, `ref('pkg', 'm')`, `ref('m', v=2)`, `ref('m', version='2')`, `source('s', 't')`;
/// - `config(...)`'s literal `enabled=`, `materialized=` and `tags=` arguments;
/// - `{% snapshot name %}…{% endsnapshot %}` (and `test`, `macro`, `materialization`) blocks, with their spans.
///
/// What it skips: `{# … #}` comments, `{% raw %}…{% endraw %}` blocks, and anything inside string literals.
///
/// It does not evaluate control flow: refs in both branches of `{% if %}` / `{% else %}` (and inside
/// `{% if execute %}`, inside macros defined in the file, inside loops) are all counted. That is
/// conservative: the scan can list a dependency dbt would not record, never miss a literal one. Calls
/// whose arguments are not literals (`ref(var('m'))`, `ref('a' ~ 'b')`) cannot be resolved without
/// rendering; they are reported in `dynamicCalls` instead. Refs made by macros the template calls are
/// invisible to it.
///
/// Cost: one forward pass over the UTF-8 bytes; no regular expressions, no backtracking. Every byte is
/// consumed once, so the time is linear in the size of the text.
public enum JinjaScanner {
  /// Scans a Jinja template (a model, snapshot, test or analysis `.sql` file).
  public static func scan(_ text: String) throws(JinjaScanError) -> JinjaScan {
    try run(text, mode: .template)
  }

  /// Scans a bare Jinja expression, as dbt writes them in YAML: `ref('orders')`, `source('acme', 'users')`.
  /// Calls are found anywhere in the text; no `{{ }}` is needed.
  public static func scanExpression(_ text: String) throws(JinjaScanError) -> JinjaScan {
    try run(text, mode: .expression)
  }

  /// Scans a dbt Python model for `dbt.ref(…)`, `dbt.source(…)` and `dbt.config(…)` calls, skipping
  /// `#` comments and string literals.
  public static func scanPython(_ text: String) throws(JinjaScanError) -> JinjaScan {
    try run(text, mode: .python)
  }

  private static func run(_ text: String, mode: ScanMode) throws(JinjaScanError) -> JinjaScan {
    var copy = text
    let outcome = copy.withUTF8 { bytes -> Result<JinjaScan, JinjaScanError> in
      var engine = ScanEngine(bytes: bytes)
      do throws(JinjaScanError) {
        switch mode {
        case .template: try engine.scanTemplate()
        case .expression: try engine.scanExpressionText()
        case .python: try engine.scanPythonText()
        }
      } catch {
        return .failure(error)
      }
      return .success(engine.result)
    }
    return try outcome.get()
  }
}

/// What `JinjaScanner` found in one text. Offsets are UTF-8 byte offsets; lines are 1-based.
public struct JinjaScan: Sendable, Hashable {
  /// A literal `ref(…)` call.
  public struct Ref: Sendable, Hashable {
    /// The package of a two-argument `ref('package', 'model')`.
    public var package: String?
    public var name: String
    /// `v=` / `version=`, as written (`2`, `'2'` and `2.0` stay distinct only in their spelling).
    public var version: String?
    public var line: Int
    public var offset: Int

    public init(package: String? = nil, name: String, version: String? = nil, line: Int, offset: Int = 0) {
      self.package = package
      self.name = name
      self.version = version
      self.line = line
      self.offset = offset
    }
  }

  /// A literal `source('source_name', 'table_name')` call.
  public struct Source: Sendable, Hashable {
    public var sourceName: String
    public var tableName: String
    public var line: Int
    public var offset: Int

    public init(sourceName: String, tableName: String, line: Int, offset: Int = 0) {
      self.sourceName = sourceName
      self.tableName = tableName
      self.line = line
      self.offset = offset
    }
  }

  /// A `config(…)` call's literal arguments (non-literal ones are left out).
  public struct Config: Sendable, Hashable {
    public var enabled: Bool?
    public var materialized: String?
    public var tags: [String]
    public var line: Int
    public var offset: Int
    /// What the call sets that the scan cannot read: `enabled`, `tags`, `materialized` given as expressions,
    /// or `a dict` for a positional argument (`config({"tags": [...]})`). Empty when all of it was read.
    public var unreadable: [String] = []
  }

  /// A call of any other function or macro in code: `simple_cte(…)`, `dbt_utils.star(…)`, `adapter.dispatch(…)`
  /// (filters, tests and methods of names bound in the file are calls too when they are written `x.y(…)`;
  /// `| lower(…)` and `is divisibleby(…)` are not).
  public struct Call: Sendable, Hashable {
    /// As written, dotted: `simple_cte`, `dbt_utils.star`, `adapter.dispatch`.
    public var name: String
    public var line: Int
    public var offset: Int
    /// For `adapter.dispatch('name', 'namespace')`: the literal macro name and namespace, when literal.
    public var dispatchName: String?
    public var dispatchNamespace: String?
  }

  /// A `{% snapshot name %}` (or `test`, `macro`, `materialization`) block.
  public struct Block: Sendable, Hashable {
    public var kind: String
    public var name: String
    public var line: Int
    /// Byte offsets of the text between the opening and the closing tags (`endIndex` excluded).
    /// `nil` when the block is never closed.
    public var contentStart: Int
    public var contentEnd: Int?
  }

  /// A `ref`/`source` call whose arguments are not all literals, or are of the wrong number.
  public struct DynamicCall: Sendable, Hashable {
    public var function: String
    public var line: Int
    public var offset: Int
  }

  public var refs: [Ref] = []
  public var sources: [Source] = []
  public var configs: [Config] = []
  public var blocks: [Block] = []
  public var dynamicCalls: [DynamicCall] = []
  /// Other calls (see `Call`), in order.
  public var calls: [Call] = []
  /// `ref`, `source` and `config` calls under a condition that is not a literal (`{% if target.name … %}`,
  /// `… if … else …`): the scan follows every branch, dbt only the one taken.
  public var conditionalCalls: [DynamicCall] = []
  /// Names bound in the text: `{% set x %}`, `{% for a, b in … %}`, macro and test parameters, macro names.
  /// In order of appearance, possibly repeated.
  public var boundNames: [String] = []

  public init() {}

  /// The last literal `enabled=` among the `config()` calls, `nil` when none sets it.
  public var enabled: Bool? { configs.compactMap(\.enabled).last }
  /// The last literal `materialized=` among the `config()` calls.
  public var materialized: String? { configs.compactMap(\.materialized).last }
  /// Every literal tag of every `config()` call, in order of appearance.
  public var tags: [String] { configs.flatMap(\.tags) }
}

/// A template `JinjaScanner` cannot read: an opening delimiter that is never closed.
public struct JinjaScanError: UserFacingError, Equatable {
  public enum Kind: String, Sendable, Hashable {
    case unterminatedExpression
    case unterminatedStatement
    case unterminatedComment
    case unterminatedRawBlock
    case unterminatedString
  }

  public var kind: Kind
  /// The line of the opening delimiter, 1-based.
  public var line: Int

  public init(kind: Kind, line: Int) {
    self.kind = kind
    self.line = line
  }

  public var message: String {
    switch kind {
    case .unterminatedExpression:
      return "unterminated `{{` opened on line \(line): close it with `}}`"
    case .unterminatedStatement:
      return "unterminated `{%` opened on line \(line): close it with `%}`"
    case .unterminatedComment:
      return "unterminated `{#` comment opened on line \(line): close it with `#}`"
    case .unterminatedRawBlock:
      return "unterminated `{% raw %}` block opened on line \(line): close it with `{% endraw %}`"
    case .unterminatedString:
      return "unterminated string literal opened on line \(line): close the quote"
    }
  }
}

// MARK: - Engine

private enum ScanMode {
  case template
  case expression
  case python
}

private enum Byte {
  static let openBrace = UInt8(ascii: "{")
  static let closeBrace = UInt8(ascii: "}")
  static let openParen = UInt8(ascii: "(")
  static let closeParen = UInt8(ascii: ")")
  static let openBracket = UInt8(ascii: "[")
  static let closeBracket = UInt8(ascii: "]")
  static let percent = UInt8(ascii: "%")
  static let hash = UInt8(ascii: "#")
  static let minus = UInt8(ascii: "-")
  static let plus = UInt8(ascii: "+")
  static let singleQuote = UInt8(ascii: "'")
  static let doubleQuote = UInt8(ascii: "\"")
  static let backslash = UInt8(ascii: "\\")
  static let comma = UInt8(ascii: ",")
  static let equals = UInt8(ascii: "=")
  static let dot = UInt8(ascii: ".")
  static let newline = UInt8(ascii: "\n")
  static let underscore = UInt8(ascii: "_")

  static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C || byte == 0x0B
  }

  static func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == underscore
  }

  static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  static func isIdentifierPart(_ byte: UInt8) -> Bool { isIdentifierStart(byte) || isDigit(byte) }
}

/// How a code region ends.
private enum RegionEnd {
  /// `}}`
  case expression
  /// `%}`
  case statement
  /// The end of the text.
  case endOfText
}

/// A literal (or not) call argument.
private enum ArgumentValue {
  case string(String)
  case number(String)
  case name(String)
  case list([String])
  case other
}

private struct Argument {
  var keyword: String?
  var value: ArgumentValue
}

private struct ScanEngine {
  let bytes: UnsafeBufferPointer<UInt8>
  var result = JinjaScan()
  private var lineCursor = 0
  private var lineAtCursor = 1
  /// Open `{% snapshot %}`-like blocks: index into `result.blocks`.
  private var openBlocks: [Int] = []
  /// Open `{% if %}` chains: whether each one's conditions so far are all literals.
  private var ifFrames: [Bool] = []
  /// How many of `ifFrames` have a condition that is not a literal.
  private var dynamicIfs = 0
  /// An inline `if` was met in the current region: its calls are conditional.
  private var regionHasIf = false

  /// `bytes.count`, stored: a computed property read inside a mutating method copies the whole engine in a
  /// debug build (its arrays retained and released), on every byte of a loop.
  let count: Int

  init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    self.count = bytes.count
  }

  // MARK: Lines

  /// Line of `offset`. Offsets asked for must not decrease (the cursor only moves forward).
  mutating func line(at offset: Int) -> Int {
    if offset < lineCursor { return Self.lineFromStart(bytes, offset) }
    var index = lineCursor
    var line = lineAtCursor
    while index < offset && index < count {
      if bytes[index] == Byte.newline { line += 1 }
      index += 1
    }
    lineCursor = index
    lineAtCursor = line
    return line
  }

  static func lineFromStart(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
    var line = 1
    var index = 0
    while index < offset && index < bytes.count {
      if bytes[index] == Byte.newline { line += 1 }
      index += 1
    }
    return line
  }

  func errorAt(_ offset: Int, _ kind: JinjaScanError.Kind) -> JinjaScanError {
    JinjaScanError(kind: kind, line: Self.lineFromStart(bytes, offset))
  }

  // MARK: Template

  mutating func scanTemplate() throws(JinjaScanError) {
    var index = 0
    while index < count {
      guard bytes[index] == Byte.openBrace, index + 1 < count else {
        index += 1
        continue
      }
      switch bytes[index + 1] {
      case Byte.openBrace:
        index = try scanRegion(from: index + 2, end: .expression, openedAt: index)
      case Byte.percent:
        index = try scanStatement(openedAt: index)
      case Byte.hash:
        index = try skipComment(openedAt: index)
      default:
        index += 1
      }
    }
    // Blocks never closed keep `contentEnd == nil`.
  }

  mutating func scanExpressionText() throws(JinjaScanError) {
    _ = try scanRegion(from: 0, end: .endOfText, openedAt: 0)
  }

  private mutating func skipComment(openedAt open: Int) throws(JinjaScanError) -> Int {
    var index = open + 2
    while index + 1 < count {
      if bytes[index] == Byte.hash && bytes[index + 1] == Byte.closeBrace { return index + 2 }
      index += 1
    }
    throw errorAt(open, .unterminatedComment)
  }

  /// `{% … %}`: note the tag name, handle `raw` and block tags, and scan the rest as code.
  private mutating func scanStatement(openedAt open: Int) throws(JinjaScanError) -> Int {
    var index = open + 2
    if index < count && (bytes[index] == Byte.minus || bytes[index] == Byte.plus) { index += 1 }
    index = skipSpaces(from: index)
    let tagStart = index
    let tagEnd = identifierEnd(from: index)
    let tag = tagEnd > tagStart ? string(tagStart, tagEnd) : ""
    var nameInfo: (name: String, line: Int)?
    var regionStart = tagEnd
    if ["snapshot", "test", "macro", "materialization"].contains(tag) {
      let nameStart = skipSpaces(from: tagEnd)
      let nameEnd = identifierEnd(from: nameStart)
      if nameEnd > nameStart {
        nameInfo = (string(nameStart, nameEnd), line(at: nameStart))
        regionStart = nameEnd
      }
    }
    let end = try scanRegion(from: regionStart, end: .statement, openedAt: open)
    switch tag {
    case "set", "for", "macro", "test", "call":
      bindNames(from: tagEnd, to: end, tag: tag)
    default:
      break
    }
    switch tag {
    case "if":
      let literal = isLiteralCondition(from: tagEnd, to: end)
      ifFrames.append(literal)
      if !literal { dynamicIfs += 1 }
    case "elif":
      if let last = ifFrames.indices.last, ifFrames[last], !isLiteralCondition(from: tagEnd, to: end) {
        ifFrames[last] = false
        dynamicIfs += 1
      }
    case "endif":
      if let literal = ifFrames.popLast(), !literal { dynamicIfs -= 1 }
    case "raw":
      return try skipRaw(from: end, openedAt: open)
    case "snapshot", "test", "macro", "materialization":
      if let nameInfo {
        result.blocks.append(
          JinjaScan.Block(
            kind: tag, name: nameInfo.name, line: nameInfo.line, contentStart: end,
            contentEnd: nil))
        openBlocks.append(result.blocks.count - 1)
      }
    case "endsnapshot", "endtest", "endmacro", "endmaterialization":
      let kind = String(tag.dropFirst(3))
      if kind == "macro", let name = openBlocks.last.map({ result.blocks[$0].name }) {
        result.boundNames.append(name)
      }
      if let position = openBlocks.lastIndex(where: { result.blocks[$0].kind == kind }) {
        result.blocks[openBlocks[position]].contentEnd = open
        openBlocks.removeSubrange(position...)
      }
    default:
      break
    }
    return end
  }

  /// After `{% raw %}`: find `{% endraw %}` (any whitespace control) and continue after it.
  private func skipRaw(from start: Int, openedAt open: Int) throws(JinjaScanError) -> Int {
    var index = start
    while index + 1 < count {
      if bytes[index] == Byte.openBrace && bytes[index + 1] == Byte.percent {
        var cursor = index + 2
        if cursor < count && (bytes[cursor] == Byte.minus || bytes[cursor] == Byte.plus) { cursor += 1 }
        cursor = skipSpaces(from: cursor)
        let nameEnd = identifierEnd(from: cursor)
        if string(cursor, nameEnd) == "endraw" {
          cursor = skipSpaces(from: nameEnd)
          if cursor < count && (bytes[cursor] == Byte.minus || bytes[cursor] == Byte.plus) { cursor += 1 }
          if cursor + 1 < count && bytes[cursor] == Byte.percent && bytes[cursor + 1] == Byte.closeBrace {
            return cursor + 2
          }
        }
        index += 2
        continue
      }
      index += 1
    }
    throw errorAt(open, .unterminatedRawBlock)
  }

  /// Scans code (inside `{{ }}`, `{% %}`, or a bare expression) for calls, up to and past its closer.
  /// Brackets are balanced the way Jinja's lexer does it: a `}}` inside `{ … }` does not close the region.
  private mutating func scanRegion(from start: Int, end: RegionEnd, openedAt open: Int) throws(JinjaScanError)
    -> Int
  {
    let firstCall = (result.refs.count, result.sources.count, result.configs.count)
    regionHasIf = false
    var index = start
    var depth = 0
    while index < count {
      let byte = bytes[index]
      switch byte {
      case Byte.singleQuote, Byte.doubleQuote:
        guard let after = skipString(from: index) else { throw errorAt(index, .unterminatedString) }
        index = after
      case Byte.openParen, Byte.openBracket, Byte.openBrace:
        depth += 1
        index += 1
      case Byte.closeParen, Byte.closeBracket:
        depth = max(0, depth - 1)
        index += 1
      case Byte.closeBrace:
        if depth == 0, end == .expression, index + 1 < count, bytes[index + 1] == Byte.closeBrace {
          if regionHasIf { markInlineConditionals(since: firstCall) }
          return index + 2
        }
        depth = max(0, depth - 1)
        index += 1
      case Byte.percent:
        if depth == 0, end == .statement, index + 1 < count, bytes[index + 1] == Byte.closeBrace {
          if regionHasIf { markInlineConditionals(since: firstCall) }
          return index + 2
        }
        index += 1
      default:
        if Byte.isIdentifierStart(byte) {
          let identifierEnd = identifierEnd(from: index)
          if identifierEnd - index == 2, bytes[index] == UInt8(ascii: "i"),
            bytes[index + 1] == UInt8(ascii: "f"),
            index == 0 || bytes[index - 1] != Byte.dot
          {
            regionHasIf = true
          }
          index = try handleIdentifier(start: index, end: identifierEnd, qualified: false)
        } else if Byte.isDigit(byte) {
          index = numberEnd(from: index)
        } else {
          index += 1
        }
      }
    }
    switch end {
    case .endOfText:
      if regionHasIf { markInlineConditionals(since: firstCall) }
      return count
    case .expression: throw errorAt(open, .unterminatedExpression)
    case .statement: throw errorAt(open, .unterminatedStatement)
    }
  }

  /// An identifier in code: if it is `ref`, `source` or `config` followed by `(`, read the call.
  /// Returns where scanning continues. Identifiers after a `.` (`builtins.ref`, `adapter.x`) are not calls
  /// of dbt's functions unless `qualified` says the qualifier was accepted.
  private mutating func handleIdentifier(start: Int, end: Int, qualified: Bool) throws(JinjaScanError) -> Int
  {
    if !qualified && start > 0 && bytes[start - 1] == Byte.dot { return end }
    // Most identifiers (names, columns) are followed by neither `.`, `(` nor a space: nothing to read.
    if end < count, bytes[end] != Byte.dot, bytes[end] != Byte.openParen, !Byte.isSpace(bytes[end]) {
      return end
    }
    // `a.b.c`: read as one name, so that its parts are not taken for calls of their own.
    var chainEnd = end
    if !qualified {
      while chainEnd + 1 < count && bytes[chainEnd] == Byte.dot && Byte.isIdentifierStart(bytes[chainEnd + 1])
      {
        chainEnd = identifierEnd(from: chainEnd + 1)
      }
    }
    let length = end - start
    let isDbtFunction: Bool
    if chainEnd == end && (length == 3 || length == 6) {
      let name = string(start, end)
      isDbtFunction = name == "ref" || name == "source" || name == "config"
    } else {
      isDbtFunction = false
    }
    guard isDbtFunction else {
      if !qualified { return try otherCall(start: start, end: chainEnd) }
      return end
    }
    let name = string(start, end)
    let paren = skipSpaces(from: end)
    guard paren < count, bytes[paren] == Byte.openParen else { return end }
    switch try parseArguments(openParen: paren) {
    case .parsed(let arguments, let after):
      record(function: name, arguments: arguments, at: start)
      return after
    case .failed(let stop):
      // Never closed before the region ends: malformed. Continue where the argument reader stopped, so
      // no byte is read twice.
      if name != "config" {
        result.dynamicCalls.append(
          JinjaScan.DynamicCall(function: name, line: line(at: start), offset: start))
      }
      return stop
    }
  }

  private mutating func record(function: String, arguments: [Argument], at offset: Int) {
    if dynamicIfs > 0 {
      result.conditionalCalls.append(
        JinjaScan.DynamicCall(function: function, line: line(at: offset), offset: offset))
    }
    let positional = arguments.filter { $0.keyword == nil }
    switch function {
    case "ref":
      let strings = positional.compactMap { argument -> String? in
        if case .string(let value) = argument.value { return value }
        return nil
      }
      var version: String?
      var versionIsLiteral = true
      for argument in arguments where argument.keyword == "v" || argument.keyword == "version" {
        switch argument.value {
        case .string(let value), .number(let value): version = value
        case .name(let value) where value.lowercased() == "none": version = nil
        default: versionIsLiteral = false
        }
      }
      guard strings.count == positional.count, (1...2).contains(strings.count), versionIsLiteral else {
        result.dynamicCalls.append(
          JinjaScan.DynamicCall(function: function, line: line(at: offset), offset: offset))
        return
      }
      result.refs.append(
        JinjaScan.Ref(
          package: strings.count == 2 ? strings[0] : nil, name: strings[strings.count - 1], version: version,
          line: line(at: offset), offset: offset))
    case "source":
      let strings = positional.compactMap { argument -> String? in
        if case .string(let value) = argument.value { return value }
        return nil
      }
      guard strings.count == 2, positional.count == 2, arguments.count == 2 else {
        result.dynamicCalls.append(
          JinjaScan.DynamicCall(function: function, line: line(at: offset), offset: offset))
        return
      }
      result.sources.append(
        JinjaScan.Source(
          sourceName: strings[0], tableName: strings[1], line: line(at: offset), offset: offset))
    default:
      var config = JinjaScan.Config(
        enabled: nil, materialized: nil, tags: [], line: line(at: offset), offset: offset)
      for argument in arguments {
        switch (argument.keyword, argument.value) {
        case ("enabled", .name(let value)):
          switch value.lowercased() {
          case "true": config.enabled = true
          case "false": config.enabled = false
          default: config.unreadable.append("enabled")
          }
        case ("materialized", .string(let value)): config.materialized = value
        case ("tags", .string(let value)): config.tags = [value]
        case ("tags", .list(let values)): config.tags = values
        case ("enabled", _), ("materialized", _), ("tags", _):
          config.unreadable.append(argument.keyword ?? "")
        case (nil, _): config.unreadable.append("a positional argument")
        default: break
        }
      }
      result.configs.append(config)
    }
  }

  // MARK: Calls, conditions, bound names

  /// Jinja's words that may stand before `(` without calling anything.
  private static let keywords: Set<String> = [
    "and", "or", "not", "in", "is", "if", "else", "elif", "for", "recursive", "with", "without", "as",
    "import",
    "from", "true", "false", "none", "True", "False", "None",
  ]

  /// An identifier (or dotted name) other than `ref`/`source`/`config` in code: recorded as a call when `(`
  /// follows and it is not a filter (`| f(…)`), a test (`is f(…)`) or a keyword. Returns where scanning
  /// continues: after the name, so that the arguments are scanned as code.
  private mutating func otherCall(start: Int, end: Int) throws(JinjaScanError) -> Int {
    let paren = skipSpaces(from: end)
    guard paren < count, bytes[paren] == Byte.openParen else { return end }
    // What stands before the name: `|` (a filter) or the word `is` / `is not` (a test).
    var before = start - 1
    while before >= 0 && Byte.isSpace(bytes[before]) { before -= 1 }
    if before >= 0 {
      if bytes[before] == UInt8(ascii: "|") { return end }
      let previous = wordEnding(at: before)
      if previous.word == "is" { return end }
      if previous.word == "not" {
        var earlier = previous.start - 1
        while earlier >= 0 && Byte.isSpace(bytes[earlier]) { earlier -= 1 }
        if earlier >= 0 && wordEnding(at: earlier).word == "is" { return end }
      }
    }
    let name = string(start, end)
    if Self.keywords.contains(name) { return end }
    var call = JinjaScan.Call(name: name, line: line(at: start), offset: start)
    if name == "adapter.dispatch" {
      switch try parseArguments(openParen: paren) {
      case .parsed(let arguments, let after):
        var positional: [String] = []
        for argument in arguments {
          guard case .string(let value) = argument.value else { continue }
          switch argument.keyword {
          case nil: positional.append(value)
          case "macro_name": call.dispatchName = value
          case "macro_namespace": call.dispatchNamespace = value
          default: break
          }
        }
        if call.dispatchName == nil, let first = positional.first { call.dispatchName = first }
        if call.dispatchNamespace == nil, positional.count > 1 { call.dispatchNamespace = positional[1] }
        result.calls.append(call)
        return after
      case .failed(let stop):
        result.calls.append(call)
        return stop
      }
    }
    result.calls.append(call)
    return end
  }

  /// The identifier whose last byte is at `last`, if any.
  private func wordEnding(at last: Int) -> (word: String, start: Int) {
    guard last >= 0, Byte.isIdentifierPart(bytes[last]) else { return ("", last + 1) }
    var first = last
    while first > 0 && Byte.isIdentifierPart(bytes[first - 1]) { first -= 1 }
    return (string(first, last + 1), first)
  }

  /// `{% if true %}`, `{% if false %}`, `{% if 1 %}`: the only conditions the scan can evaluate.
  private func isLiteralCondition(from start: Int, to end: Int) -> Bool {
    var first = skipSpaces(from: start)
    var last = end - 2  // before `%}`
    if last > first && (bytes[last - 1] == Byte.minus || bytes[last - 1] == Byte.plus) { last -= 1 }
    while last > first && Byte.isSpace(bytes[last - 1]) { last -= 1 }
    if first > last { first = last }
    guard last - first <= 5 else { return false }
    return ["true", "false", "True", "False", "1", "0"].contains(string(first, last))
  }

  /// Refs, sources and configs met in a region that holds an inline `if` are conditional.
  private mutating func markInlineConditionals(since first: (Int, Int, Int)) {
    guard regionHasIf, dynamicIfs == 0 else { return }
    regionHasIf = false
    for ref in result.refs[first.0...] {
      result.conditionalCalls.append(
        JinjaScan.DynamicCall(function: "ref", line: ref.line, offset: ref.offset))
    }
    for source in result.sources[first.1...] {
      result.conditionalCalls.append(
        JinjaScan.DynamicCall(function: "source", line: source.line, offset: source.offset))
    }
    for config in result.configs[first.2...] {
      result.conditionalCalls.append(
        JinjaScan.DynamicCall(function: "config", line: config.line, offset: config.offset))
    }
  }

  /// The names a `set`, `for`, `macro`, `test` or `call` statement binds: identifiers before `=`/`in` for
  /// `set`/`for`, parameters (identifiers followed by `,`, `)` or `=`) for the others.
  private mutating func bindNames(from start: Int, to end: Int, tag: String) {
    var index = start
    let stop = end - 2
    while index < stop {
      let byte = bytes[index]
      if byte == Byte.singleQuote || byte == Byte.doubleQuote {
        guard let after = skipString(from: index) else { return }
        index = after
        continue
      }
      if tag == "set" || tag == "for" {
        if byte == Byte.equals { return }
        if Byte.isIdentifierStart(byte) {
          let wordEnd = identifierEnd(from: index)
          let word = string(index, wordEnd)
          if tag == "for" && word == "in" { return }
          result.boundNames.append(word)
          index = wordEnd
          continue
        }
        index += 1
        continue
      }
      if Byte.isIdentifierStart(byte) && (index == 0 || bytes[index - 1] != Byte.dot) {
        let wordEnd = identifierEnd(from: index)
        let next = skipSpaces(from: wordEnd)
        if next < count,
          bytes[next] == Byte.comma || bytes[next] == Byte.closeParen
            || (bytes[next] == Byte.equals && (next + 1 >= count || bytes[next + 1] != Byte.equals))
        {
          result.boundNames.append(string(index, wordEnd))
        }
        index = wordEnd
        continue
      }
      index += 1
    }
  }

  // MARK: Arguments

  private enum ArgumentsResult {
    case parsed([Argument], after: Int)
    /// The parenthesis is not closed before the text or the enclosing region ends.
    case failed(stop: Int)
  }

  /// Reads `( arg, name=arg, … )`. Non-literal arguments come back as `.other` and are skipped with their
  /// brackets balanced.
  private func parseArguments(openParen: Int) throws(JinjaScanError) -> ArgumentsResult {
    var arguments: [Argument] = []
    var index = openParen + 1
    while true {
      index = skipSpaces(from: index)
      guard index < count else { return .failed(stop: count) }
      if bytes[index] == Byte.closeParen { return .parsed(arguments, after: index + 1) }
      var keyword: String?
      if Byte.isIdentifierStart(bytes[index]) {
        let nameEnd = identifierEnd(from: index)
        let afterName = skipSpaces(from: nameEnd)
        if afterName < count, bytes[afterName] == Byte.equals,
          afterName + 1 >= count || bytes[afterName + 1] != Byte.equals
        {
          keyword = string(index, nameEnd)
          index = skipSpaces(from: afterName + 1)
        }
      }
      guard index < count else { return .failed(stop: count) }
      let valueStart = index
      var value = ArgumentValue.other
      var valueEnd = index
      let byte = bytes[index]
      if byte == Byte.singleQuote || byte == Byte.doubleQuote {
        guard let after = skipString(from: index) else { throw errorAt(index, .unterminatedString) }
        value = .string(unescape(index + 1, after - 1))
        valueEnd = after
      } else if Byte.isDigit(byte)
        || (byte == Byte.minus && index + 1 < count && Byte.isDigit(bytes[index + 1]))
      {
        valueEnd = numberEnd(from: byte == Byte.minus ? index + 1 : index)
        value = .number(string(index, valueEnd))
      } else if Byte.isIdentifierStart(byte) {
        valueEnd = identifierEnd(from: index)
        value = .name(string(index, valueEnd))
      } else if byte == Byte.openBracket, let (list, after) = try literalStringList(from: index) {
        value = .list(list)
        valueEnd = after
      } else if byte == Byte.openParen {
        // `('…')`: a literal in parentheses (how driftwatch writes one that needs escapes) is that literal.
        let inner = skipSpaces(from: index + 1)
        if inner < count, bytes[inner] == Byte.singleQuote || bytes[inner] == Byte.doubleQuote,
          let after = skipString(from: inner)
        {
          let close = skipSpaces(from: after)
          if close < count, bytes[close] == Byte.closeParen {
            value = .string(unescape(inner + 1, after - 1))
            valueEnd = close + 1
          }
        }
      }
      var cursor = skipSpaces(from: valueEnd)
      if valueEnd == valueStart || cursor >= count
        || (bytes[cursor] != Byte.comma && bytes[cursor] != Byte.closeParen)
      {
        // Not a lone literal: skip the whole expression.
        value = .other
        switch try skipExpression(from: valueStart) {
        case .end(let after): cursor = after
        case .stopped(let stop): return .failed(stop: stop)
        }
      }
      arguments.append(Argument(keyword: keyword, value: value))
      guard cursor < count else { return .failed(stop: count) }
      if bytes[cursor] == Byte.closeParen { return .parsed(arguments, after: cursor + 1) }
      index = cursor + 1
    }
  }

  /// `['a', "b"]` → the strings, or `nil` if any element is not a string literal.
  private func literalStringList(from open: Int) throws(JinjaScanError) -> ([String], Int)? {
    var values: [String] = []
    var index = skipSpaces(from: open + 1)
    while index < count {
      if bytes[index] == Byte.closeBracket { return (values, index + 1) }
      guard bytes[index] == Byte.singleQuote || bytes[index] == Byte.doubleQuote else { return nil }
      guard let after = skipString(from: index) else { throw errorAt(index, .unterminatedString) }
      values.append(unescape(index + 1, after - 1))
      index = skipSpaces(from: after)
      guard index < count else { return nil }
      if bytes[index] == Byte.comma {
        index = skipSpaces(from: index + 1)
      } else if bytes[index] != Byte.closeBracket {
        return nil
      }
    }
    return nil
  }

  private enum SkipResult {
    /// At the `,` or `)` ending the argument.
    case end(Int)
    /// At a region closer (`}}`/`%}`) or the end of the text.
    case stopped(Int)
  }

  /// From `start`, skip to the `,` or `)` that ends this argument (not consumed), balancing brackets and
  /// skipping strings. Stops at the end of the text or at a region closer met at depth 0.
  private func skipExpression(from start: Int) throws(JinjaScanError) -> SkipResult {
    var index = start
    var depth = 0
    while index < count {
      let byte = bytes[index]
      switch byte {
      case Byte.singleQuote, Byte.doubleQuote:
        guard let after = skipString(from: index) else { throw errorAt(index, .unterminatedString) }
        index = after
        continue
      case Byte.openParen, Byte.openBracket, Byte.openBrace:
        depth += 1
      case Byte.closeParen:
        if depth == 0 { return .end(index) }
        depth -= 1
      case Byte.closeBracket:
        depth = max(0, depth - 1)
      case Byte.closeBrace:
        if depth == 0 { return .stopped(index) }
        depth -= 1
      case Byte.comma:
        if depth == 0 { return .end(index) }
      case Byte.percent:
        if depth == 0, index + 1 < count, bytes[index + 1] == Byte.closeBrace { return .stopped(index) }
      default:
        break
      }
      index += 1
    }
    return .stopped(count)
  }

  // MARK: Python

  mutating func scanPythonText() throws(JinjaScanError) {
    var index = 0
    while index < count {
      let byte = bytes[index]
      if byte == Byte.hash {
        while index < count && bytes[index] != Byte.newline { index += 1 }
      } else if byte == Byte.singleQuote || byte == Byte.doubleQuote {
        guard let after = skipPythonString(from: index) else { throw errorAt(index, .unterminatedString) }
        index = after
      } else if Byte.isIdentifierStart(byte) {
        let end = identifierEnd(from: index)
        let isDbt =
          end - index == 3 && string(index, end) == "dbt" && (index == 0 || bytes[index - 1] != Byte.dot)
        if isDbt, end < count, bytes[end] == Byte.dot {
          let memberStart = end + 1
          let memberEnd = identifierEnd(from: memberStart)
          if memberEnd > memberStart {
            index = try handleIdentifier(start: memberStart, end: memberEnd, qualified: true)
            continue
          }
        }
        index = end
      } else if Byte.isDigit(byte) {
        index = numberEnd(from: index)
      } else {
        index += 1
      }
    }
  }

  /// A Python string literal, single- or triple-quoted.
  private func skipPythonString(from start: Int) -> Int? {
    let quote = bytes[start]
    if start + 2 < count && bytes[start + 1] == quote && bytes[start + 2] == quote {
      var index = start + 3
      while index + 2 < count {
        if bytes[index] == Byte.backslash {
          index += 2
          continue
        }
        if bytes[index] == quote && bytes[index + 1] == quote && bytes[index + 2] == quote {
          return index + 3
        }
        index += 1
      }
      return nil
    }
    return skipString(from: start)
  }

  // MARK: Lexing helpers

  /// Past the closing quote of the string literal starting at `start`, or `nil` if never closed.
  private func skipString(from start: Int) -> Int? {
    let quote = bytes[start]
    var index = start + 1
    while index < count {
      let byte = bytes[index]
      if byte == Byte.backslash {
        index += 2
        continue
      }
      if byte == quote { return index + 1 }
      index += 1
    }
    return nil
  }

  private func skipSpaces(from start: Int) -> Int {
    var index = start
    while index < count && Byte.isSpace(bytes[index]) { index += 1 }
    return index
  }

  private func identifierEnd(from start: Int) -> Int {
    guard start < count, Byte.isIdentifierStart(bytes[start]) else { return start }
    var index = start + 1
    while index < count && Byte.isIdentifierPart(bytes[index]) { index += 1 }
    return index
  }

  private func numberEnd(from start: Int) -> Int {
    var index = start
    while index < count && (Byte.isIdentifierPart(bytes[index]) || bytes[index] == Byte.dot) { index += 1 }
    return index
  }

  private func string(_ start: Int, _ end: Int) -> String {
    guard start < end else { return "" }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
  }

  /// The scalar written as `digits` hex digits at `start`, if they are there.
  private func hexScalar(_ start: Int, digits: Int, end: Int) -> Unicode.Scalar? {
    guard start + digits <= end else { return nil }
    var value: UInt32 = 0
    for offset in 0..<digits {
      let byte = bytes[start + offset]
      let digit: UInt32
      switch byte {
      case 0x30...0x39: digit = UInt32(byte - 0x30)
      case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
      case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
      default: return nil
      }
      value = value * 16 + digit
    }
    return Unicode.Scalar(value)
  }

  /// The value of a string literal's body, with backslash escapes resolved.
  private func unescape(_ start: Int, _ end: Int) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(end - start)
    var index = start
    while index < end {
      let byte = bytes[index]
      if byte == Byte.backslash && index + 1 < end {
        let next = bytes[index + 1]
        switch next {
        case UInt8(ascii: "n"): output.append(Byte.newline)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
          // Python's \xNN, \uNNNN, \UNNNNNNNN (how driftwatch writes controls in drafted literals).
          let digits = next == UInt8(ascii: "x") ? 2 : (next == UInt8(ascii: "u") ? 4 : 8)
          if let scalar = hexScalar(index + 2, digits: digits, end: end) {
            output += Array(String(Character(scalar)).utf8)
            index += 2 + digits
            continue
          }
          output.append(next)
        default: output.append(next)
        }
        index += 2
        continue
      }
      output.append(byte)
      index += 1
    }
    return String(decoding: output, as: UTF8.self)
  }
}
