import ArgumentParser
import DriftwatchCore
import DriftwatchReports

extension ReportFormat: ExpressibleByArgument {}

struct Check: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Compare the dbt project's sources with the live warehouse and report drift and its blast radius.",
    discussion: """
      Examples:
        driftwatch check --project . --warehouse sqlite:warehouse.db
        driftwatch check --project . --warehouse postgres://analyst@127.0.0.1:5432/acme
        driftwatch check --project . --profiles-dir ~/.dbt --target dev
        driftwatch check --project . --catalog target/catalog.json --format json

      When a snapshot exists (driftwatch snapshot), the latest one is used as evidence: its keyed samples
      are joined to the live tables to prove renames, splits and value remaps. --no-snapshot skips it.

      Exit codes: 0 no breaking drift, 1 breaking drift found, 2 usage, input or connection error, or an
      answer that depends on nodes driftwatch could not read exactly (--allow-incomplete answers anyway, with
      them marked; --manifest is exact).
      """)

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var warehouseOptions: WarehouseOptions

  @Option(name: .long, help: "Output format: text, json (docs/report-schema.md) or markdown (a PR comment).")
  var format: ReportFormat = .text

  @Flag(name: .long, help: "No colour in text output (also: NO_COLOR set, or output not a terminal).")
  var noColor = false

  @OptionGroup var stateOptions: StateOptions

  @Flag(name: .long, help: "Do not use the latest snapshot as evidence, even when one exists.")
  var noSnapshot = false

  func run() async throws { try await output().emit() }

  /// The report in `format`; breaking when it found breaking drift (exit 1). `driftwatch mcp`'s `check`.
  func output() async throws -> CommandOutput {
    let (warehouse, profile) = try warehouseOptions.introspector(projectDirectory: projectOptions.project)
    let store = noSnapshot ? nil : try stateOptions.store(projectDirectory: projectOptions.project)
    let result = try await CheckRun.run(
      project: { try projectOptions.load(profile: profile) }, warehouse: warehouse,
      snapshot: { project in await StateOptions.latest(in: store, project: project.projectName) })
    try projectOptions.requireExact(
      (result.report.incomplete ?? []).map(\.uniqueID), project: result.project)
    let renderer = DriftReportRenderer(
      color: !noColor && format == .text && Terminal.stdoutWantsColor, toolVersion: Driftwatch.version)
    return CommandOutput(renderer.render(result.report, as: format), breaking: result.report.breaking)
  }
}
