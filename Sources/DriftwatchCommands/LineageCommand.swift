import ArgumentParser
import Dispatch
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports

extension LineageFormat: ExpressibleByArgument {}

struct Lineage: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List what a dbt selector reaches in the project graph, as dbt ls would (no dbt needed).",
    discussion: """
      Selectors follow dbt's syntax: node names and wildcards, source:s.t, exposure:, tag:, path:, fqn:,
      package:, resource_type:, test_type:, test_name:; graph operators +x, x+, 2+x, x+3, @x; space-separated
      terms are a union, comma-joined ones an intersection. Tests join when any of their parents is selected
      (dbt's default eager indirect selection).

      Examples:
        driftwatch lineage --project examples/acme 'source:acme.raw_customers+'
        driftwatch lineage --project . '+fct_orders' --format mermaid
        driftwatch lineage --manifest target/manifest.json 'tag:finance+' --format json
      """)

  @OptionGroup var projectOptions: ProjectOptions

  @Argument(
    help: ArgumentHelp("One or more selectors (a union, like dbt's --select).", valueName: "SELECTOR"))
  var selectors: [String]

  @Option(
    name: .long,
    help: ArgumentHelp("Leave out what this selector selects (dbt's --exclude).", valueName: "SELECTOR"))
  var exclude: String?

  @Option(name: .long, help: "Output format: text, json, mermaid or dot.")
  var format: LineageFormat = .text

  func validate() throws {
    if selectors.isEmpty {
      throw ValidationError("give at least one selector, e.g. 'source:acme.raw_customers+'")
    }
  }

  func run() async throws { try await output().emit() }

  /// The listing in `format`. `driftwatch mcp`'s `lineage`.
  func output() async throws -> CommandOutput {
    let selector = try NodeSelector.parse(select: selectors.joined(separator: " "), exclude: exclude)
    StepTrace.mark("lineage: start")
    let project = try projectOptions.load(includeSQL: false, readsTarget: true)
    StepTrace.mark("lineage: project read")
    let graph = LineageGraph(project: project) { count, body in
      DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
    StepTrace.mark("lineage: graph")
    let selection = graph.evaluate(selector)
    StepTrace.mark("lineage: selector")
    let dependsOn = Exactness.lineage(selector, selected: selection.ids, project: project)
    try projectOptions.requireExact(dependsOn, project: project)
    if !selection.unmatchedTerms.isEmpty {
      let terms = selection.unmatchedTerms.map { "'\($0)'" }.joined(separator: ", ")
      // With --allow-incomplete: say that a node whose config could not be read might have matched.
      let unread =
        dependsOn.isEmpty ? "" : " (\(dependsOn.count) node(s) driftwatch could not read exactly might)"
      throw InputError(
        "selector \(terms) matches no node in project \(project.projectName)\(unread): check the name "
          + "(dbt ls lists them)")
    }
    let output = LineageRenderer.render(
      selection, graph: graph, format: format, incomplete: project.incompleteNodes(dependsOn))
    StepTrace.mark("lineage: rendered")
    KeptUntilExit.keep(graph)
    return CommandOutput(output)
  }
}
