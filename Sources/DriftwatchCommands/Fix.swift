import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import Foundation

extension SQLDialect: ExpressibleByArgument {}

struct Fix: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Draft the backward-compatible fix for the drift a check finds; with --write, apply it.",
    discussion: """
      Without --write, prints the drafted patch (a unified diff), the questions only a human can answer
      (what values mean, how a split column is rebuilt, renames below the confidence threshold) and a
      decisions template. Nothing is changed.

      With --write, asks the open questions on a terminal, or reads them from --decisions FILE
      (docs/fix.md), then writes every drafted file or none. It refuses, exit 2, while a question is open
      or when a file changed since it was read.

      Examples:
        driftwatch fix --project . --warehouse postgres://analyst@127.0.0.1:5432/acme
        driftwatch fix --project . --warehouse sqlite:warehouse.db --decisions decisions.yml --write

      Exit codes: 0 drafted (or written), 2 usage, input or connection error, or open questions with --write.
      """)

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var warehouseOptions: WarehouseOptions

  @Option(name: .long, help: ArgumentHelp("Answers to the questions (docs/fix.md).", valueName: "FILE"))
  var decisions: String?

  @Flag(name: .long, help: "Write the drafted files (all or none).")
  var write = false

  @Option(
    name: .long,
    help:
      "SQL dialect of the drafted models (default: the warehouse's): postgres, sqlite; snowflake, bigquery, duckdb, redshift best-effort."
  )
  var dialect: SQLDialect?

  @Option(name: .long, help: "Output format: text, json or markdown.")
  var format: ReportFormat = .text

  @Option(
    name: .long, parsing: .unconditional, help: "Inferences below this confidence become questions (0…1).")
  var threshold: Double = FixDrafter.defaultThreshold

  @OptionGroup var stateOptions: StateOptions

  @Flag(name: .long, help: "Do not use the latest snapshot as evidence, even when one exists.")
  var noSnapshot = false

  // Accepted like check's, so one set of flags serves both in scripts: fix's output is never coloured.
  @Flag(name: .long, help: "No colour in text output (fix writes none; accepted as check accepts it).")
  var noColor = false

  func validate() throws {
    guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be between 0 and 1") }
  }

  func run() async throws { try await output().emit() }

  /// The drafted fix in `format`, written first with --write. `driftwatch mcp`'s `fix_draft` and `fix_apply`.
  func output() async throws -> CommandOutput {
    // Every path is the project's: where the profile, the state and the files are read, and the only
    // folder written — with --manifest alone, the manifest's project, never the working directory.
    let root = try projectOptions.projectRoot()
    let (warehouse, profile) = try warehouseOptions.introspector(projectDirectory: root)
    let store = noSnapshot ? nil : try stateOptions.store(projectDirectory: root)
    let check = try await CheckRun.run(
      project: { try projectOptions.load(profile: profile) }, warehouse: warehouse,
      snapshot: { project in await StateOptions.latest(in: store, project: project.projectName) })
    try projectOptions.requireExact((check.report.incomplete ?? []).map(\.uniqueID), project: check.project)
    var answers = try decisions.map { try DecisionsReader.read(path: $0) } ?? Decisions()
    let inputs = try FixInputs(root: root, check: check)
    func draft(_ answers: Decisions) throws -> FixDraft {
      try inputs.drafter(
        check, dialect: dialect ?? warehouse.dialect, decisions: answers, threshold: threshold
      ).draft()
    }
    var drafted = try draft(answers)
    if write && !drafted.openQuestions.isEmpty && Prompter.isInteractive {
      answers = try Prompter.ask(drafted, report: check.report, answers: answers)
      drafted = try draft(answers)
    }
    let renderer = FixRenderer(toolVersion: Driftwatch.version)
    if write {
      try Self.refuseOpenQuestions(drafted)
      try FileTransaction(root: root).commit(drafted.files)
      await Self.recordApplied(project: check.report.project, stateOptions: stateOptions, root: root)
      var text = renderer.render(drafted, report: check.report, as: format)
      if format == .text {
        text += "wrote \(drafted.files.count) file\(drafted.files.count == 1 ? "" : "s").\n"
      }
      return CommandOutput(text)
    }
    return CommandOutput(renderer.render(drafted, report: check.report, as: format))
  }
}

extension Fix {
  /// The files a fix for `check` may change, as they are now (the originals the write compares against),
  /// and the project's test path. `fix` and the review page (`serve`) read them the same way.
  static func readProjectFiles(root: String, check: CheckRun) throws -> (
    files: [String: String], testPath: String
  ) {
    let inputs = try FixInputs(root: root, check: check)
    return (inputs.files, inputs.testPath)
  }

  /// Nothing is written while a question is open.
  static func refuseOpenQuestions(_ drafted: FixDraft) throws {
    let open = drafted.openQuestions
    guard !open.isEmpty else { return }
    let list = open.map { "  \($0.changeID) \($0.kind.rawValue): \($0.subject)" }.joined(separator: "\n")
    throw FileTransaction.Conflict(
      message:
        "\(open.count) question\(open.count == 1 ? " is" : "s are") open, so nothing was written:\n\(list)\nanswer \(open.count == 1 ? "it" : "them") in a decisions file (driftwatch fix without --write prints a template) and pass --decisions FILE"
    )
  }

  /// Adds `fix_applied` to the project's open incident (driftwatch watch), if there is one. The files are
  /// written either way: a state store that cannot be read only costs the timeline entry.
  static func recordApplied(project: String, stateOptions: StateOptions, root: String) async {
    guard let store = try? stateOptions.incidentStore(projectDirectory: root),
      var incident = try? await store.openIncident(project: project)
    else { return }
    incident.timeline.append(TimelineEntry(.fixApplied, at: Timestamp.now, detail: "driftwatch fix --write"))
    try? await store.save(incident, enqueue: [])
  }
}

/// Asks open questions on a terminal.
enum Prompter {
  /// Never while standard output carries a protocol (`driftwatch mcp`).
  static var isInteractive: Bool {
    !Terminal.carriesProtocol && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
  }

  static func ask(_ draft: FixDraft, report: DriftReport, answers: Decisions) throws -> Decisions {
    var answers = answers
    for question in draft.openQuestions {
      var decision = answers[question.changeID] ?? Decision()
      let t = OutputEscape.terminal
      Terminal.standardOutput("\n\(question.changeID) \(t(question.subject))\n  \(t(question.prompt))\n")
      switch question.kind {
      case .valueMapping:
        let choices = question.newValues ?? []
        Terminal.standardOutput(
          "  new values: \(t(choices.joined(separator: ", "))) (answer - to reject the mapping)\n")
        var mapping: [String: String] = [:]
        for old in question.oldValues ?? [] {
          guard let answer = prompt("  \(t(old)) → ") else {
            throw InputError("no answer: nothing was written")
          }
          if answer == "-" {
            decision.accept = false
            mapping = [:]
            break
          }
          if !answer.isEmpty { mapping[old] = answer }
        }
        if decision.accept != false { decision.mapping = mapping }
      case .splitTemplate:
        let answer = prompt("  template [\(t(question.proposal ?? ""))] (- to reject): ")
        guard let answer else { throw InputError("no answer: nothing was written") }
        if answer == "-" {
          decision.accept = false
        } else if answer.isEmpty {
          decision.accept = true
        } else {
          decision.template = answer
        }
      case .confirmRename, .fillMissing, .rewriteByHand:
        let answer = prompt("  accept? [y/n]: ")?.lowercased()
        guard let answer else { throw InputError("no answer: nothing was written") }
        decision.accept = answer.hasPrefix("y")
      }
      answers.byChange[question.changeID] = decision
    }
    return answers
  }

  private static func prompt(_ text: String) -> String? {
    Terminal.standardOutput(text)
    return readLine().map { $0.trimmingCharacters(in: .whitespaces) }
  }
}
