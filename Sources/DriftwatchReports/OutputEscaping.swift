import DriftwatchCore

/// The one way hostile text (warehouse names and values, evidence and notes made from them, paths) reaches
/// an output, per destination: a terminal, markdown, Slack mrkdwn, GitHub workflow commands. JSON needs
/// nothing more than `JSONValue`'s quoting.
public enum OutputEscape {
  // MARK: Terminal

  /// One line of terminal text: every control character (newline included), Unicode line separator and
  /// bidirectional override shown as an escape (`\n`, `\x1b`, `\u{202e}`).
  public static func terminal(_ text: String) -> String { TextEscape.oneLine(text) }

  /// The SGR sequences the renderers' own styling writes (bold, dim, red, green, yellow, reset).
  public static let styles: Set<String> = [
    "\u{1B}[0m", "\u{1B}[1m", "\u{1B}[2m", "\u{1B}[31m", "\u{1B}[32m", "\u{1B}[33m",
  ]

  /// A marker no name can forge (random, per renderer) that a renderer puts before each style sequence it
  /// writes, so the line guard keeps those and escapes any a name brings.
  static func newStyleMark() -> String {
    "\u{E000}" + String(UInt64.random(in: .min ... .max), radix: 36) + "\u{E001}"
  }

  /// A rendered line, guarded: like `terminal`, except the style sequences that follow `styleMark` (the
  /// mark itself is dropped).
  static func terminalLine(_ line: String, styleMark: String? = nil) -> String {
    let mark = styleMark.map { Array($0.unicodeScalars) } ?? []
    guard line.unicodeScalars.contains(where: { TextEscape.isInvisibleControl($0) || $0 == "\u{E000}" })
    else { return line }
    let scalars = Array(line.unicodeScalars)
    var out = ""
    var index = 0
    while index < scalars.count {
      let scalar = scalars[index]
      if !mark.isEmpty, scalar == mark[0], index + mark.count <= scalars.count,
        Array(scalars[index..<(index + mark.count)]) == mark,
        let length = styleLength(scalars, at: index + mark.count)
      {
        out.unicodeScalars.append(contentsOf: scalars[(index + mark.count)..<(index + mark.count + length)])
        index += mark.count + length
        continue
      }
      if TextEscape.isInvisibleControl(scalar) {
        out += TextEscape.visible(scalar)
      } else {
        out.unicodeScalars.append(scalar)
      }
      index += 1
    }
    return out
  }

  /// Rendered lines, each guarded by `terminalLine`, joined by newlines.
  static func terminalLines(_ lines: [String], styleMark: String? = nil) -> String {
    lines.map { terminalLine($0, styleMark: styleMark) }.joined(separator: "\n")
  }

  /// Multi-line rendered text (a diff, a template): every line guarded, the newlines between kept.
  public static func terminalBlock(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { terminalLine(String($0)) }.joined(separator: "\n")
  }

  private static func styleLength(_ scalars: [Unicode.Scalar], at index: Int) -> Int? {
    guard index < scalars.count, scalars[index] == "\u{1B}" else { return nil }
    for length in [4, 5] where index + length <= scalars.count {
      var candidate = ""
      candidate.unicodeScalars.append(contentsOf: scalars[index..<(index + length)])
      if Self.styles.contains(candidate) { return length }
    }
    return nil
  }

  // MARK: Markdown (GitHub)

  /// The inside of a code span (in a table cell or not): one line, `|` as `\|` (GitHub's table rule),
  /// backticks as `'` (they would close the span). Code spans show `<`, `&`, `*` as they are.
  public static func markdownCode(_ text: String) -> String {
    oneLine(text) { character in
      switch character {
      case "|": "\\|"
      case "`": "'"
      default: nil
      }
    }
  }

  /// Markdown prose (or a table cell): one line; HTML (`<`, `>`, `&`), links and images (`[`, `]`, `!`),
  /// code spans, table pipes and backslashes escaped, so a name reads as itself and nothing else.
  public static func markdownText(_ text: String) -> String {
    oneLine(text) { character in
      switch character {
      case "<": "&lt;"
      case ">": "&gt;"
      case "&": "&amp;"
      case "\\", "`", "[", "]", "|", "!": "\\" + String(character)
      default: nil
      }
    }
  }

  /// Text inside HTML (`<summary>`, `<code>`): one line, `<`, `>`, `&`, `"` as entities.
  public static func html(_ text: String) -> String {
    oneLine(text) { character in
      switch character {
      case "<": "&lt;"
      case ">": "&gt;"
      case "&": "&amp;"
      case "\"": "&quot;"
      default: nil
      }
    }
  }

  /// `text` on one line (`TextEscape.oneLine`), each character replaced by what `replacement` returns for
  /// it, or kept when it returns nil: the one loop behind every per-destination escaper here.
  static func oneLine(_ text: String, _ replacement: (Character) -> String?) -> String {
    var out = ""
    for character in TextEscape.oneLine(text) {
      if let replaced = replacement(character) {
        out += replaced
      } else {
        out.append(character)
      }
    }
    return out
  }

  /// A fenced block's fence: longer than any run of backticks in `content`, so no line of it can close it.
  static func fence(for content: String) -> String {
    var longest = 0
    var run = 0
    for character in content {
      run = character == "`" ? run + 1 : 0
      longest = max(longest, run)
    }
    return String(repeating: "`", count: max(3, longest + 1))
  }

  /// A whole markdown document, guarded: every control character but the newlines between lines shown as
  /// an escape (the last line of defence; names are escaped where they are put).
  static func markdownDocument(_ text: String) -> String { terminalBlock(text) }

  // MARK: Slack

  /// Slack mrkdwn (and the message's fallback `text`): one line; `&`, `<`, `>` as Slack's entities, so a
  /// name cannot post `<!channel>`, a link or a mention; backticks as `'` (they would end a code span).
  public static func slack(_ text: String) -> String {
    oneLine(text) { character in
      switch character {
      case "&": "&amp;"
      case "<": "&lt;"
      case ">": "&gt;"
      case "`": "'"
      default: nil
      }
    }
  }

  // MARK: GitHub workflow commands

  /// A workflow command's message: `%`, CR and LF as GitHub's `%25`, `%0D`, `%0A`; other controls shown as
  /// escapes (a log line that moves the cursor or sets the title is not a message).
  public static func annotationData(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "%": out += "%25"
      case "\r": out += "%0D"
      case "\n": out += "%0A"
      default:
        if TextEscape.isInvisibleControl(scalar) {
          out += TextEscape.visible(scalar)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }

  /// A workflow command's property value: as a message, and `:` and `,` as `%3A`, `%2C`.
  public static func annotationProperty(_ text: String) -> String {
    var out = ""
    for character in annotationData(text) {
      switch character {
      case ":": out += "%3A"
      case ",": out += "%2C"
      default: out.append(character)
      }
    }
    return out
  }
}
