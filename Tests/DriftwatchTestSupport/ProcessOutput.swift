import Foundation

/// Runs a configured `Process` with both outputs piped, reading them while it runs so that a large output
/// cannot fill a pipe and block it. Returns once both pipes are closed; waiting for the exit is the caller's.
public enum ProcessOutput {
  public static func run(_ process: Process) throws -> (stdout: Data, stderr: Data) {
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    return (outData, errData)
  }
}
