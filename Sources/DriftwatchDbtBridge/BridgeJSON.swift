import Foundation

/// The JSON of a bridge request, written into a Jinja block: every character Jinja or a template could read
/// as syntax (`{`, `}`, `%`, `#`) and every control character is a `\u` escape inside strings, so the block is
/// plain data to Jinja and exact to `fromjson`.
indirect enum BridgeJSON: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int)
  case string(String)
  case array([BridgeJSON])
  case object([(String, BridgeJSON)])

  static func == (lhs: BridgeJSON, rhs: BridgeJSON) -> Bool { lhs.encoded == rhs.encoded }
  func hash(into hasher: inout Hasher) { hasher.combine(encoded) }

  static func optional(_ value: String?) -> BridgeJSON { value.map { .string($0) } ?? .null }
  static func strings(_ values: [String]) -> BridgeJSON { .array(values.map { .string($0) }) }

  var encoded: String {
    var out = ""
    write(into: &out)
    return out
  }

  private func write(into out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let value): out += value ? "true" : "false"
    case .int(let value): out += String(value)
    case .string(let value): Self.writeString(value, into: &out)
    case .array(let values):
      out += "["
      for (index, value) in values.enumerated() {
        if index > 0 { out += ", " }
        value.write(into: &out)
      }
      out += "]"
    case .object(let pairs):
      out += "{"
      for (index, (key, value)) in pairs.enumerated() {
        if index > 0 { out += ", " }
        Self.writeString(key, into: &out)
        out += ": "
        value.write(into: &out)
      }
      out += "}"
    }
  }

  private static func writeString(_ value: String, into out: inout String) {
    out += "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "{", "}", "%", "#": out += unicodeEscape(scalar.value)
      default:
        if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
          || scalar.value == 0x2029
        {
          out += unicodeEscape(scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }

  private static func unicodeEscape(_ value: UInt32) -> String {
    let hex = String(value, radix: 16)
    return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
  }
}
