import DriftwatchCore
import DriftwatchDbtBridge
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchCommands

/// A warehouse is one value chosen once (`Backends`): what it can do is asked of it, never switched on.
@Suite("warehouse backends")
struct BackendSelectionTests {
  @Test func nativeBackendsSayWhatTheyCanDo() throws {
    let sqlite = Backends.backend(for: .sqlite(path: "/tmp/x.db"))
    #expect(sqlite.dialect == .sqlite && sqlite.displayName == "sqlite:/tmp/x.db")
    #expect(sqlite.capabilities == [.data, .migrationTrial])
    #expect(sqlite.profiler != nil && sqlite.sampler != nil && sqlite.postgres == nil)
    let trial = try #require(
      sqlite.migrationTrial(MigrationTrialOptions(statementTimeout: .seconds(1), lockTimeout: .seconds(1))))
    #expect(trial.undoneNote.contains("temporary copy"))

    let locator = PostgresLocator(host: "db", user: "u", password: "secret-pw", database: "acme")
    let postgres = Backends.backend(for: .postgres(locator))
    #expect(postgres.dialect == .postgres && postgres.displayName == "postgres://u@db:5432/acme")
    #expect(
      postgres.capabilities.isSuperset(of: [.data, .migrationTrial, .searchPath, .ddlEvents, .stagingCopy]))
    #expect(postgres.postgres == locator && !postgres.capabilities.contains(.batchedSteps))
    #expect(
      postgres.migrationTrial(MigrationTrialOptions(statementTimeout: .seconds(1), lockTimeout: .seconds(1)))?
        .undoneNote.contains("rolled back") == true)
  }

  @Test func offlineAndBridgeBackendsCannotTryMigrations() {
    let catalog = InMemoryBackend(warehouse: InMemoryWarehouse(tables: []))
    #expect(catalog.capabilities.isEmpty && catalog.profiler == nil && catalog.sampler == nil)
    #expect(catalog.migrationTrial(MigrationTrialOptions(statementTimeout: .zero, lockTimeout: .zero)) == nil)
    let bridge = DbtBridge(
      adapter: "Snowflake", displayName: "dbt:p.t (snowflake)", runner: RecordedDbtRunner(outputs: [:]))
    // Its steps are batched (a snapshot asks each stage once): a capability, not a type the command checks.
    #expect(
      bridge.capabilities == [.data, .batchedSteps] && bridge.dialect == .snowflake && bridge.postgres == nil)
    #expect(bridge.migrationTrial(MigrationTrialOptions(statementTimeout: .zero, lockTimeout: .zero)) == nil)
    // A bare introspector (the watch engine's parameter type) is looked at for what it conforms to.
    #expect(IntrospectorBackend.of(InMemoryWarehouse(tables: [])).capabilities.isEmpty)
    #expect(
      IntrospectorBackend.of(Backends.backend(for: .sqlite(path: "/tmp/x.db"))).capabilities.contains(.data))
  }

  @Test func profileTypesWithoutADriverGoThroughDbt() {
    #expect(Backends.nativeProfileTypes == ["postgres", "redshift", "sqlite"])
    #expect(Backends.bridgeTimeout(.check) == .seconds(720))
    #expect(Backends.bridgeTimeout(ReadTimeouts(lock: .zero, statement: .zero)) == .seconds(86_400))
  }

  /// The in-memory twin's batch steps answer table by table through its sampler, in the order asked.
  @Test func inMemoryTwinAnswersBatchStepsInOrder() async throws {
    let table = TableRef(schema: SchemaRef(schema: "raw"), name: "t")
    let backend = InMemoryBackend(
      warehouse: InMemoryWarehouse(tables: []), profiler: InMemoryProfiler(profiles: []),
      sampler: InMemorySampler(tables: [
        .init(ref: table, columns: ["id", "v"], rows: [["1", "a"], ["2", "b"]])
      ]))
    #expect(backend.capabilities == [.data])
    let rows = try await backend.sampler?.rows(table: table, key: "id", keys: ["2"], columns: ["v"])
    #expect(rows == ["2": ["b"]])
  }

  /// dbt runs in the project directory: a relative --profiles-dir (and project) must reach it absolute.
  @Test func bridgePathsAreAbsolute() throws {
    let bridge = try Backends.dbtBridge(
      attributes: ["type": "duckdb", "profile_name": "acme", "name": "dev"], dbt: "/bin/true",
      profilesDirectory: "relative/profiles", projectDirectory: "relative/project", environment: [:])
    let runner = try #require(bridge.runner as? DbtProcessRunner)
    let cwd = FileManager.default.currentDirectoryPath
    #expect(runner.invocation.profilesDirectory == cwd + "/relative/profiles")
    #expect(runner.invocation.workingDirectory == cwd + "/relative/project")
    #expect(runner.invocation.profile == "acme" && runner.invocation.target == "dev")
    #expect(bridge.displayName == "dbt:acme.dev (duckdb)")
  }

  @Test func viaDbtWithAWarehouseURLIsAUsageError() async throws {
    let result = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:/nonexistent.db", "--via-dbt",
    ])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--via-dbt and --dbt read the connection from dbt's profiles.yml"))
  }
}
