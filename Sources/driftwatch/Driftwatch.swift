import DriftwatchCommands

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@main
struct DriftwatchMain {
  static func main() async {
    exit(await Driftwatch.run(arguments: Array(CommandLine.arguments.dropFirst())))
  }
}
