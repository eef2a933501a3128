import Foundation

/// Step timings on standard error when `DRIFTWATCH_TRACE` is set, for profiling a slow read
/// (`DRIFTWATCH_TRACE=1 driftwatch lineage …`). Each line is the time since the previous step. Off by default;
/// one environment lookup when off.
public enum StepTrace {
  private static let enabled = ProcessInfo.processInfo.environment["DRIFTWATCH_TRACE"] != nil
  private static let clock = Clock()

  public static func mark(_ step: @autoclosure () -> String) {
    guard enabled else { return }
    let elapsed = clock.lap()
    let memory = residentMegabytes().map { String(format: ", %.0f MB resident", $0) } ?? ""
    let line = "trace \(step()): \(String(format: "%.1f", elapsed)) ms\(memory)\n"
    FileHandle.standardError.write(Data(line.utf8))
  }

  /// Resident memory from /proc/self/statm (Linux); `nil` elsewhere.
  private static func residentMegabytes() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
  }

  private final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Milliseconds since the previous lap (or since the process first asked).
    func lap() -> Double {
      lock.lock()
      defer { lock.unlock() }
      let now = DispatchTime.now().uptimeNanoseconds
      let elapsed = Double(now &- last) / 1e6
      last = now
      return elapsed
    }
  }
}
