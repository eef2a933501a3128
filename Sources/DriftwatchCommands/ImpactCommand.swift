import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchPostgres
import DriftwatchReports
import DriftwatchSQLite
import Foundation

extension ImpactFormat: ExpressibleByArgument {}

struct ImpactCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "impact",
    abstract:
      "Run a backend migration against a staging database, roll it back, and report what it breaks in dbt.",
    discussion: """
      PostgreSQL: the migration runs inside one transaction, the schema it leaves behind is read in that same
      transaction, and the transaction is always rolled back (also when driftwatch is killed: the server rolls
      back a transaction whose connection is gone). It refuses, before running anything, a role that could act
      outside the transaction (a superuser, pg_execute_server_program, dblink, …): run it as a role made for
      it (docs/impact.md). SQLite: the migration runs on a temporary copy of the file, which is deleted, and
      ATTACH is denied. Statements that cannot run in a transaction or would act outside it (COMMIT,
      CREATE INDEX CONCURRENTLY, VACUUM, CREATE DATABASE, COPY … PROGRAM, psql meta-commands, …) are refused
      before anything runs.

      Examples:
        driftwatch impact migrations/0042_users_to_accounts.sql --project ../analytics \\
          --warehouse postgres://ci@staging:5432/app --search-path raw
        driftwatch impact migrations/0042.sql --project ../analytics --warehouse sqlite:staging.db --format github

      Exit codes: 0 the migration breaks nothing in the dbt project, 1 it breaks something,
      2 usage, input or connection error, a refused statement, or a statement the database rejected.
      """)

  @Argument(help: ArgumentHelp("The migration: a .sql file of statements.", valueName: "MIGRATION"))
  var migration: String

  @OptionGroup var projectOptions: ProjectOptions

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The staging database: postgres://USER@HOST:PORT/DB (password from the URL or PGPASSWORD) or sqlite:PATH.",
      valueName: "URL"))
  var warehouse: String

  @OptionGroup var stateOptions: StateOptions

  @Flag(name: .long, help: "Do not use the latest snapshot as a baseline for data evidence.")
  var noSnapshot = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "PostgreSQL: the schema unqualified names in the migration resolve to (SET LOCAL search_path).",
      valueName: "SCHEMA"))
  var searchPath: String?

  @Option(
    name: .long,
    help: "Output format: text, json, markdown (a PR comment) or github (workflow annotations).")
  var format: ImpactFormat = .text

  @Option(
    name: .long,
    help: ArgumentHelp(
      "PostgreSQL: cancel any statement running longer than this (e.g. 30s, 500ms, 2min; 0 = no limit).",
      valueName: "DURATION"))
  var statementTimeout: String = "30s"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "PostgreSQL: give up on a statement that waits longer than this for a lock (0 = wait forever).",
      valueName: "DURATION"))
  var lockTimeout: String = "5s"

  @Flag(
    name: .long,
    help:
      "Staging parity (PostgreSQL): also apply the migration to a throwaway copy of the database, write the drafted fix into a temporary copy of the dbt project, run the real dbt build there and report pass/fail per node."
  )
  var dbtBuild = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "With --dbt-build: the dbt executable (default: $DRIFTWATCH_DBT, else dbt on PATH).", valueName: "PATH")
  )
  var dbt: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "With --dbt-build: answers to the drafted fix's questions (docs/fix.md).", valueName: "FILE"))
  var decisions: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "With --dbt-build: the dbt profiles.yml directory, for the profile name and target schema (default: dbt's search order).",
      valueName: "DIR"))
  var profilesDir: String?

  @Option(name: .long, help: ArgumentHelp("With --dbt-build: the profiles.yml target.", valueName: "NAME"))
  var target: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "With --dbt-build: the database to connect to while creating and dropping the copy.", valueName: "NAME")
  )
  var maintenanceDb: String = "postgres"

  @Flag(name: .long, help: "No colour in text output (also: NO_COLOR set, or output not a terminal).")
  var noColor = false

  func run() async throws {
    do {
      try await output().emit()
    } catch let error as ExitCode {
      throw error
    } catch {
      // JSON readers get an answer on exit 2 too: one error object on standard output (docs/report-schema.md).
      if format == .json {
        let message =
          (error as? any UserFacingError)?.message ?? String(describing: error).lowercased()
        let renderer = ImpactReportRenderer(color: false, toolVersion: Driftwatch.version)
        Terminal.standardOutput(
          renderer.errorJSON(migration: MigrationFile.displayPath(migration), message: message))
      }
      throw error
    }
  }

  /// The report in `format`; breaking when the migration breaks something downstream (exit 1).
  /// `driftwatch mcp`'s `impact`.
  func output() async throws -> CommandOutput {
    let clock = ContinuousClock()
    let started = clock.now
    guard let statementTimeout = DurationText.parse(self.statementTimeout) else {
      throw InputError(
        "--statement-timeout '\(self.statementTimeout)' is not a duration: write e.g. 30s, 500ms or 2min")
    }
    guard let lockTimeout = DurationText.parse(self.lockTimeout) else {
      throw InputError("--lock-timeout '\(self.lockTimeout)' is not a duration: write e.g. 5s, 500ms or 1min")
    }
    let backend = Backends.backend(
      for: try WarehouseLocator.parse(warehouse, environment: ProcessInfo.processInfo.environment))
    let dialect = backend.dialect
    guard
      backend.capabilities.contains(.migrationTrial),
      let runner = backend.migrationTrial(
        MigrationTrialOptions(
          statementTimeout: statementTimeout, lockTimeout: lockTimeout, searchPath: searchPath))
    else {
      throw InputError(
        "impact tries migrations on application databases (postgresql, sqlite); \(dialect.rawValue) cannot run one"
      )
    }
    if searchPath != nil, !backend.capabilities.contains(.searchPath) {
      throw InputError(
        "--search-path is for postgresql; \(dialect.rawValue) has no search path, leave it out")
    }

    var parity: (profile: ResolvedProfile, dbt: String)?
    if dbtBuild {
      guard backend.capabilities.contains(.stagingCopy), backend.postgres != nil else {
        throw InputError(
          "--dbt-build needs a postgresql staging database (it copies it with CREATE DATABASE … TEMPLATE); "
            + "leave it out for \(dialect.rawValue)")
      }
      let environment = ProcessInfo.processInfo.environment
      let profile = try ProfilesReader.locator(
        profilesDirectory: profilesDir, projectDirectory: projectOptions.project, profileName: nil,
        target: target,
        environment: environment)
      Secrets.register(profile.locator)
      parity = (profile, try StagingParity.findDbt(dbt, environment: environment))
    } else if dbt != nil || decisions != nil || profilesDir != nil || target != nil {
      throw InputError(
        "--dbt, --decisions, --profiles-dir and --target go with --dbt-build; add it or leave them out")
    }

    let statements = try MigrationFile.statements(path: migration, dialect: dialect)
    let refusals = MigrationSafety.refusals(in: statements, dialect: dialect)
    if !refusals.isEmpty { throw MigrationError.refused(file: migration, refusals) }

    let project = try projectOptions.load(profile: parity.map { ProfileTarget($0.profile) })
    let read = clock.now
    let trial: MigrationTrial
    // As `check` would see the database, read inside the trial: declared accepted_values against the values
    // the migration leaves behind, and with a baseline snapshot the keyed samples joined to the migrated rows.
    let store = noSnapshot ? nil : try stateOptions.store(projectDirectory: projectOptions.project)
    let baseline = try await store?.latest(project: project.projectName)
    let inspect: MigrationTrial.Inspection = { live, warehouse in
      try await ImpactAnalysis.changes(project: project, live: live, warehouse: warehouse, snapshot: baseline)
    }
    do {
      trial = try await runner.run(statements: statements, schemas: project.sourceSchemas, inspect: inspect)
    } catch let refused as MigrationRefusals {
      throw MigrationError.refused(file: migration, refused.refusals)
    } catch let refusal as MigrationStatementFailure {
      // Refused because a view reads what it changes: name the dbt node behind the view.
      var failure = refusal
      if let because = WarehouseDependencies.explanation(for: failure, project: project) {
        failure.message += "; \(because)"
      }
      throw MigrationError.failed(file: migration, failure, rolledBack: runner.undoneNote)
    }
    var parityResult: ParityResult?
    if let parity, let postgres = backend.postgres {
      do {
        parityResult = try await StagingParity(
          staging: postgres, statements: statements, schemas: project.sourceSchemas.map(\.schema),
          searchPath: searchPath,
          projectDirectory: projectOptions.project, profile: parity.profile, dbt: parity.dbt,
          decisionsPath: decisions, maintenanceDatabase: maintenanceDb
        ).run()
      } catch let refused as MigrationRefusals {
        throw MigrationError.refused(file: migration, refused.refusals)
      } catch let failure as MigrationStatementFailure {
        throw MigrationError.failed(file: migration, failure, rolledBack: "the copy was dropped")
      }
    }
    let tried = clock.now
    var report = ImpactAnalysis.report(
      project: project, migration: MigrationFile.displayPath(migration), statements: statements,
      dialect: dialect, trial: trial,
      warehouse: backend.displayName)
    report.parity = parityResult
    report.drift.markIncompleteness(from: project)
    try projectOptions.requireExact((report.drift.incomplete ?? []).map(\.uniqueID), project: project)
    let done = clock.now
    report.timings = ImpactReport.Timings(
      readProjectMs: CheckRun.milliseconds(read - started), applyMs: trial.applyMs,
      introspectMs: trial.introspectMs, diffMs: CheckRun.milliseconds(done - tried),
      totalMs: CheckRun.milliseconds(done - started))
    let renderer = ImpactReportRenderer(
      color: !noColor && format == .text && Terminal.stdoutWantsColor, toolVersion: Driftwatch.version)
    return CommandOutput(renderer.render(report, as: format), breaking: report.breaking)
  }
}

/// Reading a migration file into statements, with errors a user can act on.
enum MigrationFile {
  /// The path as reports show it: relative to the repository in a GitHub Actions job (`GITHUB_WORKSPACE`),
  /// so that annotations land on the file; otherwise as given.
  static func displayPath(
    _ path: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    guard path.hasPrefix("/"), let workspace = environment["GITHUB_WORKSPACE"], !workspace.isEmpty else {
      return path
    }
    let root = workspace.hasSuffix("/") ? workspace : workspace + "/"
    return path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path
  }

  static func statements(path: String, dialect: SQLDialect) throws -> [SQLStatement] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw InputError("migration '\(path)' does not exist: pass the path of the .sql file to check")
    }
    if isDirectory.boolValue {
      throw InputError(
        "migration '\(path)' is a directory: pass one .sql file (run impact once per migration)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw InputError("cannot read migration '\(path)': check its permissions")
    }
    guard let sql = String(data: data, encoding: .utf8) else {
      throw InputError("migration '\(path)' is not utf-8 text: save it as utf-8")
    }
    let statements = MigrationSafety.removingTransactionWrapper(
      SQLScript.statements(in: sql, dialect: dialect), dialect: dialect)
    if statements.isEmpty {
      throw InputError("migration '\(path)' has no sql statements: nothing to check")
    }
    return statements
  }
}
