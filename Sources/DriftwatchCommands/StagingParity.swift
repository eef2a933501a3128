import DriftwatchCore
import DriftwatchDbt
import DriftwatchPostgres
import Foundation

/// `driftwatch impact --dbt-build`: the migration applied for real to a throwaway copy of staging, the
/// drafted fix written into a temporary copy of the dbt project, the real `dbt build` run there against the
/// copy, pass/fail per node read from `target/run_results.json`; then the copy is dropped and the
/// temporary project deleted, whatever happened.
struct StagingParity {
  var staging: PostgresLocator
  var statements: [SQLStatement]
  /// The schemas the migration touches (named in the recipe of a fit role, should the role check refuse).
  var schemas: [String] = []
  var searchPath: String?
  var projectDirectory: String
  var profile: ResolvedProfile
  var dbt: String
  var decisionsPath: String?
  var maintenanceDatabase: String

  func run() async throws -> ParityResult {
    let decisions = try decisionsPath.map { try DecisionsReader.read(path: $0) } ?? Decisions()
    let copy = try await PostgresStagingCopy.create(from: staging, maintenanceDatabase: maintenanceDatabase)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "driftwatch-parity-\(UUID().uuidString.lowercased())"
    ).path
    let result: Result<ParityResult, any Error>
    do {
      result = .success(try await build(on: copy, in: directory, decisions: decisions))
    } catch {
      result = .failure(error)
    }
    try? FileManager.default.removeItem(atPath: directory)
    try await copy.drop()
    return try result.get()
  }

  private func build(on copy: PostgresStagingCopy, in directory: String, decisions: Decisions) async throws
    -> ParityResult
  {
    try await copy.apply(statements, searchPath: searchPath, schemas: schemas)

    // A copy of the dbt project, without dbt's own output.
    let project = directory + "/project"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    try FileManager.default.copyItem(atPath: projectDirectory, toPath: project)
    for generated in ["target", "logs"] {
      try? FileManager.default.removeItem(atPath: project + "/" + generated)
    }

    // The drafted fix, from a check of the migrated copy, written into the project copy.
    let warehouse = PostgresWarehouse(locator: copy.locator)
    let check = try await CheckRun.run(
      project: {
        try DbtProjectReader.read(
          projectDirectory: project,
          options: DbtReadOptions(defaultDatabase: profile.database, target: profile.targetAttributes))
      }, warehouse: warehouse)
    let draft = try FixInputs(root: project, check: check).drafter(
      check, dialect: .postgres, decisions: decisions
    ).draft()
    try FileTransaction(root: project).commit(draft.files)

    // profiles.yml for the copy: the project's own profile name and target schema.
    let profiles = directory + "/profiles"
    try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: false)
    try profilesYAML(copy: copy.locator).write(
      toFile: profiles + "/profiles.yml", atomically: true, encoding: .utf8)

    let exitCode = try runDbt(project: project, profiles: profiles, password: copy.locator.password)
    let nodes = try Self.runResults(path: project + "/target/run_results.json", exitCode: exitCode)
    return ParityResult(
      database: copy.locator.database, dbtExitCode: exitCode, nodes: nodes,
      fixedFiles: draft.files.map(\.path),
      openQuestions: draft.openQuestions.map { "\($0.changeID) \($0.kind.rawValue): \($0.subject)" },
      expectedFailures: draft.expectedFailures.map { "\($0.test): \($0.reason)" })
  }

  static let targetName = "driftwatch_parity"

  private func profilesYAML(copy: PostgresLocator) -> String {
    """
    # Written by driftwatch impact --dbt-build for a throwaway copy of staging; deleted with it.
    \(quoted(profile.profileName)):
      target: \(Self.targetName)
      outputs:
        \(Self.targetName):
          type: postgres
          host: \(quoted(copy.host))
          port: \(copy.port)
          user: \(quoted(copy.user))
          password: "{{ env_var('DRIFTWATCH_PARITY_PASSWORD', '') }}"
          dbname: \(quoted(copy.database))
          schema: \(quoted(profile.schema ?? "public"))
          sslmode: \(copy.sslMode.rawValue)
          threads: 2

    """
  }

  /// A YAML double-quoted scalar.
  private func quoted(_ text: String) -> String { YAMLEscape.doubleQuoted(text) }

  /// Runs `dbt build`; its output goes to `dbt-build.log` beside the project (deleted with it).
  private func runDbt(project: String, profiles: String, password: String?) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dbt)
    process.arguments = [
      "build", "--project-dir", project, "--profiles-dir", profiles, "--target", Self.targetName,
      "--no-use-colors",
    ]
    var environment = ProcessInfo.processInfo.environment
    environment["DRIFTWATCH_PARITY_PASSWORD"] = password ?? ""
    environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    environment["DBT_PROFILES_DIR"] = profiles
    process.environment = environment
    process.currentDirectoryURL = URL(fileURLWithPath: project)
    let log = project + "/../dbt-build.log"
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    defer { try? handle.close() }
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw InputError(
        "cannot run dbt at '\(dbt)': \(error.localizedDescription.lowercased()); pass --dbt PATH")
    }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Status per node from dbt's `run_results.json`.
  static func runResults(path: String, exitCode: Int32) throws -> [ParityResult.Node] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw InputError(
        "dbt build exited \(exitCode) without writing target/run_results.json: the project does not compile "
          + "against the migrated copy; run dbt build yourself to see why")
    }
    guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let results = json["results"] as? [[String: Any]]
    else {
      throw InputError("dbt's run_results.json has no results list: is this dbt 1.x?")
    }
    return results.compactMap { entry in
      guard let id = entry["unique_id"] as? String, let status = entry["status"] as? String else {
        return nil
      }
      return ParityResult.Node(uniqueID: id, status: status, message: entry["message"] as? String)
    }
  }

  /// `--dbt PATH`, else `DRIFTWATCH_DBT`, else `dbt` on PATH.
  static func findDbt(_ explicit: String?, environment: [String: String]) throws -> String {
    if let explicit { return explicit }
    if let configured = environment["DRIFTWATCH_DBT"], !configured.isEmpty { return configured }
    for directory in (environment["PATH"] ?? "").split(separator: ":") {
      let candidate = "\(directory)/dbt"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw InputError("--dbt-build runs dbt, and no dbt was found: install dbt-postgres or pass --dbt PATH")
  }
}
