/// The block structure of a YAML file, from its lines: enough to find an entry (a source's table, a
/// column) and edit that entry's lines only, so every comment and layout choice elsewhere survives.
/// Flow-style collections and multi-line scalars are kept as opaque text inside their entry.
struct YAMLOutline {
  /// A key (`name: x`) or a sequence item (`- …`) and the lines it spans.
  struct Entry {
    /// For keys: the key; for items: nil.
    var key: String?
    /// Text after `key:` on the same line, comments removed (for items: after `- `).
    var inlineValue: String
    /// Line index of the entry, and one past its last content line (trailing comments/blank lines excluded).
    var lines: Range<Int>
    /// Column where the key (or the item's dash) starts.
    var column: Int
  }

  var lines: [String]

  init(_ text: String) {
    lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  static func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }

  static func isContent(_ line: String) -> Bool {
    let trimmed = line.drop { $0 == " " }
    return !trimmed.isEmpty && !trimmed.hasPrefix("#")
  }

  /// The line as seen inside an item: `- name: x` becomes `  name: x` (the dash at `dash`).
  func line(_ index: Int, itemDash: (line: Int, column: Int)?) -> String {
    guard let itemDash, itemDash.line == index else { return lines[index] }
    var characters = Array(lines[index])
    if itemDash.column < characters.count { characters[itemDash.column] = " " }
    return String(characters)
  }

  /// The entries directly inside `range` (a mapping's keys or a sequence's items), at the block's indent.
  /// `itemDash` is the dash of the item whose content this is, if any.
  func entries(in range: Range<Int>, itemDash: (line: Int, column: Int)? = nil) -> [Entry] {
    var result: [Entry] = []
    var blockIndent: Int?
    var index = range.lowerBound
    while index < range.upperBound {
      let text = line(index, itemDash: itemDash)
      guard Self.isContent(text) else {
        index += 1
        continue
      }
      let indent = Self.indent(text)
      if blockIndent == nil { blockIndent = indent }
      guard let blockIndent, indent <= blockIndent else {
        index += 1
        continue
      }
      if indent < blockIndent { break }
      // The entry runs until the next content line at this indent or less.
      var end = index + 1
      var lastContent = index
      while end < range.upperBound {
        let next = line(end, itemDash: itemDash)
        if Self.isContent(next) {
          let nextIndent = Self.indent(next)
          // A sequence item may sit at its parent key's indent: `key:\n- item` (only for non-items).
          if nextIndent < blockIndent { break }
          if nextIndent == blockIndent {
            let trimmed = next.drop { $0 == " " }
            let isItem = trimmed.hasPrefix("- ") || trimmed == "-"
            let entryIsItem = text.drop { $0 == " " }.hasPrefix("-")
            if isItem == entryIsItem || !isItem { break }
          }
          lastContent = end
        }
        end += 1
      }
      let body = text.dropFirst(indent)
      if body.hasPrefix("- ") || body == "-" {
        result.append(
          Entry(
            key: nil, inlineValue: Self.stripComment(String(body.dropFirst(2))),
            lines: index..<(lastContent + 1),
            column: indent))
      } else if let colon = Self.keyColon(body) {
        let key = Self.unquote(String(body[body.startIndex..<colon]))
        let value = Self.stripComment(String(body[body.index(after: colon)...]))
        result.append(Entry(key: key, inlineValue: value, lines: index..<(lastContent + 1), column: indent))
      }
      index = lastContent + 1
    }
    return result
  }

  /// The entries of an item's content (its mapping), the dash line included.
  func itemEntries(_ item: Entry) -> [Entry] {
    entries(in: item.lines, itemDash: (item.lines.lowerBound, item.column))
  }

  /// The entries nested under a key (its block value), excluding the key's own line.
  func children(of entry: Entry) -> [Entry] {
    entries(in: (entry.lines.lowerBound + 1)..<entry.lines.upperBound)
  }

  /// The `:` that ends a plain or quoted key on this line.
  static func keyColon(_ body: Substring) -> Substring.Index? {
    var quote: Character?
    var index = body.startIndex
    while index < body.endIndex {
      let character = body[index]
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "'" || character == "\"" {
        if index == body.startIndex { quote = character }
      } else if character == ":" {
        let next = body.index(after: index)
        if next == body.endIndex || body[next] == " " { return index }
      } else if character == "#" {
        return nil
      }
      index = body.index(after: index)
    }
    return nil
  }

  static func stripComment(_ value: String) -> String {
    var quote: Character?
    var previous: Character = " "
    var out = ""
    for character in value {
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "'" || character == "\"" {
        quote = character
      } else if character == "#" && previous == " " {
        break
      }
      out.append(character)
      previous = character
    }
    return String(String(out.drop { $0 == " " }).reversed().drop { $0 == " " }.reversed())
  }

  static func unquote(_ value: String) -> String {
    let trimmed = String(String(value.drop { $0 == " " }).reversed().drop { $0 == " " }.reversed())
    if trimmed.count >= 2, let first = trimmed.first, first == trimmed.last, first == "'" || first == "\"" {
      return String(trimmed.dropFirst().dropLast())
    }
    return trimmed
  }

  /// The item (of a sequence under `key`, among `entries`) whose `name:` is `name`.
  func item(named name: String, under key: String, in entries: [Entry]) -> Entry? {
    guard let parent = entries.first(where: { $0.key == key }) else { return nil }
    return children(of: parent).first { item in
      item.key == nil
        && itemEntries(item).contains { $0.key == "name" && Self.unquote($0.inlineValue) == name }
    }
  }

  /// The source table entry `sources[name=source].tables[name=table]`, with the indentation step in use.
  func sourceTable(source: String, table: String) -> Entry? {
    let top = entries(in: 0..<lines.count)
    guard let sourceItem = item(named: source, under: "sources", in: top) else { return nil }
    return item(named: table, under: "tables", in: itemEntries(sourceItem))
  }

  /// Lines `range` re-indented by `delta` columns (negative: fewer), blank lines kept blank.
  func reindented(_ range: Range<Int>, by delta: Int, itemDash: (line: Int, column: Int)? = nil) -> [String] {
    range.map { index in
      let text = line(index, itemDash: itemDash)
      guard Self.isContent(text) || !text.allSatisfy({ $0 == " " }) else { return "" }
      if delta >= 0 { return String(repeating: " ", count: delta) + text }
      let removable = min(-delta, Self.indent(text))
      return String(text.dropFirst(removable))
    }
  }
}
