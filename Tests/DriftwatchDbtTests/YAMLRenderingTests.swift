import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// The yml values dbt renders (source `database`/`schema`/`identifier`, `config: enabled`/`tags`) and
/// dbt_project.yml's `+enabled` are rendered as dbt renders them, with `--vars`; what cannot be evaluated is
/// marked incomplete, and what dbt fails on is an error. Each expectation was checked against dbt 1.11.
@Suite struct YAMLRenderingTests {
  private let projectFile = TemporaryProject.minimalProjectFile
  private let dev = ["name": "dev", "type": "postgres", "schema": "analytics", "database": "warehouse"]

  private func read(
    _ files: [String: String], target: [String: String] = [:], vars: String? = nil,
    environment: [String: String] = [:]
  ) throws -> ProjectGraph {
    let project = try TemporaryProject(files)
    defer { project.remove() }
    var options = DbtReadOptions(environment: environment, target: target)
    options.vars = vars
    return try DbtProjectReader.read(projectDirectory: project.directory, options: options)
  }

  private let connectorSources = """
    sources:
      - name: app
        database: "{% if target.type != 'spark' %}{{ var('x_database', target.database) }}{% endif %}"
        schema: "{{ 'raw_' ~ target.name }}"
        tables:
          - name: users
            identifier: "{{ 'USERS' | lower }}"
    """

  @Test func jinjaStatementsInSourceFieldsAreRenderedAsDbtRendersThem() throws {
    let graph = try read(
      ["dbt_project.yml": projectFile, "models/_sources.yml": connectorSources], target: dev)
    let source = try #require(graph.sources["source.shop.app.users"])
    #expect(source.database == "warehouse")
    #expect(source.schema == "raw_dev")
    #expect(source.identifier == "users")
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    // The project's var, then --vars over it.
    let withVar = try read(
      [
        "dbt_project.yml": projectFile + "\nvars:\n  x_database: raw_db\n",
        "models/_sources.yml": connectorSources,
      ],
      target: dev)
    #expect(withVar.sources["source.shop.app.users"]?.database == "raw_db")
    let withCLIVar = try read(
      [
        "dbt_project.yml": projectFile + "\nvars:\n  x_database: raw_db\n",
        "models/_sources.yml": connectorSources,
      ],
      target: dev, vars: "{x_database: cli_db}")
    #expect(withCLIVar.sources["source.shop.app.users"]?.database == "cli_db")
    // The other branch: dbt renders an empty database.
    var spark = dev
    spark["type"] = "spark"
    let onSpark = try read(
      ["dbt_project.yml": projectFile, "models/_sources.yml": connectorSources], target: spark)
    #expect(onSpark.sources["source.shop.app.users"]?.database == "")
  }

  @Test func aSourceFieldTheEngineCannotEvaluateIsIncompleteAndAMissingVarIsAnError() throws {
    let unknownMacro = try read(
      [
        "dbt_project.yml": projectFile,
        "models/_sources.yml": "sources:\n  - name: app\n    schema: \"{{ my_schema_macro() }}\"\n"
          + "    tables:\n      - name: users\n",
      ], target: dev)
    let reason = try #require(unknownMacro.incompleteness(of: "source.shop.app.users").first)
    #expect(reason.kind == .unrenderedField)
    #expect(reason.place == "models/_sources.yml:3")
    #expect(reason.detail?.contains("my_schema_macro") == true)
    // dbt: "Required var 'nope' not found in config".
    #expect(throws: DbtError.self) {
      try read(
        [
          "dbt_project.yml": projectFile,
          "models/_sources.yml": "sources:\n  - name: app\n"
            + "    schema: \"{% if true %}{{ var('nope') }}{% endif %}\"\n    tables:\n      - name: users\n",
        ], target: dev)
    }
  }

  @Test func seedsDisabledByAProjectVarDefaultLeaveTheGraphUntilVarsEnableThem() throws {
    let files = [
      "dbt_project.yml": projectFile
        + "\nseeds:\n  shop:\n    +enabled: \"{{ var('load_source_data', false) }}\"\n",
      "seeds/raw_orders.csv": "id\n1\n",
      "models/orders.sql": "select 1 as id\n",
    ]
    let off = try read(files, target: dev)
    #expect(off.nodes["seed.shop.raw_orders"] == nil)
    #expect(off.incomplete.isEmpty)
    let on = try read(files, target: dev, vars: "{\"load_source_data\": true}")
    #expect(on.nodes["seed.shop.raw_orders"] != nil)
    #expect(on.incomplete.isEmpty)
  }

  @Test func aProjectConfigVarWithNoValueOrDefaultFailsAsInDbt() throws {
    // dbt renders dbt_project.yml before it reads `vars:`: "Required var 'legacy_on' not found".
    let files = [
      "dbt_project.yml": projectFile
        + "\nvars:\n  legacy_on: true\nmodels:\n  shop:\n    legacy:\n      +enabled: \"{{ var('legacy_on') }}\"\n",
      "models/legacy/old.sql": "select 1 as id\n",
    ]
    let error = try #require(throws: DbtError.self) { try read(files, target: dev) }
    #expect(error.message.hasPrefix("dbt_project.yml:10: `+enabled`: var('legacy_on')"))
    #expect(error.message.contains("--vars"))
    let graph = try read(files, target: dev, vars: "legacy_on: false")
    #expect(graph.nodes["model.shop.old"] == nil)
  }

  @Test func configEnabledAndTagsInPropertiesAreRenderedAndTopLevelKeysIgnored() throws {
    let graph = try read(
      [
        "dbt_project.yml": projectFile + "\nvars:\n  team: core\n",
        "models/a.sql": "select 1 as id\n",
        "models/prod_only.sql": "select 1 as id\n",
        "models/top.sql": "select 1 as id\n",
        "models/schema.yml": """
        sources:
          - name: app
            tables:
              - name: kept
                enabled: false
              - name: gone
                config:
                  enabled: "{{ var('gone_on', false) }}"
          - name: dev_only
            config:
              enabled: "{{ target.name != 'dev' }}"
            tables:
              - name: t
        models:
          - name: a
            config:
              tags: ["{{ var('team') }}", "fixed"]
          - name: prod_only
            config:
              enabled: "{{ target.name == 'prod' }}"
          - name: top
            enabled: false
            tags: [ignored]
        """,
      ], target: dev)
    #expect(graph.nodes["model.shop.a"]?.tags == ["core", "fixed"])
    #expect(graph.nodes["model.shop.prod_only"] == nil)
    // A top-level `enabled`/`tags` of a model or source table is no property in dbt 1.11.
    #expect(graph.nodes["model.shop.top"]?.tags == [])
    #expect(graph.sources["source.shop.app.kept"] != nil)
    #expect(graph.sources["source.shop.app.gone"] == nil)
    #expect(graph.sources["source.shop.dev_only.t"] == nil)
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
  }

  @Test func cliVarsReachTheSQLAndTheYml() throws {
    let files = [
      "dbt_project.yml": projectFile + "\nvars:\n  upstream: a\n  raw_schema: raw\n",
      "models/a.sql": "select 1 as id\n",
      "models/b.sql": "select 1 as id\n",
      "models/c.sql": "select * from {{ ref(var('upstream')) }}\n",
      "models/_sources.yml": "sources:\n  - name: app\n    schema: \"{{ var('raw_schema') }}\"\n"
        + "    tables:\n      - name: users\n",
    ]
    let plain = try read(files, target: dev)
    #expect(plain.nodes["model.shop.c"]?.dependsOn == ["model.shop.a"])
    #expect(plain.sources["source.shop.app.users"]?.schema == "raw")
    let overridden = try read(files, target: dev, vars: "{upstream: b, raw_schema: landing}")
    #expect(overridden.nodes["model.shop.c"]?.dependsOn == ["model.shop.b"])
    #expect(overridden.sources["source.shop.app.users"]?.schema == "landing")
    #expect(overridden.incomplete.isEmpty)
  }

  @Test(arguments: ["abc", "[1, 2]", "{unclosed: [", "42"])
  func varsThatAreNotAMappingAreOneClearError(_ vars: String) throws {
    let error = try #require(throws: DbtError.self) {
      try read(["dbt_project.yml": projectFile, "models/a.sql": "select 1 as id\n"], vars: vars)
    }
    #expect(error.message.hasPrefix("--vars "))
    #expect(!error.message.contains("\n"))
  }
}
