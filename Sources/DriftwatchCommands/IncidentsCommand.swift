import ArgumentParser
import DriftwatchCore
import DriftwatchReports
import Foundation

struct IncidentsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "incidents",
    abstract: "List the incidents watch opened, or mark one's fix applied / verified.",
    discussion: """
      Examples:
        driftwatch incidents --project .
        driftwatch incidents --project . --format json
        driftwatch incidents mark inc-20260217140012-abc123 --applied
        driftwatch incidents mark inc-20260217140012-abc123 --run-results target/run_results.json
      """,
    subcommands: [List.self, Mark.self], defaultSubcommand: List.self)

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List incidents.")

    @Option(name: .long, help: ArgumentHelp("The dbt project directory.", valueName: "DIR"))
    var project: String = "."
    @OptionGroup var stateOptions: StateOptions
    @Option(name: .long, help: "Output format: text or json.")
    var format: String = "text"

    func validate() throws {
      guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() async throws { try await output().emit() }

    /// The incidents in `format`. `driftwatch mcp`'s `incidents`.
    func output() async throws -> CommandOutput {
      let store = try stateOptions.incidentStore(projectDirectory: project)
      let incidents = try await store.incidents(project: nil)
      return CommandOutput(
        format == "json" ? IncidentList.json(incidents).rendered() : IncidentList.text(incidents))
    }
  }

  struct Mark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "mark", abstract: "Record that an incident's fix was applied, or verified by a dbt run.")

    @Argument(help: "The incident id.")
    var incident: String
    @Option(name: .long, help: ArgumentHelp("The dbt project directory.", valueName: "DIR"))
    var project: String = "."
    @OptionGroup var stateOptions: StateOptions
    @Flag(name: .long, help: "The fix was applied now.")
    var applied = false
    @Option(
      name: .long,
      help: ArgumentHelp(
        "dbt's target/run_results.json: verified green when every node succeeded.", valueName: "FILE"))
    var runResults: String?

    func validate() throws {
      if !applied && runResults == nil { throw ValidationError("pass --applied and/or --run-results FILE") }
    }

    func run() async throws {
      let store = try stateOptions.incidentStore(projectDirectory: project)
      guard var found = try await store.incident(id: incident) else {
        throw InputError("no incident \(incident) in \(store.displayName): see driftwatch incidents")
      }
      if applied { found.timeline.append(TimelineEntry(.fixApplied, at: Timestamp.now)) }
      if let runResults {
        let (green, at, summary) = try Self.readRunResults(runResults)
        guard green else { throw InputError("\(runResults): \(summary); not verified") }
        found.timeline.append(TimelineEntry(.verifiedGreen, at: at, detail: summary))
        found.status = .resolved
      }
      try await store.save(found, enqueue: [])
      Terminal.standardOutput("\(found.id): \(found.timeline.last?.kind.rawValue ?? "") recorded\n")
    }

    /// Whether every result succeeded (success, pass), when dbt wrote the file, and a summary.
    static func readRunResults(_ path: String) throws -> (Bool, Timestamp, String) {
      guard let data = FileManager.default.contents(atPath: path) else {
        throw InputError("cannot read \(path): check the path (dbt writes target/run_results.json)")
      }
      guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let results = object["results"] as? [[String: Any]]
      else { throw InputError("\(path) is not a dbt run_results.json (no results array)") }
      let statuses = results.compactMap { $0["status"] as? String }
      let bad = statuses.filter { !["success", "pass"].contains($0) }
      let generated = ((object["metadata"] as? [String: Any])?["generated_at"] as? String).flatMap(
        Timestamp.parse)
      let summary = "\(statuses.count - bad.count) of \(statuses.count) nodes succeeded"
      return (bad.isEmpty && !statuses.isEmpty, generated ?? Timestamp.now, summary)
    }
  }
}

struct PostmortemCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "postmortem",
    abstract: "Write the postmortem of an incident (markdown, following the WT-04 template).",
    discussion: """
      Examples:
        driftwatch postmortem inc-20260217140012-abc123 --project .
        driftwatch postmortem inc-20260217140012-abc123 --out postmortem.md
      """)

  @Argument(help: "The incident id (driftwatch incidents lists them).")
  var incident: String
  @Option(name: .long, help: ArgumentHelp("The dbt project directory.", valueName: "DIR"))
  var project: String = "."
  @OptionGroup var stateOptions: StateOptions
  @Option(name: .long, help: ArgumentHelp("Write to FILE instead of standard output.", valueName: "FILE"))
  var out: String?

  func run() async throws {
    let markdown = try await output().text
    if let out {
      do {
        try markdown.write(toFile: out, atomically: true, encoding: .utf8)
      } catch {
        throw InputError("cannot write \(out): \(error.localizedDescription.lowercased())")
      }
      Terminal.standardOutput("wrote \(out)\n")
    } else {
      Terminal.standardOutput(markdown)
    }
  }

  /// The postmortem, markdown. `driftwatch mcp`'s `postmortem`.
  func output() async throws -> CommandOutput {
    let store = try stateOptions.incidentStore(projectDirectory: project)
    guard let found = try await store.incident(id: incident) else {
      throw InputError("no incident \(incident) in \(store.displayName): see driftwatch incidents")
    }
    return CommandOutput(PostmortemRenderer().render(found))
  }
}
