/// Values as Python holds them after PyYAML's `safe_load`, with Python's `str()` and `repr()`.
/// dbt builds generic test names from `str()` of the test's arguments and hashes `repr()` of them, so the
/// unique ids driftwatch computes match dbt's only if these match Python's spelling exactly.
struct PyPair: Sendable, Hashable {
  var key: PyValue
  var value: PyValue
}

indirect enum PyValue: Sendable, Hashable {
  case str(String)
  /// Decimal digits, as `str(int)` prints them.
  case int(String)
  case float(Double)
  case bool(Bool)
  case none
  case list([PyValue])
  case dict([PyPair])

  /// Python's `str(value)`.
  var pythonStr: String {
    switch self {
    case .str(let value): return value
    default: return pythonRepr
    }
  }

  /// Python's `repr(value)`.
  var pythonRepr: String {
    var output = ""
    appendRepr(to: &output)
    return output
  }

  func appendRepr(to output: inout String) {
    switch self {
    case .str(let value): PyValue.appendReprString(value, to: &output)
    case .int(let digits): output += digits
    case .float(let value): output += PyValue.reprFloat(value)
    case .bool(let value): output += value ? "True" : "False"
    case .none: output += "None"
    case .list(let items):
      output += "["
      for (index, item) in items.enumerated() {
        if index > 0 { output += ", " }
        item.appendRepr(to: &output)
      }
      output += "]"
    case .dict(let pairs):
      output += "{"
      for (index, pair) in pairs.enumerated() {
        if index > 0 { output += ", " }
        pair.key.appendRepr(to: &output)
        output += ": "
        pair.value.appendRepr(to: &output)
      }
      output += "}"
    }
  }

  var stringValue: String? {
    if case .str(let value) = self { return value }
    return nil
  }

  /// Python's `repr()` of a `str`, appended to `output`: single quotes unless the text has a `'` and no `"`.
  static func appendReprString(_ value: String, to output: inout String) {
    var hasSingle = false
    var hasDouble = false
    var plain = true
    for byte in value.utf8 {
      switch byte {
      case UInt8(ascii: "'"): hasSingle = true
      case UInt8(ascii: "\""): hasDouble = true
      case UInt8(ascii: "\\"): plain = false
      case 0x20...0x7E: break
      default: plain = false
      }
    }
    let quote: Character = hasSingle && !hasDouble ? "\"" : "'"
    if plain && !(hasSingle && hasDouble) {
      // Printable ASCII without backslashes, and the quote character absent: nothing to escape.
      output.append(quote)
      output += value
      output.append(quote)
      return
    }
    output.append(quote)
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": output += "\\\\"
      case "\n": output += "\\n"
      case "\r": output += "\\r"
      case "\t": output += "\\t"
      default:
        if Character(scalar) == quote {
          output += "\\" + String(quote)
        } else if isPrintable(scalar) {
          output.unicodeScalars.append(scalar)
        } else {
          output += escape(scalar)
        }
      }
    }
    output.append(quote)
  }

  /// Python's `str.isprintable()` per character: not a control, format, surrogate, private-use,
  /// unassigned or separator character, except the ASCII space.
  private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
      .spaceSeparator:
      return false
    default:
      return true
    }
  }

  private static func escape(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16)
    if scalar.value <= 0xFF { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
    if scalar.value <= 0xFFFF { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
    return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
  }

  /// Python's `repr(float)`: the shortest digits that round-trip, positional between 1e-4 and 1e16,
  /// scientific (`1e+16`, `1.5e-05`) outside, `.0` on integral values.
  static func reprFloat(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description also prints the shortest round-trip digits; take them apart.
    let description = "\(abs(value))"
    var mantissa = description
    var exponent = 0
    if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      mantissa = String(description[..<e])
      exponent = Int(description[description.index(after: e)...]) ?? 0
    }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let integerPart = String(parts.first ?? "")
    let fractionPart = parts.count > 1 ? String(parts[1]) : ""
    var digits = integerPart + fractionPart
    var pointPosition = integerPart.count + exponent  // digits before the decimal point
    // Normalise: strip leading zeros (moving the point), trailing zeros.
    while digits.count > 1 && digits.hasPrefix("0") {
      digits.removeFirst()
      pointPosition -= 1
    }
    while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
    let decimalExponent = pointPosition - 1  // value = d.ddd × 10^decimalExponent
    let sign = value < 0 ? "-" : ""
    if decimalExponent >= -4 && decimalExponent < 16 {
      if pointPosition <= 0 {
        return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
      }
      if pointPosition >= digits.count {
        return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
      }
      let split = digits.index(digits.startIndex, offsetBy: pointPosition)
      return sign + digits[..<split] + "." + digits[split...]
    }
    let head = String(digits.prefix(1))
    let tail = String(digits.dropFirst())
    let exponentText = String(abs(decimalExponent))
    let paddedExponent =
      (decimalExponent < 0 ? "-" : "+")
      + (exponentText.count < 2 ? "0" + exponentText : exponentText)
    return sign + head + (tail.isEmpty ? "" : "." + tail) + "e" + paddedExponent
  }
}

/// PyYAML's implicit resolution of plain scalars (YAML 1.1, as `yaml.SafeLoader` does it).
enum PyYAML {
  static func isNull(_ text: String) -> Bool {
    text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
  }

  static func bool(_ text: String) -> Bool? {
    switch text {
    case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return true
    case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return false
    default: return nil
    }
  }

  /// Keys are resolved like values, but dbt's keys are nearly always plain words.
  static func resolveKey(_ text: String) -> PyValue { resolve(text) }

  static func resolve(_ text: String) -> PyValue {
    // Most scalars are words. Null, bools, ints, floats and timestamps all start with one of
    // `~ - + . 0-9 n N t T f F y Y o O`: any other first byte is a string, whatever follows.
    if let first = text.utf8.first, !mayResolve(first) { return .str(text) }
    if isNull(text) { return .none }
    if let value = bool(text) { return .bool(value) }
    if let value = int(text) { return .int(value) }
    if let value = float(text) { return .float(value) }
    // Timestamps (`2024-01-31`) come back as dates whose `str()` is the same text.
    return .str(text)
  }

  private static func mayResolve(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "~"), UInt8(ascii: "-"), UInt8(ascii: "+"),
      UInt8(ascii: "."), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
      UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "o"),
      UInt8(ascii: "O"):
      return true
    default:
      return false
    }
  }

  /// `[-+]?0b[01_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
  static func int(_ text: String) -> String? {
    var body = Substring(text)
    var negative = false
    if let first = body.first, first == "-" || first == "+" {
      negative = first == "-"
      body = body.dropFirst()
    }
    guard let first = body.first else { return nil }
    func render(_ magnitude: String?) -> String? {
      guard let magnitude else { return nil }
      return negative && magnitude != "0" ? "-" + magnitude : magnitude
    }
    if body.hasPrefix("0b") {
      let digits = body.dropFirst(2)
      guard !digits.isEmpty, digits.allSatisfy({ $0 == "0" || $0 == "1" || $0 == "_" }) else { return nil }
      return render(convert(digits, radix: 2))
    }
    if body.hasPrefix("0x") {
      let digits = body.dropFirst(2)
      guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit || $0 == "_" }) else { return nil }
      return render(convert(digits, radix: 16))
    }
    if first == "0" && body.count > 1 {
      let digits = body.dropFirst()
      guard digits.allSatisfy({ ("0"..."7").contains($0) || $0 == "_" }) else { return nil }
      return render(convert(digits, radix: 8))
    }
    if body.contains(":") {
      // Sexagesimal: 1:30 = 90.
      let parts = body.split(separator: ":", omittingEmptySubsequences: false)
      guard let head = parts.first, let firstDigit = head.first, ("1"..."9").contains(firstDigit),
        head.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") })
      else { return nil }
      var total = Int(head.filter { $0 != "_" }) ?? 0
      for part in parts.dropFirst() {
        guard (1...2).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
          let value = Int(part), value < 60,
          part.count == 1 || part.first.map({ ("0"..."5").contains($0) }) == true
        else { return nil }
        total = total * 60 + value
      }
      return render(String(total))
    }
    guard body.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "_" }), first != "_" else { return nil }
    let digits = body.filter { $0 != "_" }
    guard !digits.isEmpty else { return nil }
    let trimmed = digits.drop(while: { $0 == "0" })
    return render(trimmed.isEmpty ? "0" : String(trimmed))
  }

  private static func convert(_ digits: Substring, radix: Int) -> String? {
    let clean = digits.filter { $0 != "_" }
    guard !clean.isEmpty, let value = Int(clean, radix: radix) else { return nil }
    return String(value)
  }

  /// `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9_]+([eE][-+][0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)`
  static func float(_ text: String) -> Double? {
    var body = Substring(text)
    var negative = false
    var signed = false
    if let first = body.first, first == "-" || first == "+" {
      negative = first == "-"
      signed = true
      body = body.dropFirst()
    }
    if [".inf", ".Inf", ".INF"].contains(body) { return negative ? -.infinity : .infinity }
    if [".nan", ".NaN", ".NAN"].contains(text) { return .nan }
    var exponentPart: Substring = ""
    if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      exponentPart = body[body.index(after: e)...]
      body = body[..<e]
      guard let sign = exponentPart.first, sign == "-" || sign == "+", exponentPart.count > 1,
        exponentPart.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
      else { return nil }
    }
    guard let dot = body.firstIndex(of: ".") else { return nil }
    let whole = body[..<dot]
    let fraction = body[body.index(after: dot)...]
    let digitOrUnderscore: (Character) -> Bool = { ($0.isASCII && $0.isNumber) || $0 == "_" }
    if whole.isEmpty {
      guard !signed, let first = fraction.first, first.isASCII, first.isNumber,
        fraction.allSatisfy(digitOrUnderscore)
      else { return nil }
    } else {
      guard let first = whole.first, first.isASCII, first.isNumber, whole.allSatisfy(digitOrUnderscore),
        fraction.allSatisfy(digitOrUnderscore)
      else { return nil }
    }
    let clean = (whole + "." + fraction).filter { $0 != "_" }
    let literal =
      (clean.hasSuffix(".") ? clean + "0" : clean) + (exponentPart.isEmpty ? "" : "e" + exponentPart)
    guard let value = Double(literal.hasPrefix(".") ? "0" + literal : literal) else { return nil }
    return negative ? -value : value
  }
}
