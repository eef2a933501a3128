import DriftwatchCore
import Testing

/// A table renamed under a source an installed package declares (fivetran's `github_source`, whose
/// identifiers are vars): the fix sets the package's var in the root dbt_project.yml and never reads or edits
/// the package's yml — nor a root file that happens to have the same relative path. Found on
/// fivetran/dbt_github_source: the var was not repointed ("its yml file was not read").
@Suite("fix: sources declared in installed packages")
struct FixPackageSourceTests {
  static let sourceID = "source.github_source.github.team"

  static func project(identifier: String?) -> ProjectGraph {
    let team = SourceTable(
      uniqueID: sourceID, packageName: "github_source", sourceName: "github", name: "team", schema: "github",
      identifier: "team", columns: [], filePath: "models/src_github.yml", identifierExpression: identifier)
    let staging = GraphNode(
      uniqueID: "model.github_source.stg_github__team", resourceType: .model, name: "stg_github__team",
      packageName: "github_source", dependsOn: [sourceID], filePath: "models/stg_github__team.sql",
      rawCode: "select * from {{ source('github', 'team') }}")
    return ProjectGraph(projectName: "analytics", sources: [team], nodes: [staging])
  }

  static let live = LiveSchema(
    inspected: [SchemaRef(schema: "github")],
    tables: [
      LiveTable(
        schema: SchemaRef(schema: "github"), name: "team_records",
        columns: [LiveColumn(name: "id", dataType: "integer", position: 1)])
    ])

  static var report: DriftReport {
    let rename = DriftChange(
      kind: .tableRenamed, source: "github.team", sourceID: sourceID, relation: "github.team_records",
      from: "team", to: .one("team_records"), confidence: 0.95, breaking: true, evidence: ["fixture"],
      blastRadius: BlastRadius(models: ["model.github_source.stg_github__team"]))
    return DriftReport(
      project: "analytics", warehouse: "memory", schemas: ["github"], sourcesChecked: 1, changes: [rename],
      blastRadius: BlastRadius(), nodes: [:])
  }

  static func draft(identifier: String?, projectFile: String) throws -> FixDraft {
    let project = project(identifier: identifier)
    let required = FixDrafter.requiredFiles(project: project, report: report)
    #expect(!required.contains("models/src_github.yml"), "a package's path is never read from the root")
    let files = [
      "dbt_project.yml": projectFile,
      // A root file at the package yml's relative path: not the package's, never touched.
      "models/src_github.yml": "version: 2\nsources:\n  - name: github\n    tables:\n      - name: team\n",
    ]
    return try FixDrafter(
      project: project, report: report, live: live, dialect: .postgres, files: files
    ).draft()
  }

  @Test func aPackageVarTheRootSetsIsRepointed() throws {
    let draft = try Self.draft(
      identifier: "{{ var('github_team_identifier', 'team') }}",
      projectFile: "name: analytics\nvars:\n  github_source:\n    github_team_identifier: team  # old\n")
    let project = try #require(draft.files.first { $0.path == "dbt_project.yml" })
    #expect(project.content?.contains("    github_team_identifier: team_records  # old") == true)
    #expect(!draft.files.contains { $0.path == "models/src_github.yml" })
  }

  @Test func aPackageVarTheRootDoesNotSetIsAddedUnderThePackage() throws {
    let draft = try Self.draft(
      identifier: "{{ var('github_team_identifier', 'team') }}",
      projectFile:
        "name: analytics\nvars:\n  start_date: '2020-01-01'\nmodels:\n  analytics:\n    +materialized: view\n"
    )
    let content = try #require(draft.files.first { $0.path == "dbt_project.yml" }?.content)
    #expect(
      content.contains(
        "vars:\n  start_date: '2020-01-01'\n  github_source:\n    github_team_identifier: team_records\nmodels:"
      ),
      "\(content)")
  }

  @Test func noVarsBlockGetsOne() throws {
    let draft = try Self.draft(
      identifier: "{{ var('github_team_identifier', 'team') }}", projectFile: "name: analytics\n")
    let content = try #require(draft.files.first { $0.path == "dbt_project.yml" }?.content)
    #expect(
      content.hasSuffix("vars:\n  github_source:\n    github_team_identifier: team_records\n"), "\(content)")
  }

  @Test func aPackageSourceWithoutAVarIsANoteNamingTheOverride() throws {
    let draft = try Self.draft(identifier: nil, projectFile: "name: analytics\n")
    #expect(!draft.files.contains { $0.path == "dbt_project.yml" || $0.path == "models/src_github.yml" })
    #expect(
      draft.notes.contains {
        $0.contains("overrides: github_source") && $0.contains("identifier: team_records")
      })
  }
}
