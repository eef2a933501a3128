/// The one way warehouse names (tables, columns, types), data values and decisions reach a drafted file.
/// All of them are hostile: a table may be called `x/../../../tmp/t` or `t')}}{{run_query('drop …')}}`.
/// Each destination has its own escaper here; the drafter uses nothing else.

/// File names made from names: readable ASCII, nothing that can leave the folder it is put in.
public enum SafeFileName {
  /// The longest readable part kept from a name.
  static let maxReadable = 64

  /// `name` with everything but ASCII letters, digits, `_` and `-` replaced by `_`, cut to 64 characters;
  /// when anything was replaced or cut, `_` and 8 hex digits of the name's hash follow, so two names that
  /// read the same keep apart. Never empty, never `.` or `..`, never has a `/`. Nil for an empty name.
  public static func component(_ name: String) -> String? {
    guard !name.isEmpty else { return nil }
    var readable = ""
    var changed = false
    for scalar in name.unicodeScalars {
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "_", "-": readable.unicodeScalars.append(scalar)
      default:
        readable += "_"
        changed = true
      }
    }
    if readable.count > maxReadable {
      readable = String(readable.prefix(maxReadable))
      changed = true
    }
    guard changed else { return readable }
    return readable + "_" + hash(name)
  }

  /// FNV-1a (32 bits) of the UTF-8 bytes, as 8 lowercase hex digits.
  static func hash(_ text: String) -> String {
    var value: UInt32 = 0x811C_9DC5
    for byte in text.utf8 {
      value ^= UInt32(byte)
      value = value &* 0x0100_0193
    }
    let hex = String(value, radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
  }
}

/// Paths of drafted files, relative to the project root.
public enum ProjectRelativePath {
  /// Relative, without `..`, empty or control-character components: a path that, read as written, stays
  /// inside the folder it is relative to. (Symbolic links are the writer's to check: `FileTransaction`.)
  public static func isContained(_ path: String) -> Bool {
    guard !path.isEmpty, !path.hasPrefix("/") else { return false }
    if path.unicodeScalars.contains(where: { TextEscape.isControl($0) }) { return false }
    let components = path.split(separator: "/", omittingEmptySubsequences: false)
    return components.allSatisfy { !$0.isEmpty && $0 != ".." && $0 != "." }
  }
}

/// Characters that do something other than show themselves.
public enum TextEscape {
  /// `\` and `\<quote>` escaped, controls as `\n`, `\r`, `\t` or `\xNN`, the rest as is: the body of a
  /// backslash-escaping string literal (Jinja's, and BigQuery's, Snowflake's and Redshift's SQL).
  static func backslashEscaped(_ value: String, quote: Unicode.Scalar) -> String {
    var out = ""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case quote: out += "\\" + String(quote)
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if isControl(scalar) {
          let hex = String(scalar.value, radix: 16)
          out += "\\x" + (hex.count < 2 ? "0" : "") + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }

  /// C0 controls (newline and tab included), DEL and C1 controls.
  public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
  }

  /// Controls, Unicode line and paragraph separators, and the bidirectional formatting characters that
  /// make text show in another order than it is (U+061C, U+200E/F, U+202A…E, U+2066…9).
  public static func isInvisibleControl(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00..<0x20, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E,
      0x2066...0x2069, 0xFEFF:
      return true
    default:
      return false
    }
  }

  /// `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`: how an escaped character is shown.
  public static func visible(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\n": return "\\n"
    case "\r": return "\\r"
    case "\t": return "\\t"
    default:
      let hex = String(scalar.value, radix: 16)
      if scalar.value < 0x100 { return "\\x" + (hex.count < 2 ? "0" : "") + hex }
      return "\\u{" + hex + "}"
    }
  }

  /// `text` on one line, every invisible control shown as its escape (`\n`, `\x1b`, …).
  public static func oneLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isInvisibleControl) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if isInvisibleControl(scalar) { out += visible(scalar) } else { out.unicodeScalars.append(scalar) }
    }
    return out
  }
}

/// Jinja, as dbt renders models, tests and yml values.
public enum JinjaEscape {
  /// What starts or ends a Jinja tag; dbt renders any yml value that holds one of them.
  public static let delimiters = ["{{", "{%", "{#", "}}", "%}", "#}"]

  /// The first Jinja delimiter in `text`, if any.
  public static func delimiter(in text: String) -> String? {
    delimiters.first { text.contains($0) }
  }

  /// A Jinja string expression whose value is `value`, for a `source()`/`ref()` argument: `'value'`, or
  /// `"value"` when it holds a `'`; when it needs an escape (a backslash, both quotes, a control character),
  /// the escaped literal in parentheses. dbt's static parser (dbt_extractor) reads a literal's escapes as
  /// they are written (`'o\'b'` names `o\'b`); the parentheses make it give up, and Jinja, which reads them
  /// right, renders the call. Driftwatch's own scanner reads all three forms.
  public static func stringLiteral(_ value: String) -> String {
    let needsEscape = value.unicodeScalars.contains { $0 == "\\" || TextEscape.isControl($0) }
    if !needsEscape && !value.contains("'") { return "'" + value + "'" }
    if !needsEscape && !value.contains("\"") { return "\"" + value + "\"" }
    return "(" + escapedLiteral(value) + ")"
  }

  /// A single-quoted Jinja string literal whose value is `value`, for Jinja (Python's `unicode-escape`) and
  /// for driftwatch's own scanner: `\` and `'` escaped, controls as `\n`, `\r`, `\t`, `\xNN`; the rest as is.
  static func escapedLiteral(_ value: String) -> String {
    "'" + TextEscape.backslashEscaped(value, quote: "'") + "'"
  }

  /// Template text that renders as exactly `piece`: `piece` itself when it has no `{` and no control
  /// character, else `{{ '…' }}` (Jinja would read a `{{` in it as code and turn a `\r` into a newline; a
  /// newline in a name would be taken for a line of the template).
  public static func text(_ piece: String) -> String {
    let plain = !piece.unicodeScalars.contains { $0 == "{" || TextEscape.isControl($0) }
    return plain ? piece : "{{ " + escapedLiteral(piece) + " }}"
  }
}

/// YAML scalars and comments, as libyaml (and so dbt's PyYAML) reads them.
public enum YAMLEscape {
  /// A double-quoted scalar: `\` and `"` escaped, every character YAML does not print (controls, NEL,
  /// line/paragraph separators, BOM) as an escape, so the value reads back exactly and stays on one line.
  public static func doubleQuoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{2028}": out += "\\L"
      case "\u{2029}": out += "\\P"
      default:
        if TextEscape.isControl(scalar) {
          let hex = String(scalar.value, radix: 16)
          out += "\\x" + (hex.count < 2 ? "0" : "") + hex
        } else if scalar.value == 0xFEFF || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
          out += "\\u" + String(scalar.value, radix: 16)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  /// Plain when `value` is a simple word (letters, `_`, then digits, spaces, parentheses, commas) that YAML
  /// reads as that string; double-quoted otherwise.
  public static func scalar(_ value: String) -> String {
    let plain = value.unicodeScalars.enumerated().allSatisfy { index, scalar in
      switch scalar {
      case "a"..."z", "A"..."Z", "_": true
      case "0"..."9", " ", "(", ")", ",": index > 0
      default: false
      }
    }
    let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
    return plain && !value.isEmpty && !reserved.contains(value.lowercased()) && value.last != " "
      ? value : doubleQuoted(value)
  }

  /// Comment text: one line, whatever `text` holds (a newline in a name would start a YAML line).
  public static func comment(_ text: String) -> String { TextEscape.oneLine(text) }
}
