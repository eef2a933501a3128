/// Durations as flags take them: `30s`, `500ms`, `2min`, `1h`; a bare number is seconds; `0` is none.
public enum DurationText {
  public static func parse(_ text: String) -> Duration? {
    let trimmed = text.trimmingWhitespace().lowercased()
    let digits = trimmed.prefix { $0.isNumber || $0 == "." }
    guard !digits.isEmpty, let value = Double(digits), value >= 0, value.isFinite else { return nil }
    let unit = trimmed.dropFirst(digits.count)
    let milliseconds: Double
    switch unit {
    case "", "s", "sec", "secs", "second", "seconds": milliseconds = value * 1000
    case "ms": milliseconds = value
    case "m", "min", "mins", "minute", "minutes": milliseconds = value * 60_000
    case "h", "hour", "hours": milliseconds = value * 3_600_000
    default: return nil
    }
    guard milliseconds < 86_400_000 * 365 else { return nil }
    return .milliseconds(Int64(milliseconds.rounded()))
  }

  /// Whole milliseconds of `duration`.
  public static func milliseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }

  /// `30s`, `500ms`: how a flag value is shown back.
  public static func format(_ duration: Duration) -> String {
    let ms = milliseconds(duration)
    return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
  }
}

extension String {
  fileprivate func trimmingWhitespace() -> Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
    guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
      return Substring()
    }
    return self[start...end]
  }
}
