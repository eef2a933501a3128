import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import DriftwatchSQLite
import Foundation

/// The seed's incident, replayed on an embedded SQLite warehouse: no server, no Python.
struct Demo: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Replay the users → accounts incident on a temporary SQLite warehouse and show what driftwatch sees.",
    discussion: """
      Builds the acme warehouse in a temporary SQLite file from examples/acme/warehouse/seed.sql, checks it
      (clean), applies examples/acme/migrations/0001_users_to_accounts.sqlite.sql, and checks again.
      """)

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Keep the migrated SQLite warehouse in DIR and print the check command for it.", valueName: "DIR"))
  var keep: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The acme example project (default: examples/acme in this repository).", valueName: "DIR"))
  var project: String?

  @Flag(name: .long, help: "No colour.")
  var noColor = false

  func run() async throws {
    let example = try Self.locateExample(project)
    let seed = try Self.readFile(example + "/warehouse/seed.sql")
    let migrationPath = example + "/migrations/0001_users_to_accounts.sqlite.sql"
    let migration = try Self.readFile(migrationPath)
    let files = FileManager.default
    let workDirectory = files.temporaryDirectory.appendingPathComponent(
      "driftwatch-demo-\(UUID().uuidString)"
    ).path
    try files.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
    defer { try? files.removeItem(atPath: workDirectory) }
    let databasePath = workDirectory + "/warehouse.db"
    let renderer = DriftReportRenderer(
      color: !noColor && Terminal.stdoutWantsColor, toolVersion: Driftwatch.version)
    let projectPath = Self.displayPath(example)

    Terminal.standardOutput("── 1. the warehouse before the deploy\n")
    try await Self.execute(seed, on: try await SQLiteDatabase.create(at: databasePath))
    let load = { try DbtProjectReader.read(projectDirectory: example) }
    let before = try await CheckRun.run(project: load, warehouse: SQLiteWarehouse(path: databasePath))
    Terminal.standardOutput("loaded \(projectPath)/warehouse/seed.sql into a temporary SQLite file\n")
    Terminal.standardOutput(renderer.render(Self.local(before.report, projectPath), as: .text))
    // A baseline: profiles and keyed samples, kept in memory for the demo (driftwatch snapshot keeps them
    // in .driftwatch/state.db).
    let baselineWarehouse = SQLiteWarehouse(path: databasePath)
    let plan = SnapshotPlan.make(project: before.project, live: before.live)
    let baseline = try await plan.run(
      metadata: SnapshotMetadata(
        id: "demo-baseline", takenAt: SnapshotCommand.isoTime(Date()), project: before.project.projectName,
        warehouse: "demo", driftwatchVersion: Driftwatch.version, sampleSize: SnapshotPlan.defaultSampleSize,
        valuesHashed: false),
      live: before.live, profiler: baselineWarehouse, sampler: baselineWarehouse,
      sampleSize: SnapshotPlan.defaultSampleSize, hashValues: false, progress: { _, _, _ in })
    Terminal.standardOutput(
      "baseline recorded (as driftwatch snapshot does): \(baseline.metadata.columns) columns profiled, "
        + "\(baseline.metadata.sampledKeys) keys sampled\n")

    Terminal.standardOutput("\n── 2. the backend deploy: \(Self.displayPath(migrationPath))\n")
    let clock = ContinuousClock()
    let migrated = clock.now
    try await Self.execute(migration, on: try await SQLiteDatabase.open(at: databasePath))
    let deployed = clock.now
    Terminal.standardOutput(
      "raw_customers dropped, raw_accounts created (\(Self.ms(deployed - migrated)) ms)\n")

    Terminal.standardOutput("\n── 3. driftwatch check after the deploy\n")
    let after = try await CheckRun.run(
      project: load, warehouse: SQLiteWarehouse(path: databasePath), snapshot: { _ in baseline })
    let detected = clock.now
    Terminal.standardOutput(renderer.render(Self.local(after.report, projectPath), as: .text))

    Terminal.standardOutput("\n── 4. the drafted fix (driftwatch fix; nothing is written here)\n")
    let draft = try FixInputs(root: example, check: after).drafter(after, dialect: .sqlite).draft()
    for file in draft.files { Terminal.standardOutput("  \(file.status) \(file.path)\n") }
    for question in draft.questions {
      Terminal.standardOutput(
        "  \(question.isOpen ? "?" : "✓") \(question.kind.rawValue) \(question.subject): "
          + "\(question.answer ?? question.proposal ?? "") \(question.isOpen ? "(a human decides)" : "(proven by the data)")\n"
      )
    }
    if let staging = draft.files.first(where: { $0.path.hasSuffix("stg_customers.sql") }) {
      Terminal.standardOutput(
        "\n" + UnifiedDiff.make(path: staging.path, old: staging.original, new: staging.content))
    }

    let radius = after.report.blastRadius
    let dashboards = radius.exposures.filter { after.report.nodes[$0]?.exposureType == "dashboard" }.count
    Terminal.standardOutput(
      """

      ── what this saves
      driftwatch saw the drift \(Self.ms(detected - deployed)) ms after the deploy finished: \
      \(radius.models.count) models (\(radius.models.count > 0 ? "stg_customers and \(radius.models.count - 1) downstream" : "none")), \
      \(radius.tests.count) tests and \(dashboards) dashboards in the blast radius.
      In the seed's incident the same drift took 47 minutes to surface, through a failed scheduled dbt run.

      """)

    if let keep {
      try files.createDirectory(atPath: keep, withIntermediateDirectories: true)
      let kept = URL(fileURLWithPath: keep).appendingPathComponent("warehouse.db").path
      if files.fileExists(atPath: kept) {
        throw InputError("\(kept) already exists: remove it or pass another --keep directory")
      }
      try files.copyItem(atPath: databasePath, toPath: kept)
      Terminal.standardOutput(
        """
        kept the migrated warehouse in \(kept); check it yourself with:
          driftwatch check --project \(projectPath) --warehouse sqlite:\(kept)

        """)
    }
  }

  /// Runs a script in one transaction and closes the database whatever happens.
  static func execute(_ script: String, on database: SQLiteDatabase) async throws {
    do {
      try await database.execute(script: script)
    } catch {
      try? await database.close()
      throw error
    }
    try await database.close()
  }

  /// Reports name the temporary file; say "demo warehouse" instead of a random path.
  static func local(_ report: DriftReport, _ project: String) -> DriftReport {
    var report = report
    report.warehouse = "sqlite (temporary demo warehouse)"
    return report
  }

  static func ms(_ duration: Duration) -> String {
    Decimal2.format(CheckRun.milliseconds(duration), places: 0)
  }

  static func readFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(data: data, encoding: .utf8)
    else {
      throw InputError("cannot read \(path): is the acme example complete? pass --project examples/acme")
    }
    return text
  }

  /// The example project: --project, else ./examples/acme, else the copy in the repository this was built from.
  static func locateExample(_ explicit: String?) throws -> String {
    let files = FileManager.default
    if let explicit {
      guard files.fileExists(atPath: explicit + "/dbt_project.yml") else {
        throw InputError(
          "\(explicit) is not a dbt project (no dbt_project.yml): pass the path of examples/acme")
      }
      return explicit
    }
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let candidates = [
      files.currentDirectoryPath + "/examples/acme", repository.appendingPathComponent("examples/acme").path,
    ]
    for candidate in candidates where files.fileExists(atPath: candidate + "/dbt_project.yml") {
      return candidate
    }
    throw InputError(
      "cannot find the acme example (examples/acme): run the demo from the driftwatch repository or pass --project"
    )
  }

  static func displayPath(_ path: String) -> String {
    let current = FileManager.default.currentDirectoryPath + "/"
    return path.hasPrefix(current) ? String(path.dropFirst(current.count)) : path
  }
}
