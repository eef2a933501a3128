/// The sources yml edit: the changed table's entry, regenerated from the old entry's own lines (descriptions,
/// tests, configs kept) and the live columns; everything outside that entry is left byte for byte.
extension FixDrafter {
  func editSources(
    _ text: String, source: SourceTable, table: LiveTable, tableRename: DriftChange?, relevant: [DriftChange],
    valueTests: [String: [(old: String, new: String)]?]
  ) -> String? {
    let outline = YAMLOutline(text)
    guard let entry = outline.sourceTable(source: source.sourceName, table: source.name) else { return nil }
    let dash = (entry.lines.lowerBound, entry.column)
    let keys = outline.itemEntries(entry)
    let keyIndent = entry.column + 2
    let columnsKey = keys.first { $0.key == "columns" }
    let columnItems = columnsKey.map { outline.children(of: $0) }?.filter { $0.key == nil } ?? []
    let columnDash = columnItems.first?.column ?? keyIndent + 2
    let typed = source.columns.contains { $0.dataType != nil }
    let pad = { (count: Int) in String(repeating: " ", count: count) }

    // The entry keeps its name (every source() call keeps working); a renamed table is its new identifier,
    // unless a var sets the identifier (then the var changes, in dbt_project.yml).
    var out: [String] = [pad(entry.column) + "- name: " + Self.yamlScalar(source.name)]
    let identifierKey = keys.first { $0.key == "identifier" }
    let setByVar =
      identifierKey.map { Self.varReference(YAMLOutline.unquote($0.inlineValue)) != nil } ?? false
    if let tableRename {
      out.append(
        pad(keyIndent)
          + YAMLEscape.comment(
            "# driftwatch \(tableRename.id): \(source.identifier) was renamed to \(table.name)"))
      if !setByVar { out.append(pad(keyIndent) + "identifier: " + Self.yamlScalar(table.name)) }
    }
    for key in keys where key.key != "name" && key.key != "columns" {
      if tableRename != nil && key.key == "identifier" && !setByVar { continue }
      out += key.lines.map { outline.line($0, itemDash: dash) }
    }
    var lines = outline.lines
    // An entry without columns stays without: the project chose not to declare them.
    if columnsKey == nil && source.columns.isEmpty {
      lines.replaceSubrange(entry.lines, with: out)
      return lines.joined(separator: "\n")
    }
    out.append(pad(keyIndent) + "columns:")

    func itemNamed(_ name: String) -> YAMLOutline.Entry? {
      columnItems.first { item in
        outline.itemEntries(item).contains {
          $0.key == "name" && YAMLOutline.unquote($0.inlineValue).lowercased() == name.lowercased()
        }
      }
    }
    let declaredNames = Set(source.columns.map { $0.name.lowercased() })
    for column in table.columns {
      let lower = column.name.lowercased()
      let rename = relevant.first { $0.kind == .columnRenamed && $0.to?.names.first?.lowercased() == lower }
      let split = relevant.first {
        $0.kind == .columnSplit && ($0.to?.names ?? []).contains { $0.lowercased() == lower }
      }
      let oldName = rename?.from ?? (declaredNames.contains(lower) ? column.name : nil)
      if let oldName, let item = itemNamed(oldName) {
        out += columnLines(
          outline: outline, item: item, to: columnDash, newName: column.name, renamed: rename,
          liveType: column.dataType, typed: typed,
          values: valueValues(for: oldName, relevant: relevant, valueTests: valueTests))
      } else {
        out.append(pad(columnDash) + "- name: " + Self.yamlScalar(column.name))
        if let split, let old = split.from {
          out.append(
            pad(columnDash + 2)
              + YAMLEscape.comment("# driftwatch \(split.id): part of \(old), split by the backend"))
        }
        if typed { out.append(pad(columnDash + 2) + "data_type: " + Self.yamlScalar(column.dataType)) }
      }
    }

    lines.replaceSubrange(entry.lines, with: out)
    return lines.joined(separator: "\n")
  }

  /// How an `accepted_values` list on a remapped column is brought up to date: every declared value is
  /// kept, through the answered mapping (old → new) when it names it; with the mapping rejected, the live
  /// values are added beside the declared ones.
  struct ValueListUpdate {
    var mapping: [String: String]
    var added: [String]

    /// The new list's items, as YAML flow items: a declared item not mapped is kept as written.
    func items(declared: [(raw: String, value: String)]) -> [String] {
      var seen = Set<String>()
      var items: [String] = []
      for item in declared {
        let value = mapping[item.value] ?? item.value
        guard seen.insert(value).inserted else { continue }
        items.append(mapping[item.value] == nil ? item.raw : FixDrafter.yamlQuoted(value))
      }
      for value in added where seen.insert(value).inserted { items.append(FixDrafter.yamlQuoted(value)) }
      return items
    }
  }

  /// The update for an `accepted_values` test on `old`, when a remap touched it.
  private func valueValues(
    for old: String, relevant: [DriftChange], valueTests: [String: [(old: String, new: String)]?]
  ) -> ValueListUpdate? {
    guard let entry = valueTests[old.lowercased()] else { return nil }
    if let pairs = entry {
      return ValueListUpdate(
        mapping: Dictionary(pairs.map { ($0.old, $0.new) }, uniquingKeysWith: { first, _ in first }),
        added: [])
    }
    let live = relevant.first { $0.kind == .valuesRemapped && $0.from?.lowercased() == old.lowercased() }?
      .values
    return ValueListUpdate(mapping: [:], added: live ?? [])
  }

  /// The items of a YAML list written after `values:` (flow `[a, 'b']`, on one line or several, or block
  /// `- a` lines): each as written and as its value; nil when it is not a plain list of scalars.
  static func listItems(_ lines: [String]) -> [(raw: String, value: String)]? {
    guard let first = lines.first, let colon = first.firstRange(of: "values:") else { return nil }
    let inline = YAMLOutline.stripComment(String(first[colon.upperBound...]))
    var tokens: [String] = []
    if inline.hasPrefix("[") {
      let text = ([inline] + lines.dropFirst().map { YAMLOutline.stripComment($0) }).joined(separator: " ")
      guard text.hasSuffix("]") else { return nil }
      var current = ""
      var quote: Character?
      for character in text.dropFirst().dropLast() {
        if let open = quote {
          if character == open { quote = nil }
          current.append(character)
        } else if character == "'" || character == "\"" {
          quote = character
          current.append(character)
        } else if character == "," {
          tokens.append(current)
          current = ""
        } else if character == "[" || character == "]" || character == "{" || character == "}" {
          return nil
        } else {
          current.append(character)
        }
      }
      guard quote == nil else { return nil }
      tokens.append(current)
      tokens = tokens.map { YAMLOutline.stripComment($0) }
      if tokens.last?.isEmpty == true { tokens.removeLast() }
    } else if inline.isEmpty {
      for line in lines.dropFirst() where YAMLOutline.isContent(line) {
        let trimmed = line.drop { $0 == " " }
        guard trimmed.hasPrefix("- ") else { return nil }
        tokens.append(YAMLOutline.stripComment(String(trimmed.dropFirst(2))))
      }
    } else {
      return nil
    }
    guard !tokens.isEmpty, !tokens.contains(where: \.isEmpty) else { return nil }
    return tokens.map { token in
      var value = YAMLOutline.unquote(token)
      if token.hasPrefix("'") { value = value.replacing("''", with: "'") }
      if token.hasPrefix("\"") { value = value.replacing("\\\"", with: "\"").replacing("\\\\", with: "\\") }
      return (token, value)
    }
  }

  /// An old column's item, moved to `to` columns, renamed, with its type and accepted values brought up to date.
  private func columnLines(
    outline: YAMLOutline, item: YAMLOutline.Entry, to column: Int, newName: String, renamed: DriftChange?,
    liveType: String, typed: Bool, values: ValueListUpdate?
  ) -> [String] {
    let delta = column - item.column
    let first = item.lines.lowerBound
    var lines = outline.reindented(item.lines, by: delta)
    let keys = outline.itemEntries(item)
    func setValue(_ key: YAMLOutline.Entry, _ value: String) {
      let index = key.lines.lowerBound - first
      let line = lines[index]
      guard let range = line.firstRange(of: "\(key.key ?? ""):") else { return }
      lines[index] = String(line[..<range.upperBound]) + " " + value
    }
    if let type = keys.first(where: { $0.key == "data_type" }) {
      let declared = YAMLOutline.unquote(type.inlineValue)
      if !NormalizedType(declared).matches(NormalizedType(liveType)) {
        setValue(type, Self.yamlScalar(liveType))
      }
    }
    // accepted_values lists: the `values:` entries inside this column's tests.
    var replacements: [(range: Range<Int>, line: String)] = []
    if let values {
      for testsKey in keys where testsKey.key == "data_tests" || testsKey.key == "tests" {
        for test in outline.children(of: testsKey) where test.inlineValue.hasPrefix("accepted_values") {
          for index in test.lines where outline.lines[index].drop(while: { $0 == " " }).hasPrefix("values:") {
            let indent = YAMLOutline.indent(outline.lines[index])
            var end = index + 1
            // The list runs while more indented than `values:`, or (a block list may sit at the key's indent)
            // at its indent as `- item` lines.
            while end < test.lines.upperBound,
              !YAMLOutline.isContent(outline.lines[end]) || YAMLOutline.indent(outline.lines[end]) > indent
                || (YAMLOutline.indent(outline.lines[end]) == indent
                  && outline.lines[end].drop(while: { $0 == " " }).hasPrefix("- "))
            {
              end += 1
            }
            while end > index + 1, !YAMLOutline.isContent(outline.lines[end - 1]) { end -= 1 }
            // The declared values, as written; else (a list this reader cannot take apart) the project's.
            let declared =
              Self.listItems(Array(outline.lines[index..<end]))
              ?? (declaredValues(column: renamed?.from ?? newName) ?? []).map { (Self.yamlQuoted($0), $0) }
            let list = values.items(declared: declared).joined(separator: ", ")
            replacements.append(
              (
                (index - first)..<(end - first),
                String(repeating: " ", count: indent + delta) + "values: [\(list)]"
              ))
          }
        }
      }
    }
    if let name = keys.first(where: { $0.key == "name" }) { setValue(name, Self.yamlScalar(newName)) }
    var extra: [String] = []
    if typed && !keys.contains(where: { $0.key == "data_type" }) {
      extra.append(String(repeating: " ", count: column + 2) + "data_type: " + Self.yamlScalar(liveType))
    }
    for replacement in replacements.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
      lines.replaceSubrange(replacement.range, with: [replacement.line])
    }
    if let renamed, let old = renamed.from {
      lines.insert(
        String(repeating: " ", count: column + 2)
          + YAMLEscape.comment("# driftwatch \(renamed.id): was \(old)"),
        at: 1)
    }
    return lines + extra
  }

  /// The values the project's `accepted_values` tests on a column of the source declare, when they agree.
  private func declaredValues(column: String) -> [String]? {
    let lists = Set(
      project.nodes.values.compactMap { node -> [String]? in
        guard let test = node.test, test.testName == "accepted_values",
          test.columnName?.lowercased() == column.lowercased(),
          let attached = test.attachedNode, project.sources[attached] != nil
        else { return nil }
        return test.acceptedValues
      })
    return lists.count == 1 ? lists.first : nil
  }

  /// `{{ var('name') }}` or `{{ var('name', 'default') }}`: the var's name, and whether it has a default.
  static func varReference(_ text: String) -> (name: String, hasDefault: Bool)? {
    let trimmed = text.trimmingSpaces
    guard trimmed.hasPrefix("{{"), trimmed.hasSuffix("}}") else { return nil }
    var inner = String(trimmed.dropFirst(2).dropLast(2)).trimmingSpaces
    if inner.hasPrefix("-") { inner = String(inner.dropFirst()).trimmingSpaces }
    if inner.hasSuffix("-") { inner = String(inner.dropLast()).trimmingSpaces }
    guard inner.hasPrefix("var("), inner.hasSuffix(")") else { return nil }
    let arguments = String(inner.dropFirst(4).dropLast()).trimmingSpaces
    guard let quote = arguments.first, quote == "'" || quote == "\"",
      let close = arguments.dropFirst().firstIndex(of: quote)
    else { return nil }
    let name = String(arguments[arguments.index(after: arguments.startIndex)..<close])
    let rest = arguments[arguments.index(after: close)...].trimmingSpaces
    guard !name.isEmpty, rest.isEmpty || rest.hasPrefix(",") else { return nil }
    return (name, !rest.isEmpty)
  }

  /// The var that sets this source table's `identifier:`, when one does.
  func identifierVar(in text: String, source: SourceTable) -> (name: String, hasDefault: Bool)? {
    let outline = YAMLOutline(text)
    guard let entry = outline.sourceTable(source: source.sourceName, table: source.name),
      let key = outline.itemEntries(entry).first(where: { $0.key == "identifier" })
    else { return nil }
    return Self.varReference(YAMLOutline.unquote(key.inlineValue))
  }

  /// The source entry's `identifier: "{{ var('name', 'old') }}"` with the default set to `value`.
  func setIdentifierVarDefault(_ text: String, source: SourceTable, name: String, to value: String) -> String
  {
    let outline = YAMLOutline(text)
    guard let entry = outline.sourceTable(source: source.sourceName, table: source.name),
      let key = outline.itemEntries(entry).first(where: { $0.key == "identifier" }),
      let range = outline.lines[key.lines.lowerBound].firstRange(of: "identifier:")
    else { return text }
    var lines = outline.lines
    let line = lines[key.lines.lowerBound]
    let expression =
      "{{ var(\(JinjaEscape.stringLiteral(name)), \(JinjaEscape.stringLiteral(value))) }}"
    lines[key.lines.lowerBound] =
      String(line[..<range.upperBound]) + " " + YAMLEscape.doubleQuoted(expression)
    return lines.joined(separator: "\n")
  }

  /// dbt_project.yml with `vars:` setting `name` to `value` where it sets it now (under the project's own
  /// scope first, as dbt reads it, else at the top of `vars:`); nil when the file does not set it.
  static func settingVar(_ name: String, to value: String, in text: String, project: String) -> String? {
    let outline = YAMLOutline(text)
    guard let vars = outline.entries(in: 0..<outline.lines.count).first(where: { $0.key == "vars" }) else {
      return nil
    }
    let top = outline.children(of: vars)
    let scoped = top.first { $0.key == project }.map { outline.children(of: $0) } ?? []
    guard let key = scoped.first(where: { $0.key == name }) ?? top.first(where: { $0.key == name }),
      key.lines.count == 1, !key.inlineValue.isEmpty,
      let colon = YAMLOutline.keyColon(Substring(outline.lines[key.lines.lowerBound].dropFirst(key.column)))
    else { return nil }
    var lines = outline.lines
    let line = lines[key.lines.lowerBound]
    let body = line.dropFirst(key.column)
    // A comment after the value stays.
    let rest = String(body[body.index(after: colon)...])
    let old = YAMLOutline.stripComment(rest)
    var comment = ""
    if !old.isEmpty, let range = rest.firstRange(of: old) {
      let tail = rest[range.upperBound...].trimmingSpaces
      if tail.hasPrefix("#") { comment = "  " + tail }
    }
    lines[key.lines.lowerBound] =
      String(line.prefix(key.column)) + String(body[...colon]) + " " + yamlScalar(value) + comment
    return lines.joined(separator: "\n")
  }

  /// dbt_project.yml with `vars:` → `scope:` → `name: value` added (a package's var, set from the root project
  /// as its docs say); nil when `vars:` or the scope is not block-style YAML driftwatch can extend.
  static func addingVar(_ name: String, to value: String, in text: String, scope: String) -> String? {
    let outline = YAMLOutline(text)
    var lines = outline.lines
    let entry = "\(YAMLEscape.scalar(name)): \(yamlScalar(value))"
    guard let vars = outline.entries(in: 0..<outline.lines.count).first(where: { $0.key == "vars" }) else {
      while let last = lines.last, last.trimmingSpaces.isEmpty { lines.removeLast() }
      return (lines + ["", "vars:", "  \(YAMLEscape.scalar(scope)):", "    \(entry)", ""]).joined(
        separator: "\n")
    }
    guard vars.inlineValue.isEmpty else { return nil }
    let top = outline.children(of: vars)
    if let scoped = top.first(where: { $0.key == scope }) {
      let children = outline.children(of: scoped)
      guard scoped.inlineValue.isEmpty, let last = children.last else { return nil }
      lines.insert(String(repeating: " ", count: last.column) + entry, at: last.lines.upperBound)
      return lines.joined(separator: "\n")
    }
    let column = top.first?.column ?? vars.column + 2
    let at = top.last?.lines.upperBound ?? vars.lines.upperBound
    lines.insert(
      contentsOf: [
        String(repeating: " ", count: column) + "\(YAMLEscape.scalar(scope)):",
        String(repeating: " ", count: column + 2) + entry,
      ], at: at)
    return lines.joined(separator: "\n")
  }

  static func yamlScalar(_ value: String) -> String { YAMLEscape.scalar(value) }

  static func yamlQuoted(_ value: String) -> String { YAMLEscape.doubleQuoted(value) }
}

extension FixDrafter {
  /// Generic tests elsewhere that point at the table (`relationships` with `to: source('acme', 'raw_customers')`)
  /// get `field:` renamed when its column was. Returns the text and what was left.
  func retargetTests(
    _ text: String, source: SourceTable, renamed: [String: String], unmapped: Set<String>
  ) -> (text: String, leftAlone: [String]) {
    var lines = YAMLOutline(text).lines
    var leftAlone: [String] = []
    for index in lines.indices {
      guard Self.sourceCall(in: lines[index], source: source) != nil else { continue }
      // The test's block: up to the line that opens it (less indented), down while more indented than that.
      let indent = YAMLOutline.indent(lines[index])
      var top = index
      while top > 0, !YAMLOutline.isContent(lines[top - 1]) || YAMLOutline.indent(lines[top - 1]) >= indent {
        top -= 1
      }
      top = max(0, top - 1)
      let topIndent = YAMLOutline.indent(lines[top])
      var bottom = index + 1
      while bottom < lines.count,
        !YAMLOutline.isContent(lines[bottom]) || YAMLOutline.indent(lines[bottom]) > topIndent
      {
        bottom += 1
      }
      for fieldIndex in top..<bottom {
        let trimmed = lines[fieldIndex].drop { $0 == " " }
        guard trimmed.hasPrefix("field:") else { continue }
        let value = YAMLOutline.unquote(YAMLOutline.stripComment(String(trimmed.dropFirst("field:".count))))
        if let new = renamed[value.lowercased()] {
          let prefix = lines[fieldIndex].prefix(lines[fieldIndex].count - trimmed.count)
          lines[fieldIndex] = prefix + "field: " + Self.yamlScalar(new)
        } else if unmapped.contains(value.lowercased()) {
          leftAlone.append("line \(fieldIndex + 1): field \(value) has no single new column")
        }
      }
    }
    return (lines.joined(separator: "\n"), leftAlone)
  }

  /// The range of `source('a', 'b')` (any quotes and spacing) for this source table in `line`.
  static func sourceCall(in line: String, source: SourceTable) -> Range<String.Index>? {
    var search = line.startIndex
    while let start = line[search...].firstRange(of: "source(") {
      var index = start.upperBound
      func skipSpaces() {
        while index < line.endIndex, line[index] == " " { index = line.index(after: index) }
      }
      func quoted() -> String? {
        skipSpaces()
        guard index < line.endIndex, line[index] == "'" || line[index] == "\"" else { return nil }
        let quote = line[index]
        let open = line.index(after: index)
        guard let close = line[open...].firstIndex(of: quote) else { return nil }
        index = line.index(after: close)
        return String(line[open..<close])
      }
      let isCall =
        start.lowerBound == line.startIndex
        || !(line[line.index(before: start.lowerBound)].isLetter
          || line[line.index(before: start.lowerBound)] == "_")
      if isCall, quoted() == source.sourceName {
        skipSpaces()
        if index < line.endIndex, line[index] == "," {
          index = line.index(after: index)
          if quoted() == source.name {
            skipSpaces()
            if index < line.endIndex, line[index] == ")" {
              return start.lowerBound..<line.index(after: index)
            }
          }
        }
      }
      search = start.upperBound
    }
    return nil
  }
}

extension StringProtocol {
  /// Without leading and trailing spaces and tabs.
  fileprivate var trimmingSpaces: String {
    let isSpace = { (character: Character) in character == " " || character == "\t" }
    return String(String(drop(while: isSpace)).reversed().drop(while: isSpace).reversed())
  }
}
