/// Python's `json.dumps`/`json.loads` over `Value` (ASCII output, `, `/`: ` separators).
public enum JSON {
  public static func dump(_ value: Value, sortKeys: Bool = false, indent: Int? = nil) throws -> String {
    var out = ""
    try write(value, into: &out, sortKeys: sortKeys, indent: indent, level: 0)
    return out
  }

  static func write(_ value: Value, into out: inout String, sortKeys: Bool, indent: Int?, level: Int) throws {
    func newline(_ l: Int) {
      guard let indent else { return }
      out += "\n" + String(repeating: " ", count: indent * l)
    }
    let itemSeparator = indent == nil ? ", " : ","
    switch value {
    case .none: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isNaN {
        out += "NaN"
      } else if d.isInfinite {
        out += d < 0 ? "-Infinity" : "Infinity"
      } else {
        out += pythonFloat(d)
      }
    case .string(let s): writeString(s, into: &out)
    case .list, .tuple:
      let items: [Value]
      if case .list(let l) = value {
        items = l.items
      } else if case .tuple(let t) = value {
        items = t
      } else {
        items = []
      }
      if items.isEmpty {
        out += "[]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += itemSeparator }
        newline(level + 1)
        try write(item, into: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
      }
      newline(level)
      out += "]"
    case .dict(let d):
      if d.count == 0 {
        out += "{}"
        return
      }
      var pairs: [(String, Value)] = try d.entries.map { entry in
        switch entry.key {
        case .string(let s): return (s, entry.value)
        case .int(let i): return (String(i), entry.value)
        case .double(let x): return (pythonFloat(x), entry.value)
        case .bool(let b): return (b ? "true" : "false", entry.value)
        case .none: return ("null", entry.value)
        default:
          throw JinjaError(.type, "keys must be str, int, float, bool or None, not \(entry.key.typeName)")
        }
      }
      if sortKeys {
        pairs = try Filters.mergeSort(pairs) {
          $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars)
        }
      }
      out += "{"
      for (i, pair) in pairs.enumerated() {
        if i > 0 { out += itemSeparator }
        newline(level + 1)
        writeString(pair.0, into: &out)
        out += ": "
        try write(pair.1, into: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
      }
      newline(level)
      out += "}"
    case .object(let o):
      if let j = o as? JSONRepresentable {
        try write(j.jsonValue, into: &out, sortKeys: sortKeys, indent: indent, level: level)
      } else {
        throw JinjaError(.type, "object of type \(o.typeName) is not JSON serializable")
      }
    default:
      throw JinjaError(.type, "object of type \(value.typeName) is not JSON serializable")
    }
  }

  /// `s` as a JSON string, as Python's `json.dumps` writes it (`ensure_ascii`, its default, which dbt keeps for
  /// `tojson` and `dbt ls --output json`): `"`, `\\` and `\n \r \t \b \f` escaped by name, every other
  /// scalar outside space…`~` (controls, DEL, non-ASCII) as `\uXXXX`, beyond U+FFFF as a surrogate pair.
  public static func quoted(_ s: String) -> String {
    var out = ""
    writeString(s, into: &out)
    return out
  }

  static func writeString(_ s: String, into out: inout String) {
    out += "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if c.value < 0x20 || c.value > 0x7e {
          if c.value > 0xFFFF {
            let v = c.value - 0x10000
            out += "\\u" + hex(0xD800 + (v >> 10), width: 4) + "\\u" + hex(0xDC00 + (v & 0x3FF), width: 4)
          } else {
            out += "\\u" + hex(c.value, width: 4)
          }
        } else {
          out.unicodeScalars.append(c)
        }
      }
    }
    out += "\""
  }

  public static func parse(_ text: String) throws -> Value {
    var p = JSONParser(bytes: Array(text.utf8))
    p.skipSpace()
    let v = try p.value()
    p.skipSpace()
    guard p.pos == p.bytes.count else { throw JinjaError(.value, "extra data in json at offset \(p.pos)") }
    return v
  }
}

/// An injected object that `tojson` can write.
public protocol JSONRepresentable: JinjaObject {
  var jsonValue: Value { get }
}

struct JSONParser {
  let bytes: [UInt8]
  var pos = 0

  mutating func skipSpace() {
    while pos < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[pos]) { pos += 1 }
  }

  func fail(_ what: String) -> JinjaError { JinjaError(.value, "invalid json: \(what) at offset \(pos)") }

  mutating func literal(_ word: String, _ v: Value) throws -> Value {
    let w = Array(word.utf8)
    guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else {
      throw fail("unexpected token")
    }
    pos += w.count
    return v
  }

  mutating func value() throws -> Value {
    guard pos < bytes.count else { throw fail("unexpected end") }
    switch bytes[pos] {
    case UInt8(ascii: "{"):
      pos += 1
      let d = DictRef()
      skipSpace()
      if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
        pos += 1
        return .dict(d)
      }
      while true {
        skipSpace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a key") }
        let key = try string()
        skipSpace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        pos += 1
        skipSpace()
        d.set(.string(key), try value())
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end") }
        if bytes[pos] == UInt8(ascii: ",") {
          pos += 1
          continue
        }
        guard bytes[pos] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
        pos += 1
        return .dict(d)
      }
    case UInt8(ascii: "["):
      pos += 1
      var items: [Value] = []
      skipSpace()
      if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
        pos += 1
        return .list(ListRef(items))
      }
      while true {
        skipSpace()
        items.append(try value())
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end") }
        if bytes[pos] == UInt8(ascii: ",") {
          pos += 1
          continue
        }
        guard bytes[pos] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
        pos += 1
        return .list(ListRef(items))
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .none)
    case UInt8(ascii: "N"): return try literal("NaN", .double(.nan))
    case UInt8(ascii: "I"): return try literal("Infinity", .double(.infinity))
    default: return try number()
    }
  }

  mutating func number() throws -> Value {
    let start = pos
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "-") {
      pos += 1
      if pos < bytes.count && bytes[pos] == UInt8(ascii: "I") {
        _ = try literal("Infinity", .none)
        return .double(-.infinity)
      }
    }
    var isFloat = false
    while pos < bytes.count {
      let c = bytes[pos]
      if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
        pos += 1
      } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
        || ((c == UInt8(ascii: "+") || c == UInt8(ascii: "-")) && pos > start)
      {
        isFloat = true
        pos += 1
      } else {
        break
      }
    }
    let text = String(decoding: bytes[start..<pos], as: UTF8.self)
    if !isFloat, let i = Int(text) { return .int(i) }
    guard let d = Double(text), !text.isEmpty else { throw fail("unexpected token") }
    return .double(d)
  }

  mutating func string() throws -> String {
    pos += 1
    var out: [UInt8] = []
    var result = ""
    while pos < bytes.count {
      let c = bytes[pos]
      if c == UInt8(ascii: "\"") {
        pos += 1
        result += String(decoding: out, as: UTF8.self)
        return result
      }
      if c == UInt8(ascii: "\\") {
        guard pos + 1 < bytes.count else { break }
        let e = bytes[pos + 1]
        pos += 2
        switch e {
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "u"):
          guard pos + 4 <= bytes.count,
            var v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
          else { throw fail("bad \\u escape") }
          pos += 4
          if v >= 0xD800 && v < 0xDC00, pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"),
            bytes[pos + 1] == UInt8(ascii: "u"),
            let low = UInt32(String(decoding: bytes[pos + 2..<pos + 6], as: UTF8.self), radix: 16),
            low >= 0xDC00 && low < 0xE000
          {
            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
            pos += 6
          }
          result += String(decoding: out, as: UTF8.self)
          out.removeAll()
          result.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
        default: throw fail("bad escape")
        }
        continue
      }
      out.append(c)
      pos += 1
    }
    throw fail("unterminated string")
  }
}
