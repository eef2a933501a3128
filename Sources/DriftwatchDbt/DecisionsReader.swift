import DriftwatchCore
import Foundation

/// Reads a decisions file (docs/fix.md): the answers to `driftwatch fix`'s questions, by change id.
///
///     version: 1
///     decisions:
///       c3f1a2b4c5:            # values_remapped acme.raw_customers.customer_segment → account_tier
///         mapping: {premium: gold, standard: silver, basic: bronze}
///       c9e8d7c6b5:            # column_split address → street, city, state_code, postal_code
///         template: "{street}, {city}, {state_code} {postal_code}"
///       c0a1b2c3d4:
///         accept: false
public enum DecisionsReader {
  public static func read(path: String) throws -> Decisions {
    guard FileManager.default.fileExists(atPath: path) else {
      throw DbtError(
        "decisions file not found: \(path) (write one from the template `driftwatch fix` prints)")
    }
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(data: data, encoding: .utf8)
    else {
      throw DbtError("cannot read \(path) as UTF-8 text", file: path)
    }
    return try parse(text, path: path)
  }

  public static func parse(_ text: String, path: String) throws -> Decisions {
    guard let root = try YAMLLoader.load(text, path: path), !root.isNull else { return Decisions() }
    guard root.pairs != nil else {
      throw DbtError(
        "expected a mapping with `version: 1` and `decisions:`", file: path, line: root.mark.line)
    }
    if let version = root["version"], version.string != "1" {
      throw DbtError(
        "unsupported decisions version \(version.string ?? "?") (this driftwatch reads version 1)",
        file: path,
        line: version.mark.line)
    }
    for pair in root.pairs ?? [] where pair.key != "version" && pair.key != "decisions" {
      throw DbtError(
        "unknown key '\(pair.key)' (expected version and decisions)", file: path, line: pair.keyMark.line)
    }
    guard let decisions = root["decisions"], !decisions.isNull else { return Decisions() }
    guard let entries = decisions.pairs else {
      throw DbtError("`decisions` must map change ids to answers", file: path, line: decisions.mark.line)
    }
    var result: [String: Decision] = [:]
    for entry in entries {
      let id = entry.key
      guard id.first == "c", id.count == 11, id.dropFirst().allSatisfy(\Character.isHexDigit) else {
        throw DbtError(
          "'\(id)' is not a change id (ids look like c3f1a2b4c5d; every report shows them)", file: path,
          line: entry.keyMark.line)
      }
      guard let fields = entry.value.pairs else {
        throw DbtError(
          "the answer for \(id) must be a mapping (accept, mapping, template or keep_old_source)", file: path,
          line: entry.value.mark.line)
      }
      var decision = Decision()
      for field in fields {
        switch field.key {
        case "accept", "keep_old_source":
          guard let text = field.value.string, let value = PyYAML.bool(text) else {
            throw DbtError(
              "\(id).\(field.key) must be true or false", file: path, line: field.value.mark.line)
          }
          if field.key == "accept" { decision.accept = value } else { decision.keepOldSource = value }
        case "mapping":
          guard let pairs = field.value.pairs else {
            throw DbtError(
              "\(id).mapping must map each old value to its new value, e.g. {premium: gold}", file: path,
              line: field.value.mark.line)
          }
          var mapping: [String: String] = [:]
          for pair in pairs {
            guard let new = pair.value.string else {
              throw DbtError(
                "\(id).mapping.\(pair.key) has no new value (name the value that replaced it, or use accept: false)",
                file: path, line: pair.value.mark.line)
            }
            mapping[pair.key] = new
          }
          decision.mapping = mapping
        case "template":
          guard let text = field.value.string else {
            throw DbtError(
              "\(id).template must be text like \"{street}, {city}\"", file: path, line: field.value.mark.line
            )
          }
          decision.template = text
        default:
          throw DbtError(
            "unknown key '\(field.key)' in the answer for \(id) (use accept, mapping, template or keep_old_source)",
            file: path, line: field.keyMark.line)
        }
      }
      result[id] = decision
    }
    return Decisions(result)
  }
}

extension DbtProjectReader {
  /// The first `test-paths` entry of the project's dbt_project.yml (dbt's default: `tests`).
  public static func testPath(projectDirectory: String) throws -> String {
    let file = try DbtProjectFile.load(
      directory: projectDirectory, displayPath: "dbt_project.yml",
      environment: ProcessInfo.processInfo.environment)
    return file.testPaths.first ?? "tests"
  }
}
