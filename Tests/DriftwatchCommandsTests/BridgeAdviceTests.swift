import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchCommands

/// What an alert tells the on-call to run reaches the warehouse the way watch did: a warehouse read through a
/// dbt profile (the bridge) has no `--warehouse` URL, so the command names the profile, target and bridge.
@Suite("watch advice for the bridge")
struct BridgeAdviceTests {
  static let backend = InMemoryBackend(
    warehouse: InMemoryWarehouse(displayName: "dbt:acme.prod (snowflake)", tables: []))

  @Test func bridgeTargetsAreNamedByProfileNotURL() throws {
    let options = try WarehouseOptions.parse([
      "--profiles-dir", "/home/ana/.dbt", "--target", "prod", "--via-dbt", "--dbt", "/opt/dbt env/bin/dbt",
    ])
    let command = options.fixCommand(projectDirectory: "/repo/acme", backend: Self.backend)
    #expect(
      command
        == "driftwatch fix --project /repo/acme --profiles-dir /home/ana/.dbt --target prod --via-dbt --dbt '/opt/dbt env/bin/dbt'"
    )
    #expect(!command.contains("--warehouse"))
  }

  @Test func defaultProfileNeedsNoFlags() throws {
    let options = try WarehouseOptions.parse([])
    #expect(
      options.fixCommand(projectDirectory: "/repo/acme", backend: Self.backend)
        == "driftwatch fix --project /repo/acme")
  }

  @Test func warehouseURLsStayURLs() throws {
    let options = try WarehouseOptions.parse(["--warehouse", "sqlite:/data/w.db"])
    let backend = InMemoryBackend(warehouse: InMemoryWarehouse(displayName: "sqlite:/data/w.db", tables: []))
    #expect(
      options.fixCommand(projectDirectory: "/repo/it's", backend: backend)
        == "driftwatch fix --project '/repo/it'\\''s' --warehouse sqlite:/data/w.db")
  }
}
