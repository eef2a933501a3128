/// A JSON value with ordered keys, so reports keep their documented key order and golden files stay stable.
public indirect enum JSONValue: Sendable, Hashable {
  case object([(String, JSONValue)])
  case array([JSONValue])
  case string(String)
  case number(Double)
  case integer(Int)
  case bool(Bool)
  case null

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.rendered() == rhs.rendered() }
  public func hash(into hasher: inout Hasher) { hasher.combine(rendered()) }

  public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
  public static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

  /// Pretty-printed with two-space indentation and a trailing newline.
  public func rendered() -> String {
    var out = ""
    write(into: &out, indent: 0)
    out += "\n"
    return out
  }

  private func write(into out: inout String, indent: Int) {
    let pad = String(repeating: "  ", count: indent)
    let inner = String(repeating: "  ", count: indent + 1)
    switch self {
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{\n"
      for (index, (key, value)) in members.enumerated() {
        out += inner
        Self.appendQuoted(key, to: &out)
        out += ": "
        value.write(into: &out, indent: indent + 1)
        out += index == members.count - 1 ? "\n" : ",\n"
      }
      out += pad + "}"
    case .array(let values):
      if values.isEmpty {
        out += "[]"
        return
      }
      out += "[\n"
      for (index, value) in values.enumerated() {
        out += inner
        value.write(into: &out, indent: indent + 1)
        out += index == values.count - 1 ? "\n" : ",\n"
      }
      out += pad + "]"
    case .string(let text): Self.appendQuoted(text, to: &out)
    case .number(let value):
      if value.isFinite {
        out += value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
      } else {
        out += "null"
      }
    case .integer(let value): out += String(value)
    case .bool(let value): out += value ? "true" : "false"
    case .null: out += "null"
    }
  }

  static func quote(_ text: String) -> String {
    var out = ""
    appendQuoted(text, to: &out)
    return out
  }

  /// A byte that cannot stand in a JSON string as it is: `"`, `\` and control characters.
  static func needsEscape(_ byte: UInt8) -> Bool { byte == 0x22 || byte == 0x5C || byte < 0x20 }

  /// Appends `text` as a JSON string literal. Most strings (ids, names) need no escape and are copied whole.
  static func appendQuoted(_ text: String, to out: inout String) {
    out += "\""
    if !text.utf8.contains(where: needsEscape) {
      out += text
      out += "\""
      return
    }
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}

/// JSON text written as UTF-8 bytes, for reports with tens of thousands of entries: appending bytes costs less
/// than growing a `String` piece by piece. Strings are quoted exactly as `JSONValue.appendQuoted` quotes them.
struct JSONBytes {
  private var bytes: [UInt8] = []

  init(capacity: Int) {
    bytes.reserveCapacity(capacity)
  }

  mutating func append(_ text: String) {
    var text = text
    text.withUTF8 { bytes.append(contentsOf: $0) }
  }

  mutating func appendQuoted(_ text: String) {
    var text = text
    let plain = text.withUTF8 { utf8 in
      guard !utf8.contains(where: JSONValue.needsEscape) else { return false }
      bytes.append(0x22)
      bytes.append(contentsOf: utf8)
      bytes.append(0x22)
      return true
    }
    if plain { return }
    var quoted = ""
    JSONValue.appendQuoted(text, to: &quoted)
    append(quoted)
  }

  var string: String { String(decoding: bytes, as: UTF8.self) }
}

extension JSONValue {
  /// Pretty-printed at nesting level `indent`, without the trailing newline: a member written into a larger
  /// document by hand.
  func renderedFragment(indent: Int) -> String {
    var out = ""
    write(into: &out, indent: indent)
    return out
  }
}
