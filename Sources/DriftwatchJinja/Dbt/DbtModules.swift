/// dbt's `modules`: the parts of `datetime`, `re` and `itertools` macros use. Anything else in them is an
/// `.unsupported` error when called.
enum DbtModules {
  static func module(_ name: String, _ attributes: [String: Value]) -> Value {
    .object(ModuleObject(name: name, attributes: attributes))
  }

  static func modules(now: Int64) -> Value {
    module(
      "modules",
      [
        "datetime": datetimeModule(now: now),
        "re": reModule(),
        "itertools": itertoolsModule(),
        "pytz": module("pytz", [:]),
      ])
  }

  // MARK: datetime

  static func datetimeModule(now: Int64) -> Value {
    let datetimeClass = ClassObject(
      name: "datetime",
      attributes: [
        "now": .function(Function("now") { _ in .object(DateTime(epochSeconds: now)) }),
        "utcnow": .function(Function("utcnow") { _ in .object(DateTime(epochSeconds: now)) }),
        "today": .function(Function("today") { _ in .object(DateTime(epochSeconds: now)) }),
      ]
    ) { args in
      let n = try args.positional.map { v -> Int in
        guard let i = Operators.intValue(v) else { throw JinjaError(.type, "an integer is required") }
        return i
      }
      guard n.count >= 3 else { throw JinjaError(.type, "datetime() needs year, month and day") }
      func part(_ i: Int, _ key: String) -> Int {
        i < n.count ? n[i] : (args.keyword(key).flatMap(Operators.intValue) ?? 0)
      }
      return .object(
        DateTime(
          year: n[0], month: n[1], day: n[2], hour: part(3, "hour"), minute: part(4, "minute"),
          second: part(5, "second"), microsecond: part(6, "microsecond"), isDate: false))
    }
    let dateClass = ClassObject(
      name: "date",
      attributes: [
        "today": .function(
          Function("today") { _ in
            let d = DateTime(epochSeconds: now)
            d.isDate = true
            return .object(d)
          })
      ]
    ) { args in
      let n = args.positional.compactMap(Operators.intValue)
      guard n.count == 3 else { throw JinjaError(.type, "date() needs year, month and day") }
      return .object(
        DateTime(
          year: n[0], month: n[1], day: n[2], hour: 0, minute: 0, second: 0, microsecond: 0, isDate: true))
    }
    return module(
      "datetime",
      [
        "datetime": .object(datetimeClass),
        "date": .object(dateClass),
        "timedelta": .function(
          Function("timedelta") { args in
            func number(_ i: Int, _ key: String) -> Double {
              (args.positional.count > i
                ? Operators.number(args.positional[i]) : args.keyword(key).flatMap(Operators.number))?
                .double ?? 0
            }
            let seconds =
              number(0, "days") * 86_400 + number(1, "seconds") + number(2, "microseconds") / 1_000_000
              + number(3, "milliseconds") / 1000 + number(4, "minutes") * 60 + number(5, "hours") * 3600
              + number(6, "weeks") * 604_800
            return .object(TimeDelta(microseconds: Int64((seconds * 1_000_000).rounded())))
          }),
      ])
  }

  /// Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
  static func civil(_ days: Int64) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
  }

  static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let m = Int64(month)
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func pad(_ v: Int, _ width: Int) -> String {
    let s = String(abs(v))
    return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
  }

  /// A naive (or, for `run_started_at`, UTC) datetime or date.
  final class DateTime: JinjaObject, EquatableObject, ArithmeticObject {
    var micros: Int64
    var isDate: Bool
    var utc = false

    init(epochSeconds: Int64) {
      micros = epochSeconds * 1_000_000
      isDate = false
      utc = true
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, microsecond: Int, isDate: Bool)
    {
      let days = DbtModules.daysFromCivil(year, month, day)
      micros = ((days * 86_400) + Int64(hour * 3600 + minute * 60 + second)) * 1_000_000 + Int64(microsecond)
      self.isDate = isDate
    }

    init(micros: Int64, isDate: Bool, utc: Bool) {
      self.micros = micros
      self.isDate = isDate
      self.utc = utc
    }

    var typeName: String { isDate ? "date" : "datetime" }

    var parts: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, micro: Int) {
      let totalSeconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
      let micro = Int(micros - totalSeconds * 1_000_000)
      let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
      let secondOfDay = Int(totalSeconds - days * 86_400)
      let (y, m, d) = DbtModules.civil(days)
      return (y, m, d, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60, micro)
    }

    func iso(_ separator: String) -> String {
      let p = parts
      var s = "\(DbtModules.pad(p.year, 4))-\(DbtModules.pad(p.month, 2))-\(DbtModules.pad(p.day, 2))"
      if isDate { return s }
      s +=
        "\(separator)\(DbtModules.pad(p.hour, 2)):\(DbtModules.pad(p.minute, 2)):\(DbtModules.pad(p.second, 2))"
      if p.micro != 0 { s += "." + DbtModules.pad(p.micro, 6) }
      if utc { s += "+00:00" }
      return s
    }

    var rendered: String { iso(" ") }
    var reprText: String { "datetime.\(typeName)(\(iso(" ")))" }

    func isEqual(to other: Value) -> Bool {
      if case .object(let o as DateTime) = other { return o.micros == micros && o.isDate == isDate }
      return false
    }

    func binary(_ op: BinaryOp, _ other: Value, reversed: Bool) throws -> Value? {
      switch (op, other) {
      case (.add, .object(let d as TimeDelta)):
        return .object(
          DateTime(
            micros: micros + (isDate ? d.micros / 86_400_000_000 * 86_400_000_000 : d.micros), isDate: isDate,
            utc: utc))
      case (.sub, .object(let d as TimeDelta)) where !reversed:
        return .object(
          DateTime(
            micros: micros - (isDate ? d.micros / 86_400_000_000 * 86_400_000_000 : d.micros), isDate: isDate,
            utc: utc))
      case (.sub, .object(let o as DateTime)):
        return .object(TimeDelta(microseconds: reversed ? o.micros - micros : micros - o.micros))
      default: return nil
      }
    }

    func strftime(_ format: String) throws -> String {
      let p = parts
      let weekday = Int(((micros / 86_400_000_000) % 7 + 7 + 3) % 7)  // 1970-01-01 was a Thursday (3)
      let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
      let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
      ]
      var out = ""
      var escape = false
      for c in format {
        if !escape {
          if c == "%" { escape = true } else { out.append(c) }
          continue
        }
        escape = false
        switch c {
        case "Y": out += DbtModules.pad(p.year, 4)
        case "y": out += DbtModules.pad(p.year % 100, 2)
        case "m": out += DbtModules.pad(p.month, 2)
        case "d": out += DbtModules.pad(p.day, 2)
        case "H": out += DbtModules.pad(p.hour, 2)
        case "I": out += DbtModules.pad((p.hour + 11) % 12 + 1, 2)
        case "p": out += p.hour < 12 ? "AM" : "PM"
        case "M": out += DbtModules.pad(p.minute, 2)
        case "S": out += DbtModules.pad(p.second, 2)
        case "f": out += DbtModules.pad(p.micro, 6)
        case "j":
          out += DbtModules.pad(
            Int(DbtModules.daysFromCivil(p.year, p.month, p.day) - DbtModules.daysFromCivil(p.year, 1, 1))
              + 1, 3)
        case "A": out += days[weekday]
        case "a": out += String(days[weekday].prefix(3))
        case "B": out += months[p.month - 1]
        case "b": out += String(months[p.month - 1].prefix(3))
        case "w": out += String((weekday + 1) % 7)
        case "z": out += utc ? "+0000" : ""
        case "Z": out += utc ? "UTC" : ""
        case "%": out += "%"
        default: throw JinjaError(.unsupported, "strftime directive '%\(c)' is not supported")
        }
      }
      return out
    }

    func attribute(_ name: String) -> Value? {
      let p = parts
      switch name {
      case "year": return .int(p.year)
      case "month": return .int(p.month)
      case "day": return .int(p.day)
      case "hour": return .int(p.hour)
      case "minute": return .int(p.minute)
      case "second": return .int(p.second)
      case "microsecond": return .int(p.micro)
      case "strftime":
        return .function(
          Function("strftime") { [self] args in .string(try self.strftime(args.positional.first?.str ?? "")) }
        )
      case "isoformat":
        return .function(
          Function("isoformat") { [self] args in .string(self.iso(args.positional.first?.str ?? "T")) })
      case "date":
        return .function(
          Function("date") { [self] _ in .object(DateTime(micros: self.micros, isDate: true, utc: false)) })
      case "weekday": return .int(Int(((micros / 86_400_000_000) % 7 + 7 + 3) % 7))
      case "timestamp":
        return .function(Function("timestamp") { [micros] _ in .double(Double(micros) / 1_000_000) })
      default:
        return .function(
          Function(name) { _ in throw JinjaError(.unsupported, "datetime.\(name) is not supported") })
      }
    }
  }

  final class TimeDelta: JinjaObject, EquatableObject, ArithmeticObject {
    let micros: Int64
    init(microseconds: Int64) { micros = microseconds }
    var typeName: String { "timedelta" }
    var rendered: String {
      var total = micros / 1_000_000
      let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
      total -= days * 86_400
      var s = days != 0 ? "\(days) day\(abs(days) == 1 ? "" : "s"), " : ""
      s += "\(total / 3600):\(DbtModules.pad(Int(total / 60 % 60), 2)):\(DbtModules.pad(Int(total % 60), 2))"
      let micro = Int(micros % 1_000_000)
      if micro != 0 { s += "." + DbtModules.pad(micro, 6) }
      return s
    }
    func isEqual(to other: Value) -> Bool {
      if case .object(let o as TimeDelta) = other { return o.micros == micros }
      return false
    }
    func binary(_ op: BinaryOp, _ other: Value, reversed: Bool) throws -> Value? {
      switch (op, other) {
      case (.add, .object(let d as TimeDelta)): return .object(TimeDelta(microseconds: micros + d.micros))
      case (.sub, .object(let d as TimeDelta)):
        return .object(TimeDelta(microseconds: reversed ? d.micros - micros : micros - d.micros))
      case (.add, .object(let dt as DateTime)): return try dt.binary(.add, .object(self), reversed: false)
      default: return nil
      }
    }
    func attribute(_ name: String) -> Value? {
      switch name {
      case "days":
        return .int(Int(micros >= 0 ? micros / 86_400_000_000 : (micros - 86_399_999_999) / 86_400_000_000))
      case "seconds": return .int(Int(((micros / 1_000_000) % 86_400 + 86_400) % 86_400))
      case "total_seconds":
        return .function(Function("total_seconds") { [micros] _ in .double(Double(micros) / 1_000_000) })
      default: return nil
      }
    }
  }

  // MARK: re

  static func reModule() -> Value {
    var attributes: [String: Value] = [
      "IGNORECASE": .int(2), "I": .int(2), "MULTILINE": .int(8), "M": .int(8), "DOTALL": .int(16),
      "S": .int(16),
      "VERBOSE": .int(64), "X": .int(64),
      "escape": .function(
        Function("escape") { args in
          var out = ""
          for c in (args.positional.first?.str ?? "").unicodeScalars {
            if !(c.properties.isAlphabetic || c.properties.numericType != nil || c == "_") && c.isASCII {
              out += "\\"
            }
            out.unicodeScalars.append(c)
          }
          return .string(out)
        }),
    ]
    for name in ["match", "search", "fullmatch", "findall", "sub", "split"] {
      attributes[name] = .function(
        Function(name) { args in
          guard let pattern = args.positional.first?.str else {
            throw JinjaError(.type, "re.\(name) needs a pattern")
          }
          let rest = Arguments(Array(args.positional.dropFirst()), keywords: args.keywords)
          let flagIndex = (name == "sub" ? 3 : name == "split" ? 2 : 1)
          let flags = rest.value(flagIndex, "flags").flatMap(Operators.intValue) ?? 0
          return try RegexObject(pattern: pattern, flags: flags).run(name, rest)
        })
    }
    attributes["compile"] = .function(
      Function("compile") { args in
        guard let pattern = args.positional.first?.str else {
          throw JinjaError(.type, "re.compile needs a pattern")
        }
        let flags = args.value(1, "flags").flatMap(Operators.intValue) ?? 0
        return .object(try RegexObject(pattern: pattern, flags: flags))
      })
    return module("re", attributes)
  }

  final class RegexObject: JinjaObject {
    let pattern: String
    let regex: Regex<AnyRegexOutput>

    init(pattern: String, flags: Int) throws {
      self.pattern = pattern
      var inline = ""
      if flags & 2 != 0 { inline += "i" }
      if flags & 8 != 0 { inline += "m" }
      if flags & 16 != 0 { inline += "s" }
      if flags & 64 != 0 { inline += "x" }
      do {
        regex = try Regex(inline.isEmpty ? pattern : "(?\(inline))" + pattern)
      } catch {
        throw JinjaError(.unsupported, "regular expression '\(pattern)' is not supported: \(error)")
      }
    }

    var typeName: String { "Pattern" }

    func attribute(_ name: String) -> Value? {
      guard ["match", "search", "fullmatch", "findall", "sub", "split"].contains(name) else { return nil }
      return .function(Function(name) { [self] args in try self.run(name, args) })
    }

    func run(_ name: String, _ args: Arguments) throws -> Value {
      switch name {
      case "match", "search", "fullmatch":
        let text = args.value(0, "string")?.str ?? ""
        let m: Regex<AnyRegexOutput>.Match?
        switch name {
        case "match": m = try regex.prefixMatch(in: text)
        case "search": m = try regex.firstMatch(in: text)
        default: m = try regex.wholeMatch(in: text)
        }
        guard let m else { return .none }
        return .object(MatchObject(match: m, text: text))
      case "findall":
        let text = args.value(0, "string")?.str ?? ""
        return .list(
          ListRef(
            text.matches(of: regex).map { m in
              let groups = (1..<max(1, m.output.count)).map { i -> Value in
                m.output.count > i
                  ? (m.output[i].substring.map { .string(String($0)) } ?? .string("")) : .none
              }
              if m.output.count <= 1 { return .string(String(text[m.range])) }
              return groups.count == 1 ? groups[0] : .tuple(groups)
            }))
      case "sub":
        let replacement = args.value(0, "repl") ?? .string("")
        let text = args.value(1, "string")?.str ?? ""
        let count = args.value(2, "count").flatMap(Operators.intValue) ?? 0
        var out = ""
        var last = text.startIndex
        var n = 0
        for m in text.matches(of: regex) {
          if count > 0 && n >= count { break }
          out += text[last..<m.range.lowerBound]
          out += try expand(replacement, m)
          last = m.range.upperBound
          n += 1
        }
        out += text[last...]
        return .string(out)
      case "split":
        let text = args.value(0, "string")?.str ?? ""
        var parts: [Value] = []
        var last = text.startIndex
        for m in text.matches(of: regex) where !m.range.isEmpty {
          parts.append(.string(String(text[last..<m.range.lowerBound])))
          last = m.range.upperBound
        }
        parts.append(.string(String(text[last...])))
        return .list(ListRef(parts))
      default: return .none
      }
    }

    func expand(_ replacement: Value, _ m: Regex<AnyRegexOutput>.Match) throws -> String {
      guard case .string(let template) = replacement else {
        throw JinjaError(.unsupported, "re.sub with a function replacement is not supported")
      }
      var out = ""
      var chars = Array(template)[...]
      while let c = chars.first {
        chars = chars.dropFirst()
        guard c == "\\", let next = chars.first else {
          out.append(c)
          continue
        }
        chars = chars.dropFirst()
        if let d = next.wholeNumberValue {
          if d < m.output.count, let s = m.output[d].substring { out += s }
        } else if next == "g", chars.first == "<", let close = chars.firstIndex(of: ">") {
          let name = String(chars[chars.index(after: chars.startIndex)..<close])
          chars = chars[chars.index(after: close)...]
          if let i = Int(name) {
            if i < m.output.count, let s = m.output[i].substring { out += s }
          } else if let s = m.output[name]?.substring {
            out += s
          }
        } else if next == "n" {
          out += "\n"
        } else if next == "t" {
          out += "\t"
        } else if next == "\\" {
          out += "\\"
        } else {
          out.append("\\")
          out.append(next)
        }
      }
      return out
    }
  }

  final class MatchObject: JinjaObject {
    let match: Regex<AnyRegexOutput>.Match
    let text: String
    init(match: Regex<AnyRegexOutput>.Match, text: String) {
      self.match = match
      self.text = text
    }
    var typeName: String { "Match" }
    var rendered: String { "<re.Match object; match=\(pythonStringRepr(String(text[match.range])))>" }

    func group(_ key: Value) -> Value {
      if let i = Operators.intValue(key) {
        guard i < match.output.count else { return .none }
        return match.output[i].substring.map { .string(String($0)) } ?? .none
      }
      return match.output[key.str]?.substring.map { .string(String($0)) } ?? .none
    }

    func attribute(_ name: String) -> Value? {
      switch name {
      case "group":
        return .function(
          Function("group") { [self] args in
            if args.positional.count > 1 { return .tuple(args.positional.map { self.group($0) }) }
            return self.group(args.positional.first ?? .int(0))
          })
      case "groups":
        return .function(
          Function("groups") { [self] _ in
            .tuple((1..<max(1, self.match.output.count)).map { self.group(.int($0)) })
          })
      case "start":
        return .function(
          Function("start") { [self] _ in
            .int(
              self.text.unicodeScalars.distance(from: self.text.startIndex, to: self.match.range.lowerBound))
          })
      case "end":
        return .function(
          Function("end") { [self] _ in
            .int(
              self.text.unicodeScalars.distance(from: self.text.startIndex, to: self.match.range.upperBound))
          })
      default: return nil
      }
    }
  }

  // MARK: itertools

  static func itertoolsModule() -> Value {
    func lists(_ args: Arguments) throws -> [[Value]] {
      try args.positional.map { try Attributes.iterateSimple($0) }
    }
    return module(
      "itertools",
      [
        "chain": .function(Function("chain") { args in .list(ListRef(try lists(args).flatMap { $0 })) }),
        "product": .function(
          Function("product") { args in
            let repeatCount = args.keyword("repeat").flatMap(Operators.intValue) ?? 1
            var pools: [[Value]] = []
            for _ in 0..<max(0, repeatCount) { pools += try lists(args) }
            var result: [[Value]] = [[]]
            for pool in pools { result = result.flatMap { prefix in pool.map { prefix + [$0] } } }
            return .list(ListRef(result.map { .tuple($0) }))
          }),
        "combinations": .function(
          Function("combinations") { args in
            let pool = try Attributes.iterateSimple(args.positional.first ?? .list([]))
            let r = args.value(1, "r").flatMap(Operators.intValue) ?? 0
            var out: [Value] = []
            func walk(_ start: Int, _ current: [Value]) {
              if current.count == r {
                out.append(.tuple(current))
                return
              }
              guard start < pool.count else { return }
              for i in start..<pool.count { walk(i + 1, current + [pool[i]]) }
            }
            if r <= pool.count { walk(0, []) }
            return .list(ListRef(out))
          }),
        "permutations": .function(
          Function("permutations") { args in
            let pool = try Attributes.iterateSimple(args.positional.first ?? .list([]))
            let r = args.value(1, "r").flatMap(Operators.intValue) ?? pool.count
            var out: [Value] = []
            func walk(_ used: [Bool], _ current: [Value]) {
              if current.count == r {
                out.append(.tuple(current))
                return
              }
              for i in 0..<pool.count where !used[i] {
                var u = used
                u[i] = true
                walk(u, current + [pool[i]])
              }
            }
            if r <= pool.count { walk([Bool](repeating: false, count: pool.count), []) }
            return .list(ListRef(out))
          }),
        "islice": .function(
          Function("islice") { args in
            let items = try Attributes.iterateSimple(args.positional.first ?? .list([]))
            let rest = args.positional.dropFirst().map { Operators.intValue($0) }
            let start = rest.count >= 2 ? (rest[rest.startIndex] ?? 0) : 0
            let stop = rest.count >= 2 ? rest[rest.startIndex + 1] : rest.first ?? nil
            let step = rest.count >= 3 ? (rest[rest.startIndex + 2] ?? 1) : 1
            return try Operators.slice(
              .list(ListRef(items)), .int(start), stop.map(Value.int) ?? Value.none, .int(max(1, step)))
          }),
      ])
  }
}

/// A module: its known attributes; anything else is a function that raises `.unsupported` when called.
final class ModuleObject: JinjaObject {
  let name: String
  let attributes: [String: Value]
  init(name: String, attributes: [String: Value]) {
    self.name = name
    self.attributes = attributes
  }
  var typeName: String { "module" }
  var rendered: String { "<module '\(name)'>" }
  func attribute(_ attr: String) -> Value? {
    if let v = attributes[attr] { return v }
    let qualified = name + "." + attr
    return .function(
      Function(qualified) { _ in throw JinjaError(.unsupported, "\(qualified) is not supported") })
  }
}

/// A Python class: attributes (class methods) and a constructor.
final class ClassObject: CallableObject {
  let name: String
  let attributes: [String: Value]
  let constructor: (Arguments) throws -> Value
  init(name: String, attributes: [String: Value], constructor: @escaping (Arguments) throws -> Value) {
    self.name = name
    self.attributes = attributes
    self.constructor = constructor
  }
  var typeName: String { "type" }
  var rendered: String { "<class '\(name)'>" }
  func call(_ arguments: Arguments) throws -> Value { try constructor(arguments) }
  func attribute(_ attr: String) -> Value? {
    if let v = attributes[attr] { return v }
    let qualified = name + "." + attr
    return .function(
      Function(qualified) { _ in throw JinjaError(.unsupported, "\(qualified) is not supported") })
  }
}

/// An injected object with its own `+`/`-` (dates and time deltas).
protocol ArithmeticObject: JinjaObject {
  /// `self op other` (or `other op self` when `reversed`); nil when unsupported.
  func binary(_ op: BinaryOp, _ other: Value, reversed: Bool) throws -> Value?
}
