/// The sources yml edit: the changed table's entry, regenerated from the old entry's own lines (descriptions,
/// tests, configs kept) and the live columns; everything outside that entry is left byte for byte.
extension FixDrafter {
  func editSources(
    _ text: String, source: SourceTable, table: LiveTable, tableRename: DriftChange?, relevant: [DriftChange],
    valueTests: [String: [(old: String, new: String)]?], keepOld: Bool
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

    var out: [String] = [
      pad(entry.column) + "- name: " + Self.yamlScalar(tableRename == nil ? source.name : table.name)
    ]
    if let tableRename {
      out.append(
        pad(keyIndent)
          + YAMLEscape.comment("# driftwatch \(tableRename.id): \(source.name) was renamed to \(table.name)"))
    }
    for key in keys where key.key != "name" && key.key != "columns" {
      if tableRename != nil && key.key == "identifier" { continue }
      out += key.lines.map { outline.line($0, itemDash: dash) }
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

    var lines = outline.lines
    if tableRename != nil && keepOld {
      var insertion = [""] + out
      if entry.lines.upperBound < lines.count, !lines[entry.lines.upperBound].isEmpty { insertion.append("") }
      lines.insert(contentsOf: insertion, at: entry.lines.upperBound)
    } else {
      lines.replaceSubrange(entry.lines, with: out)
    }
    return lines.joined(separator: "\n")
  }

  /// The values an `accepted_values` test on `old` should list now, when a remap touched it.
  private func valueValues(
    for old: String, relevant: [DriftChange], valueTests: [String: [(old: String, new: String)]?]
  ) -> [String]? {
    guard let entry = valueTests[old.lowercased()] else { return nil }
    if let pairs = entry { return pairs.map(\.new).uniqued() }
    return relevant.first { $0.kind == .valuesRemapped && $0.from?.lowercased() == old.lowercased() }?.values
  }

  /// An old column's item, moved to `to` columns, renamed, with its type and accepted values brought up to date.
  private func columnLines(
    outline: YAMLOutline, item: YAMLOutline.Entry, to column: Int, newName: String, renamed: DriftChange?,
    liveType: String, typed: Bool, values: [String]?
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
            while end < test.lines.upperBound,
              !YAMLOutline.isContent(outline.lines[end]) || YAMLOutline.indent(outline.lines[end]) > indent
            {
              end += 1
            }
            while end > index + 1, !YAMLOutline.isContent(outline.lines[end - 1]) { end -= 1 }
            let list = values.map(Self.yamlQuoted).joined(separator: ", ")
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

  static func yamlScalar(_ value: String) -> String { YAMLEscape.scalar(value) }

  static func yamlQuoted(_ value: String) -> String { YAMLEscape.doubleQuoted(value) }
}

extension FixDrafter {
  /// Generic tests elsewhere that point at the old table (`relationships` with `to: source('acme', 'raw_customers')`)
  /// are pointed at the new one, with `field:` renamed when its column was. Returns the text and what was left.
  func retargetTests(
    _ text: String, source: SourceTable, newTable: String, renamed: [String: String], unmapped: Set<String>
  ) -> (text: String, leftAlone: [String]) {
    var lines = YAMLOutline(text).lines
    var leftAlone: [String] = []
    for index in lines.indices {
      guard let call = Self.sourceCall(in: lines[index], source: source) else { continue }
      let newCall =
        "source(\(JinjaEscape.stringLiteral(source.sourceName)), \(JinjaEscape.stringLiteral(newTable)))"
      // Inline only where it reads as the same YAML: in a plain or quoted scalar, only characters that mean
      // nothing to YAML; else as the whole (double-quoted) value of `to:`; else left for a human.
      let inlineSafe = newCall.unicodeScalars.allSatisfy { scalar in
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".", " ", "(", ")", ",", "'": true
        default: false
        }
      }
      let trimmed = lines[index].drop { $0 == " " }
      if inlineSafe {
        lines[index].replaceSubrange(call, with: newCall)
      } else if trimmed.hasPrefix("to:"),
        YAMLOutline.stripComment(String(trimmed.dropFirst("to:".count))) == String(lines[index][call])
      {
        lines[index] =
          String(lines[index].prefix(lines[index].count - trimmed.count)) + "to: "
          + YAMLEscape.doubleQuoted(newCall)
      } else {
        leftAlone.append(
          "line \(index + 1): the relationship to \(source.displayName) needs quoting this line does not allow"
        )
        continue
      }
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
