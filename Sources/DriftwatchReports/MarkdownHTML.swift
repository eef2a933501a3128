import DriftwatchCore

/// The markdown driftwatch writes (postmortems, PR comments) as HTML, for showing on a page: headings,
/// quotes, rules, tables, lists, fenced code, paragraphs, code spans and bold. Not a general markdown
/// renderer: every character of the text is escaped for HTML after markdown's own escapes (`\|`, `\[`,
/// `&lt;`) are undone, so the only tags in the output are the ones written here.
public enum MarkdownHTML {
  public static func render(_ markdown: String) -> String {
    let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var out = ""
    var index = 0
    var paragraph: [String] = []
    func flush() {
      guard !paragraph.isEmpty else { return }
      out += "<p>" + paragraph.map(inline).joined(separator: "<br>") + "</p>"
      paragraph = []
    }
    while index < lines.count {
      let line = lines[index]
      let trimmed = line.trimmingSpaces
      if trimmed.hasPrefix("```") {
        flush()
        let fence = String(trimmed.prefix { $0 == "`" })
        var code: [String] = []
        index += 1
        while index < lines.count, !lines[index].trimmingSpaces.hasPrefix(fence) {
          code.append(lines[index])
          index += 1
        }
        out += "<pre><code>" + code.map(OutputEscape.html).joined(separator: "\n") + "</code></pre>"
        index += 1
        continue
      }
      if trimmed.isEmpty {
        flush()
      } else if let level = heading(trimmed) {
        flush()
        let text = String(trimmed.dropFirst(level)).trimmingSpaces
        out += "<h\(level + 2)>\(inline(text))</h\(level + 2)>"
      } else if trimmed == "---" || trimmed == "***" {
        flush()
        out += "<hr>"
      } else if trimmed.hasPrefix(">") {
        flush()
        var quoted: [String] = []
        while index < lines.count, lines[index].trimmingSpaces.hasPrefix(">") {
          quoted.append(String(lines[index].trimmingSpaces.dropFirst()).trimmingSpaces)
          index += 1
        }
        out += "<blockquote>" + quoted.map(inline).joined(separator: "<br>") + "</blockquote>"
        continue
      } else if trimmed.hasPrefix("|") {
        flush()
        var rows: [[String]] = []
        while index < lines.count, lines[index].trimmingSpaces.hasPrefix("|") {
          let cells = Self.cells(lines[index].trimmingSpaces)
          if !cells.allSatisfy({ $0.allSatisfy { "-: ".contains($0) } }) { rows.append(cells) }
          index += 1
        }
        out += "<table>"
        for (number, row) in rows.enumerated() {
          let tag = number == 0 ? "th" : "td"
          out += "<tr>" + row.map { "<\(tag)>\(inline($0))</\(tag)>" }.joined() + "</tr>"
        }
        out += "</table>"
        continue
      } else if let item = listItem(trimmed) {
        flush()
        let ordered = item.ordered
        var items: [String] = []
        while index < lines.count, let next = listItem(lines[index].trimmingSpaces), next.ordered == ordered {
          items.append(next.text)
          index += 1
        }
        let tag = ordered ? "ol" : "ul"
        out += "<\(tag)>" + items.map { "<li>\(inline($0))</li>" }.joined() + "</\(tag)>"
        continue
      } else {
        paragraph.append(trimmed)
      }
      index += 1
    }
    flush()
    return out
  }

  private static func heading(_ line: String) -> Int? {
    let hashes = line.prefix { $0 == "#" }.count
    guard (1...4).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
    return hashes
  }

  private static func listItem(_ line: String) -> (ordered: Bool, text: String)? {
    if line.hasPrefix("- ") || line.hasPrefix("* ") { return (false, String(line.dropFirst(2))) }
    let digits = line.prefix { $0.isNumber && $0.isASCII }
    if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") {
      return (true, String(line.dropFirst(digits.count + 2)))
    }
    return nil
  }

  /// The cells of a table row: split on `|` outside code spans and not escaped.
  static func cells(_ row: String) -> [String] {
    var cells: [String] = []
    var current = ""
    var inCode = false
    var escaped = false
    for character in row {
      if escaped {
        current.append(character)
        escaped = false
        continue
      }
      switch character {
      case "\\":
        current.append(character)
        escaped = true
      case "`":
        inCode.toggle()
        current.append(character)
      case "|" where !inCode:
        cells.append(current)
        current = ""
      default:
        current.append(character)
      }
    }
    cells.append(current)
    // The text before the first `|` and after the last one is not a cell.
    if cells.first?.trimmingSpaces.isEmpty == true { cells.removeFirst() }
    if cells.last?.trimmingSpaces.isEmpty == true { cells.removeLast() }
    return cells.map(\.trimmingSpaces)
  }

  /// One line of inline markdown: code spans (`\|` inside them is a `|`), `**bold**`, backslash escapes and
  /// the entities markdownText writes; everything else is text, escaped.
  static func inline(_ text: String) -> String {
    var out = ""
    var bold = false
    let characters = Array(text)
    var index = 0
    func literal(_ character: Character) { out += OutputEscape.html(String(character)) }
    while index < characters.count {
      let character = characters[index]
      // Entities markdownText writes (outside code spans): undone, so they are escaped once, as text.
      if character == "&", let (decoded, length) = entity(characters, at: index) {
        literal(decoded)
        index += length
      } else if character == "\\", index + 1 < characters.count {
        literal(characters[index + 1])
        index += 2
      } else if character == "`", let close = characters[(index + 1)...].firstIndex(of: "`") {
        let code = String(characters[(index + 1)..<close]).replacing("\\|", with: "|")
        out += "<code>\(OutputEscape.html(code))</code>"
        index = close + 1
      } else if character == "*", index + 1 < characters.count, characters[index + 1] == "*" {
        out += bold ? "</strong>" : "<strong>"
        bold.toggle()
        index += 2
      } else {
        literal(character)
        index += 1
      }
    }
    if bold { out += "</strong>" }
    return out
  }

  private static func entity(_ characters: [Character], at index: Int) -> (Character, Int)? {
    for (name, value) in [("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"), ("&quot;", "\"")]
      as [(String, Character)]
    {
      let length = name.count
      if index + length <= characters.count, String(characters[index..<(index + length)]) == name {
        return (value, length)
      }
    }
    return nil
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }
}
