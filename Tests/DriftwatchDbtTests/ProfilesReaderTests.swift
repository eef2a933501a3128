import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

@Suite struct ProfilesReaderTests {
  private static let project = "name: shop\nprofile: shop\n"

  private static let postgresProfile = """
    shop:
      target: "{{ env_var('SHOP_TARGET', 'dev') }}"
      outputs:
        dev:
          type: postgres
          host: "{{ env_var('SHOP_HOST', 'localhost') }}"
          port: "{{ env_var('SHOP_PORT', '5432') | as_number }}"
          user: "{{ env_var('SHOP_USER') }}"
          password: "{{ env_var('DBT_ENV_SECRET_SHOP_PASSWORD', 'hunter2') }}"
          dbname: analytics
          schema: dbt_dev
          sslmode: verify-full
        prod:
          type: redshift
          host: prod.example.com
          user: loader
          pass: s3cret
          database: "{{ env_var('SHOP_DB', 'prod') }}"
          schema: "{{ env_var('SHOP_SCHEMA', 'analytics') }}"
    """

  @Test func postgresWithEnvVarsFromTheGivenEnvironment() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": Self.project, "profiles.yml": Self.postgresProfile,
    ])
    defer { project.remove() }
    let resolved = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
      environment: ["SHOP_USER": "ana", "SHOP_PORT": "6543"])
    #expect(
      resolved.locator
        == .postgres(
          PostgresLocator(
            host: "localhost", port: 6543, user: "ana", password: "hunter2", database: "analytics",
            sslMode: .require)))
    #expect(resolved.dialect == .postgres)
    #expect(resolved.targetName == "dev")
    #expect(resolved.profileName == "shop")
    #expect(resolved.schema == "dbt_dev")
    #expect(resolved.profilesPath == project.path("profiles.yml"))
    #expect(resolved.targetAttributes["schema"] == "dbt_dev")
  }

  @Test func targetFromArgumentThenEnvironmentThenProfile() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": Self.project, "profiles.yml": Self.postgresProfile,
    ])
    defer { project.remove() }
    let viaArgument = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: "prod",
      environment: ["SHOP_USER": "x"])
    #expect(viaArgument.targetName == "prod")
    #expect(viaArgument.dialect == .redshift)
    #expect(
      viaArgument.locator
        == .postgres(
          PostgresLocator(
            host: "prod.example.com", port: 5439, user: "loader", password: "s3cret", database: "prod")))
    let viaProfileJinja = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
      environment: ["SHOP_TARGET": "prod"])
    #expect(viaProfileJinja.targetName == "prod")
    let viaDbtTarget = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
      environment: ["DBT_TARGET": "prod", "SHOP_TARGET": "dev"])
    #expect(viaDbtTarget.targetName == "prod")
  }

  @Test func profilesDirectoryResolution() throws {
    let project = try TemporaryProject([
      "project/dbt_project.yml": Self.project,
      "explicit/profiles.yml":
        "shop:\n  outputs:\n    default:\n      type: sqlite\n      schemas_and_paths:\n        main: /data/explicit.db\n",
      "fromenv/profiles.yml":
        "shop:\n  outputs:\n    default:\n      type: sqlite\n      schemas_and_paths:\n        main: fromenv.db\n",
      "home/.dbt/profiles.yml":
        "shop:\n  target: local\n  outputs:\n    local:\n      type: sqlite\n      schemas_and_paths:\n        main: home.db\n",
    ])
    defer { project.remove() }
    let projectDirectory = project.path("project")
    let explicit = try ProfilesReader.locator(
      profilesDirectory: project.path("explicit"), projectDirectory: projectDirectory, profileName: nil,
      target: nil, environment: ["DBT_PROFILES_DIR": project.path("fromenv")])
    #expect(explicit.locator == .sqlite(path: "/data/explicit.db"))
    #expect(explicit.targetName == "default")
    let fromEnvironment = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: projectDirectory, profileName: nil, target: nil,
      environment: ["DBT_PROFILES_DIR": project.path("fromenv"), "HOME": project.path("home")])
    #expect(fromEnvironment.locator == .sqlite(path: projectDirectory + "/fromenv.db"))
    let fromHome = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: projectDirectory, profileName: nil, target: nil,
      environment: ["HOME": project.path("home")])
    #expect(fromHome.locator == .sqlite(path: projectDirectory + "/home.db"))
    #expect(fromHome.dialect == .sqlite)
    #expect(fromHome.profilesPath == project.path("home") + "/.dbt/profiles.yml")
  }

  @Test func theProjectsOwnProfilesBeatsHome() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": Self.project,
      "profiles.yml":
        "shop:\n  target: t\n  outputs:\n    t:\n      type: sqlite\n      schemas_and_paths:\n        main: here.db\n",
    ])
    defer { project.remove() }
    let resolved = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
      environment: ["HOME": "/nonexistent-home"])
    #expect(resolved.locator == .sqlite(path: project.path("here.db")))
  }

  @Test func missingEnvVarIsNamedAndThePasswordNeverShows() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": Self.project, "profiles.yml": Self.postgresProfile,
    ])
    defer { project.remove() }
    do {
      _ = try ProfilesReader.locator(
        profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
        environment: [:])
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("SHOP_USER is not set and has no default"))
      #expect(error.message.contains("`user`"))
      #expect(error.line == 8)
      #expect(!error.message.contains("hunter2"))
    }
    let leaky = try TemporaryProject([
      "dbt_project.yml": Self.project,
      "profiles.yml":
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: h\n      user: u\n      dbname: d\n      password: \"{{ oops(p4ss) }}\"\n",
    ])
    defer { leaky.remove() }
    do {
      _ = try ProfilesReader.locator(
        profilesDirectory: nil, projectDirectory: leaky.directory, profileName: nil, target: nil,
        environment: [:])
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("`password`"))
      #expect(!error.message.contains("p4ss"))
    }
  }

  @Test func targetSecretsNameLiteralEnvAndNestedSecrets() throws {
    let profile = """
      shop:
        target: dev
        outputs:
          dev:
            type: bigquery
            method: service-account-json
            project: shop-prod
            dataset: analytics
            token: "{{ env_var('SHOP_TOKEN', 'tok-default-77') }}"
            private_key_passphrase: Literal-Pass-99
            keyfile_json:
              type: service_account
              private_key: "-----BEGIN KEY-----abc"
              client_email: loader@shop.iam
          other:
            type: postgres
            password: 99887766
      """
    let project = try TemporaryProject(["dbt_project.yml": Self.project, "profiles.yml": profile])
    defer { project.remove() }
    let secrets = try ProfilesReader.targetSecrets(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
      environment: ["SHOP_TOKEN": "tok-from-env-42"])
    #expect(Set(secrets) == ["tok-from-env-42", "Literal-Pass-99", "-----BEGIN KEY-----abc"])
    let other = try ProfilesReader.targetSecrets(
      profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: "other",
      environment: [:])
    #expect(other == ["99887766"])
    #expect(!ProfilesReader.isSecretKey("schema") && !ProfilesReader.isSecretKey("client_email"))
    #expect(ProfilesReader.isSecretKey("client_secret") && ProfilesReader.isSecretKey("PASSWORD"))
  }

  @Test func unsupportedAdaptersPointAtTheCatalog() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": Self.project,
      "profiles.yml":
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: shop.duckdb\n",
    ])
    defer { project.remove() }
    do {
      _ = try ProfilesReader.locator(
        profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
        environment: [:])
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(
        error.message.contains(
          "duckdb targets are read through dbt's catalog: run `dbt docs generate` and pass --catalog target/catalog.json"
        ))
    }
  }

  @Test func unknownProfileOrTargetListsWhatExists() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": Self.project, "profiles.yml": Self.postgresProfile,
    ])
    defer { project.remove() }
    do {
      _ = try ProfilesReader.locator(
        profilesDirectory: nil, projectDirectory: project.directory, profileName: "other", target: nil,
        environment: [:])
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("profile `other` is not in profiles.yml (it has shop)"))
    }
    do {
      _ = try ProfilesReader.locator(
        profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: "staging",
        environment: ["SHOP_USER": "u"])
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("has no output `staging` (it has dev, prod); pass --target"))
    }
  }

  @Test func missingProfilesFile() throws {
    let project = try TemporaryProject(["dbt_project.yml": Self.project])
    defer { project.remove() }
    do {
      _ = try ProfilesReader.locator(
        profilesDirectory: nil, projectDirectory: project.directory, profileName: nil, target: nil,
        environment: ["HOME": project.path("nohome")])
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.hasPrefix("no profiles.yml in \(project.path("nohome"))/.dbt"))
      #expect(error.message.contains("--profiles-dir"))
    }
  }

  @Test func theFixtureProfile() throws {
    let resolved = try ProfilesReader.locator(
      profilesDirectory: nil, projectDirectory: Fixtures.jaffleDrift, profileName: nil, target: nil,
      environment: ["JAFFLE_PORT": "55439"])
    #expect(
      resolved.locator
        == .postgres(
          PostgresLocator(
            host: "localhost", port: 55439, user: "analytics", password: "not-a-real-password",
            database: "warehouse")))
    #expect(resolved.database == "warehouse")
  }
}
