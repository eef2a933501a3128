/// A UTC instant in milliseconds since 1970, printed as ISO-8601 (`2026-02-17T14:00:00.000Z`).
/// Core has no clock: adapters pass `Timestamp`s in, so every decision here is testable with fixed times.
public struct Timestamp: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var millisecondsSinceEpoch: Int64

  public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
  }

  public func adding(milliseconds: Int64) -> Timestamp {
    Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
  }

  /// Milliseconds from `earlier` to this instant.
  public func milliseconds(since earlier: Timestamp) -> Int64 {
    millisecondsSinceEpoch - earlier.millisecondsSinceEpoch
  }

  public var description: String { iso8601 }

  /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
  public var iso8601: String {
    let (days, msOfDay) = floorDivide(millisecondsSinceEpoch, 86_400_000)
    let (year, month, day) = Self.civil(fromDays: days)
    let seconds = msOfDay / 1000
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):"
      + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
  }

  /// `YYYY-MM-DD`.
  public var date: String { String(iso8601.prefix(10)) }
  /// `HH:MM:SS` (UTC).
  public var time: String { String(iso8601.dropFirst(11).prefix(8)) }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.fff…][Z|±HH:MM]` (also with a space instead of `T`).
  public static func parse(_ text: String) -> Timestamp? {
    let chars = Array(text.utf8)
    func number(_ start: Int, _ count: Int) -> Int64? {
      guard start + count <= chars.count else { return nil }
      var value: Int64 = 0
      for c in chars[start..<start + count] {
        guard c >= 48, c <= 57 else { return nil }
        value = value * 10 + Int64(c - 48)
      }
      return value
    }
    guard chars.count >= 19, chars[4] == 45, chars[7] == 45, chars[10] == 84 || chars[10] == 32,
      chars[13] == 58, chars[16] == 58, let year = number(0, 4), let month = number(5, 2),
      let day = number(8, 2), let hour = number(11, 2), let minute = number(14, 2),
      let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
      second < 61
    else { return nil }
    var index = 19
    var millis: Int64 = 0
    if index < chars.count, chars[index] == 46 {
      index += 1
      var scale: Int64 = 100
      while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
        millis += Int64(chars[index] - 48) * scale
        scale /= 10
        index += 1
      }
    }
    var offsetMinutes: Int64 = 0
    if index < chars.count {
      if chars[index] == 90 {
        index += 1
      } else if chars[index] == 43 || chars[index] == 45 {
        let sign: Int64 = chars[index] == 45 ? -1 : 1
        guard let hours = number(index + 1, 2) else { return nil }
        var minutes: Int64 = 0
        if index + 3 < chars.count {
          let start = chars[index + 3] == 58 ? index + 4 : index + 3
          guard let parsed = number(start, 2) else { return nil }
          minutes = parsed
          index = start + 2
        } else {
          index += 3
        }
        offsetMinutes = sign * (hours * 60 + minutes)
      }
    }
    guard index == chars.count else { return nil }
    let days = days(fromCivil: year, month, day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
    return Timestamp(millisecondsSinceEpoch: seconds * 1000 + millis)
  }

  // Howard Hinnant's days_from_civil / civil_from_days.
  static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
  }
}

private func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
  let q = a >= 0 ? a / b : (a - b + 1) / b
  return (q, a - q * b)
}

private func pad(_ value: Int64, _ width: Int) -> String {
  let text = String(value)
  return String(repeating: "0", count: max(0, width - text.count)) + text
}
