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
      (dbt's default eager indirect selection). With no selector, every node is listed, as `dbt ls` lists them
      (dbt's default selection: `fqn:*` and every source, exposure, metric, semantic model, saved query and unit test), less what --exclude leaves out.

      Examples:
        driftwatch lineage --project examples/acme 'source:acme.raw_customers+'
        driftwatch lineage --project . '+fct_orders' --format mermaid
        driftwatch lineage --manifest target/manifest.json 'tag:finance+' --format json
      """)

  @OptionGroup var projectOptions: ProjectOptions

  @Argument(
    help: ArgumentHelp("One or more selectors (a union, like dbt's --select).", valueName: "SELECTOR"))
  var selectors: [String] = []

  @Option(
    name: [.customShort("s"), .customLong("select")], parsing: .upToNextOption,
    help: ArgumentHelp(
      "dbt's -s/--select: selectors, a union; as with dbt ls, a selection that matches nothing is a warning "
        + "(\"No nodes selected!\") and exit 0.", valueName: "SELECTOR"))
  var select: [String] = []

  @Option(
    name: .long, parsing: .upToNextOption,
    help: ArgumentHelp("Leave out what these selectors select (dbt's --exclude).", valueName: "SELECTOR"))
  var exclude: [String] = []

  @Option(
    name: [.customLong("resource-type"), .customLong("resource-types")], parsing: .upToNextOption,
    help: ArgumentHelp(
      "List only these resource types (dbt's --resource-type): model, seed, snapshot, source, test, exposure, "
        + "analysis, metric, semantic_model, saved_query, unit_test, all, default.", valueName: "TYPE"))
  var resourceTypes: [String] = []

  @Option(name: .long, help: "Output format: text, json, mermaid or dot.")
  var format: LineageFormat?

  @Option(
    name: .customLong("output"),
    help:
      "Print as dbt ls --output does, one line per node: selector, name, path or json (instead of --format).")
  var listOutput: DbtListOutput?

  func validate() throws {
    if format != nil && listOutput != nil {
      throw ValidationError("pass either --format or --output, not both")
    }
    _ = try listedTypes()
  }

  /// `--resource-type` as dbt reads it: the listed types by default, `all` for every one.
  func listedTypes() throws -> Set<ResourceType> {
    if resourceTypes.isEmpty { return NodeSelector.listedResourceTypes }
    var types: Set<ResourceType> = []
    for name in resourceTypes {
      switch name {
      case "all": types.formUnion(ResourceType.allCases)
      case "default": types.formUnion(NodeSelector.listedResourceTypes)
      default:
        guard let type = ResourceType(rawValue: name) else {
          throw ValidationError(
            "unknown --resource-type '\(name)'; use one of "
              + (ResourceType.allCases.map(\.rawValue) + ["all", "default"]).joined(separator: ", "))
        }
        types.insert(type)
      }
    }
    return types
  }

  func run() async throws { try await output().emit() }

  /// The listing in `format` (or dbt's `--output`). `driftwatch mcp`'s `lineage`.
  func output() async throws -> CommandOutput {
    // No selector: dbt ls's default selection, every node.
    let terms = selectors + select
    let selector = try NodeSelector.parse(
      select: terms.isEmpty ? NodeSelector.everything : terms.joined(separator: " "),
      exclude: exclude.isEmpty ? nil : exclude.joined(separator: " "))
    StepTrace.mark("lineage: start")
    let project = try projectOptions.load(includeSQL: false, readsTarget: true)
    StepTrace.mark("lineage: project read")
    let graph = LineageGraph(project: project) { count, body in
      DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
    StepTrace.mark("lineage: graph")
    let selection = graph.evaluate(selector, resourceTypes: try listedTypes())
    StepTrace.mark("lineage: selector")
    let dependsOn = Exactness.lineage(selector, selected: selection.ids, project: project)
    try projectOptions.requireExact(dependsOn, project: project)
    // dbt's convention (-s/--select) answers a term that matches nothing as dbt ls does, when the answer is
    // exact: a warning, and "No nodes selected!" when nothing is. A positional selector stays strict.
    // With no selector (dbt's default selection), a kind of node the project has none of is no error.
    let dbtStyle = (!select.isEmpty || terms.isEmpty) && dependsOn.isEmpty
    if !selection.unmatchedTerms.isEmpty && !dbtStyle {
      let terms = selection.unmatchedTerms.map { "'\($0)'" }.joined(separator: ", ")
      // With --allow-incomplete: say that a node whose config could not be read might have matched.
      let unread =
        dependsOn.isEmpty ? "" : " (\(dependsOn.count) node(s) driftwatch could not read exactly might)"
      throw InputError(
        "selector \(terms) matches no node in project \(project.projectName)\(unread): check the name "
          + "(dbt ls lists them)")
    }
    if dbtStyle {
      var warnings = ""
      for term in terms.isEmpty ? [] : selection.unmatchedTerms {
        warnings +=
          "driftwatch: warning: the selection criterion '\(ProjectWarnings.sanitized(term))' does not match any "
          + "enabled nodes\n"
      }
      if selection.ids.isEmpty { warnings += "driftwatch: warning: No nodes selected!\n" }
      if !warnings.isEmpty { Terminal.standardError(warnings) }
    }
    let rendered: String
    if let listOutput {
      // Names come from the project's files: no control character reaches the terminal (JSON escapes them).
      let lines = listOutput.lines(selection.ids, project: project).map {
        listOutput == .json ? $0 : ProjectWarnings.sanitized($0)
      }
      rendered = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    } else {
      rendered = LineageRenderer.render(
        selection, graph: graph, format: format ?? .text, incomplete: project.incompleteNodes(dependsOn))
    }
    StepTrace.mark("lineage: rendered")
    KeptUntilExit.keep(graph)
    return CommandOutput(rendered)
  }
}

extension DbtListOutput: ExpressibleByArgument {}
