import DriftwatchCore
import Testing

@Suite("read timeouts")
struct ReadTimeoutsTests {
  /// Each command's defaults, and the flags over them: the catalog query keeps at most a minute of a longer
  /// statement timeout, and no limit means no limit.
  @Test func defaultsAndFlags() {
    #expect(ReadTimeouts.check == ReadTimeouts(lock: .seconds(10), statement: .seconds(60)))
    #expect(ReadTimeouts.snapshot.statement == .seconds(300))
    #expect(ReadTimeouts.snapshot.catalogStatement == .seconds(60))
    #expect(ReadTimeouts.check.overriding(lock: nil, statement: nil) == .check)
    let flags = ReadTimeouts.snapshot.overriding(lock: .milliseconds(500), statement: .seconds(20))
    #expect(flags.lock == .milliseconds(500))
    #expect(flags.statement == .seconds(20))
    #expect(flags.catalogStatement == .seconds(20))
    let unlimited = ReadTimeouts.check.overriding(lock: .zero, statement: .zero)
    #expect(unlimited.lock == .zero && unlimited.statement == .zero && unlimited.catalogStatement == .zero)
    // Only the lock flag: the command's statement timeouts stay.
    #expect(ReadTimeouts.snapshot.overriding(lock: .seconds(1), statement: nil).statement == .seconds(300))
  }
}
