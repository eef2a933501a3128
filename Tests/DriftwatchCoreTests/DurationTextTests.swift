import DriftwatchCore
import Testing

@Suite("duration flags")
struct DurationTextTests {
  @Test func parses() {
    #expect(DurationText.parse("30s") == .seconds(30))
    #expect(DurationText.parse("500ms") == .milliseconds(500))
    #expect(DurationText.parse("2min") == .seconds(120))
    #expect(DurationText.parse("1.5s") == .milliseconds(1500))
    #expect(DurationText.parse("10") == .seconds(10))
    #expect(DurationText.parse("0") == .zero)
    #expect(DurationText.parse("soon") == nil)
    #expect(DurationText.parse("-1s") == nil)
    #expect(DurationText.parse("5 parsecs") == nil)
    #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
    #expect(DurationText.format(.seconds(30)) == "30s")
  }

  /// Every unit spelling, case and surrounding whitespace; a year or more, a unit alone and junk are refused.
  @Test func unitsAndBounds() {
    #expect(DurationText.parse("5m") == .seconds(300))
    #expect(DurationText.parse("5 min") == nil)
    #expect(DurationText.parse(" 30S\n") == .seconds(30))
    #expect(DurationText.parse("2minutes") == .seconds(120))
    #expect(DurationText.parse("1h") == .seconds(3600))
    #expect(DurationText.parse("1hours") == .seconds(3600))
    #expect(DurationText.parse("3secs") == .seconds(3))
    #expect(DurationText.parse("0.25ms") == .zero)
    #expect(DurationText.parse("364d") == nil)
    #expect(DurationText.parse("8759h") == .seconds(8759 * 3600))
    #expect(DurationText.parse("8760h") == nil)
    #expect(DurationText.parse("ms") == nil)
    #expect(DurationText.parse("") == nil)
    #expect(DurationText.parse("1e3s") == nil)
    #expect(DurationText.milliseconds(.milliseconds(1500)) == 1500)
  }
}
