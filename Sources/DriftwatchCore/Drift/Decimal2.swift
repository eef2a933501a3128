/// Fixed two-decimal formatting without Foundation (`0.83`, `1.00`), for evidence and reports.
public enum Decimal2 {
  public static func format(_ value: Double, places: Int = 2) -> String {
    var scale = 1
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((abs(value) * Double(scale)).rounded())
    let whole = scaled / scale
    let fraction = String(scaled % scale)
    let padded = String(repeating: "0", count: max(0, places - fraction.count)) + fraction
    let sign = value < 0 && scaled != 0 ? "-" : ""
    return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(padded)"
  }
}
