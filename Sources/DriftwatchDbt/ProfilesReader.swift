import DriftwatchCore
import Foundation

/// A dbt profile target resolved to a warehouse driftwatch can connect to.
public struct ResolvedProfile: Sendable, Hashable {
  public var locator: WarehouseLocator
  public var dialect: SQLDialect
  public var profileName: String
  public var targetName: String
  /// The profiles.yml that was read.
  public var profilesPath: String
  /// The target's `schema` (dbt's `target.schema`), when it has one.
  public var schema: String?
  /// The target's database (`dbname`/`database`), when it has one; dbt's default for sources.
  public var database: String?

  public init(
    locator: WarehouseLocator, dialect: SQLDialect, profileName: String, targetName: String,
    profilesPath: String,
    schema: String? = nil, database: String? = nil
  ) {
    self.locator = locator
    self.dialect = dialect
    self.profileName = profileName
    self.targetName = targetName
    self.profilesPath = profilesPath
    self.schema = schema
    self.database = database
  }

  /// `target.*` values for `DbtReadOptions.target`.
  public var targetAttributes: [String: String] {
    var attributes = ["name": targetName, "profile_name": profileName, "type": dialect.rawValue]
    if let schema { attributes["schema"] = schema }
    if let database { attributes["database"] = database }
    return attributes
  }
}

/// Reads a dbt `profiles.yml` the way dbt finds and renders it.
///
/// - The profiles directory: `profilesDirectory` when given, else `DBT_PROFILES_DIR`, else the project
///   directory when it has a profiles.yml, else `~/.dbt` (`HOME` from `environment`).
/// - The profile: `profileName`, else `DBT_PROFILE`, else dbt_project.yml's `profile:`.
/// - The target: `target`, else `DBT_TARGET`, else the profile's `target:`, else `default`.
/// - Every string value is rendered: `{{ env_var('X') }}`, `{{ env_var('X', 'default') }}`, with filters
///   such as `| int` or `| as_number` ignored. Variables come from `environment` only, never from the
///   process, so callers decide what is visible.
/// - `postgres` (host, port, user, password or pass, dbname or database; sslmode `disable` → disable,
///   `allow`/`prefer`/absent → prefer, `require`/`verify-ca`/`verify-full` → require, which encrypts but
///   does not verify the certificate) and `redshift` (the postgres protocol, port 5439 by default, password
///   authentication only) give a `.postgres` locator; `sqlite` (dbt-sqlite) gives the `main` path of
///   `schemas_and_paths`, relative paths resolved against the project directory. Other types (duckdb,
///   snowflake, bigquery, …) are refused with the way to read them through dbt's catalog instead.
///
/// Messages never contain a password.
public enum ProfilesReader {
  /// The target's attributes as dbt's `target` holds them at parse (`name`, `profile_name`, `type`, `schema`,
  /// `database`, and what else locates it: host, port, user, threads, project, dataset, account, warehouse,
  /// role, …; never a password, token or key), for any adapter type: rendering a project needs the target, not
  /// a connection.
  public static func targetAttributes(
    profilesDirectory: String?, projectDirectory: String, profileName: String?, target: String?,
    environment: [String: String]
  ) throws -> [String: String] {
    let resolved = try output(
      profilesDirectory: profilesDirectory, projectDirectory: projectDirectory, profileName: profileName,
      target: target, environment: environment)
    // Only what locates the target: no password, token, key or secret reaches a template (or its errors).
    let kept: Set<String> = [
      "type", "schema", "database", "dbname", "host", "port", "user", "threads", "project", "dataset",
      "account", "warehouse", "role", "catalog", "location", "method",
    ]
    var attributes = resolved.values.filter { kept.contains($0.key) }
    attributes["name"] = resolved.targetName
    attributes["profile_name"] = resolved.profileName
    attributes["type"] = (resolved.values["type"] ?? "").lowercased()
    if attributes["database"] == nil, let database = resolved.values["dbname"] {
      attributes["database"] = database
    }
    return attributes
  }

  /// The values of the target's secret fields — passwords, tokens, private keys and passphrases, client
  /// secrets, whether written literally or through `env_var` — nested ones included (`keyfile_json`'s
  /// `private_key`), for the run to keep out of everything it prints (dbt's errors can echo them).
  public static func targetSecrets(
    profilesDirectory: String?, projectDirectory: String, profileName: String?, target: String?,
    environment: [String: String]
  ) throws -> [String] {
    let resolved = try output(
      profilesDirectory: profilesDirectory, projectDirectory: projectDirectory, profileName: profileName,
      target: target, environment: environment)
    var secrets = resolved.values.filter { isSecretKey($0.key) }.map(\.value)
    let context = TemplateContext(environment: environment)
    // Inside a mapping (keyfile_json), the fields that are secrets themselves: its `type` or `client_email`
    // would mask every such word in the output.
    func collect(_ node: YAMLNode, key: String) {
      if let pairs = node.pairs {
        for pair in pairs { collect(pair.value, key: pair.key) }
      } else if let items = node.items {
        for item in items { collect(item, key: key) }
      } else if isSecretKey(key), let raw = node.string {
        secrets.append((try? TemplateRenderer.render(raw, context: context)) ?? raw)
      }
    }
    for (key, node) in resolved.nested { collect(node, key: key) }
    return secrets.filter { !$0.isEmpty }.sorted()
  }

  /// A profile field that holds a secret (`password`, `token`, `private_key_passphrase`, `client_secret`, …).
  static func isSecretKey(_ key: String) -> Bool {
    let key = key.lowercased()
    if secretKeys.contains(key) { return true }
    return ["password", "passwd", "passphrase", "token", "secret", "private_key", "api_key", "access_key"]
      .contains { key.contains($0) }
  }

  private struct Output {
    var path: String
    var profileName: String
    var targetName: String
    var node: YAMLNode
    var values: [String: String]
    var nested: [String: YAMLNode]
  }

  private static func output(
    profilesDirectory: String?, projectDirectory: String, profileName: String?, target: String?,
    environment: [String: String]
  ) throws -> Output {
    let directory = try profilesDirectoryPath(
      explicit: profilesDirectory, projectDirectory: projectDirectory, environment: environment)
    let path = FileReading.join(directory, "profiles.yml")
    let text: String
    switch FileReading.contents(of: path) {
    case .success(let contents): text = contents
    case .failure(let problem) where problem.isMissing:
      throw DbtError(
        "no profiles.yml in \(directory); pass --profiles-dir, set DBT_PROFILES_DIR, or pass --warehouse")
    case .failure(let problem):
      throw DbtError(
        "cannot read profiles.yml (\(problem.reason)); make it readable by the user running driftwatch",
        file: path)
    }
    guard let root = try YAMLLoader.load(text, path: path), root.pairs != nil else {
      throw DbtError("profiles.yml is empty; add a profile with `target:` and `outputs:`", file: path)
    }
    let context = TemplateContext(environment: environment)
    let name = try resolveProfileName(
      explicit: profileName, projectDirectory: projectDirectory, environment: environment)
    guard let profile = root[name], profile.pairs != nil else {
      let available = (root.pairs ?? []).map(\.key).filter { $0 != "config" }.sorted()
      throw DbtError(
        "profile `\(name)` is not in profiles.yml (it has \(available.isEmpty ? "none" : available.joined(separator: ", "))); "
          + "fix `profile:` in dbt_project.yml or pass --profile",
        file: path)
    }
    var targetName = target ?? environment["DBT_TARGET"]
    if targetName == nil, let declared = profile["target"] {
      targetName = try render(declared, key: "target", context: context, path: path)
    }
    let resolvedTarget = targetName ?? "default"
    guard let output = profile["outputs"]?[resolvedTarget], output.pairs != nil else {
      let available = (profile["outputs"]?.pairs ?? []).map(\.key).sorted()
      throw DbtError(
        "profile `\(name)` has no output `\(resolvedTarget)` (it has "
          + "\(available.isEmpty ? "none" : available.joined(separator: ", "))); pass --target with one of them",
        file: path, line: profile.mark.line)
    }
    var values: [String: String] = [:]
    var nested: [String: YAMLNode] = [:]
    for pair in output.pairs ?? [] {
      if pair.value.pairs != nil || pair.value.items != nil {
        nested[pair.key] = pair.value
      } else if let rendered = try render(pair.value, key: pair.key, context: context, path: path) {
        values[pair.key] = rendered
      }
    }
    return Output(
      path: path, profileName: name, targetName: resolvedTarget, node: output, values: values, nested: nested)
  }

  public static func locator(
    profilesDirectory: String?, projectDirectory: String, profileName: String?, target: String?,
    environment: [String: String]
  ) throws -> ResolvedProfile {
    let resolved = try output(
      profilesDirectory: profilesDirectory, projectDirectory: projectDirectory, profileName: profileName,
      target: target, environment: environment)
    let (path, name, resolvedTarget, output, values, nested) = (
      resolved.path, resolved.profileName, resolved.targetName, resolved.node, resolved.values,
      resolved.nested
    )
    let context = TemplateContext(environment: environment)
    let type = (values["type"] ?? "").lowercased()
    let describe = "profile `\(name)` target `\(resolvedTarget)`"
    func required(_ keys: String...) throws -> String {
      for key in keys { if let value = values[key], !value.isEmpty { return value } }
      throw DbtError(
        "\(describe): `\(keys[0])` is missing; add it to the output", file: path, line: output.mark.line)
    }
    switch type {
    case "postgres", "redshift":
      if type == "redshift", let method = values["method"]?.lowercased(), method != "database" {
        throw DbtError(
          "\(describe): redshift `method: \(method)` is not supported; use a database user and password "
            + "(`method: database`), or read the warehouse through dbt's catalog with --catalog target/catalog.json",
          file: path, line: output.mark.line)
      }
      let portText = values["port"] ?? (type == "redshift" ? "5439" : "5432")
      guard
        let port = Int(portText.trimmingCharacters(in: .whitespaces)) ?? Double(portText).map({ Int($0) }),
        (1...65535).contains(port)
      else {
        throw DbtError("\(describe): `port` is not a port number; fix it", file: path, line: output.mark.line)
      }
      let database = try required("dbname", "database")
      let locator = PostgresLocator(
        host: try required("host"), port: port, user: try required("user", "username"),
        password: values["password"] ?? values["pass"], database: database,
        sslMode: sslMode(values["sslmode"]))
      return ResolvedProfile(
        locator: .postgres(locator), dialect: type == "redshift" ? .redshift : .postgres, profileName: name,
        targetName: resolvedTarget, profilesPath: path, schema: values["schema"], database: database)
    case "sqlite":
      guard let paths = nested["schemas_and_paths"], let mainNode = paths["main"] else {
        throw DbtError(
          "\(describe): dbt-sqlite's `schemas_and_paths` has no `main` entry; add `main: <path to the .db file>`",
          file: path, line: output.mark.line)
      }
      guard let raw = try render(mainNode, key: "schemas_and_paths.main", context: context, path: path) else {
        throw DbtError(
          "\(describe): `schemas_and_paths.main` is empty; give the database file's path", file: path)
      }
      let file = raw.hasPrefix("/") ? raw : FileReading.join(projectDirectory, raw)
      return ResolvedProfile(
        locator: .sqlite(path: file), dialect: .sqlite, profileName: name, targetName: resolvedTarget,
        profilesPath: path, schema: values["schema"] ?? "main", database: values["database"])
    case "":
      throw DbtError("\(describe): `type` is missing; add the adapter type (postgres, sqlite, …)", file: path)
    default:
      throw DbtError(
        "\(describe) is a \(type) target; \(type) targets are read through dbt's catalog: run `dbt docs generate` "
          + "and pass --catalog target/catalog.json",
        file: path, line: output.mark.line)
    }
  }

  static func profilesDirectoryPath(
    explicit: String?, projectDirectory: String, environment: [String: String]
  ) throws -> String {
    if let explicit { return explicit }
    if let fromEnvironment = environment["DBT_PROFILES_DIR"], !fromEnvironment.isEmpty {
      return fromEnvironment
    }
    if FileReading.isFile(FileReading.join(projectDirectory, "profiles.yml")) { return projectDirectory }
    guard let home = environment["HOME"], !home.isEmpty else {
      throw DbtError(
        "no profiles.yml in the project and HOME is not set to look in ~/.dbt; pass --profiles-dir or set "
          + "DBT_PROFILES_DIR")
    }
    return FileReading.join(home, ".dbt")
  }

  private static func resolveProfileName(
    explicit: String?, projectDirectory: String, environment: [String: String]
  ) throws -> String {
    if let explicit { return explicit }
    if let fromEnvironment = environment["DBT_PROFILE"], !fromEnvironment.isEmpty { return fromEnvironment }
    let project = try DbtProjectFile.load(
      directory: projectDirectory, displayPath: "dbt_project.yml", environment: environment)
    guard let profile = project.profile, !profile.isEmpty else {
      throw DbtError(
        "dbt_project.yml has no `profile:`; add one or pass --profile", file: "dbt_project.yml")
    }
    return profile
  }

  private static let secretKeys: Set<String> = [
    "password", "pass", "token", "private_key", "private_key_passphrase", "keyfile_json", "client_secret",
  ]

  private static func render(_ node: YAMLNode, key: String, context: TemplateContext, path: String) throws
    -> String?
  {
    guard let raw = node.string else { return nil }
    do {
      return try TemplateRenderer.render(raw, context: context)
    } catch {
      if let variable = error.missingVariable {
        throw DbtError(
          "`\(key)`: environment variable \(variable) is not set and has no default; set it, or give a default "
            + "with env_var('\(variable)', '…')",
          file: path, line: node.mark.line, column: node.mark.column)
      }
      // The problem text can quote the value: never for a secret.
      let detail = secretKeys.contains(key) ? "its jinja cannot be read" : error.problem
      throw DbtError(
        "`\(key)`: \(detail); fix the value", file: path, line: node.mark.line, column: node.mark.column)
    }
  }

  private static func sslMode(_ value: String?) -> PostgresLocator.SSLMode {
    switch value?.lowercased() {
    case "disable": return .disable
    case "require", "verify-ca", "verify-full": return .require
    default: return .prefer
    }
  }
}
