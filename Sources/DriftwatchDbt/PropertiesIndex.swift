/// The entries of every property (`.yml`) file of a project and its packages, by section.
struct PropertiesIndex {
  struct Entry {
    var name: String
    var node: YAMLNode
    var file: FileTask
  }

  var models: [Entry] = []
  var seeds: [Entry] = []
  var snapshots: [Entry] = []
  var analyses: [Entry] = []
  var sources: [Entry] = []
  var exposures: [Entry] = []
  var semanticModels: [Entry] = []
  var metrics: [Entry] = []
  var savedQueries: [Entry] = []
  var unitTests: [Entry] = []
  private var byKey: [String: Entry] = [:]

  init(files: [LoadedFile], packages: [PackageContext]) throws {
    for file in files {
      guard case .yaml(let document) = file.content, let document else { continue }
      guard document.pairs != nil else {
        throw DbtError(
          "a property file must be a mapping (`version: 2`, `models:`, `sources:` …); fix its top level",
          file: file.task.displayPath, line: document.mark.line, column: document.mark.column)
      }
      for (section, keyPath) in [
        ("models", \PropertiesIndex.models), ("seeds", \.seeds), ("snapshots", \.snapshots),
        ("analyses", \.analyses), ("sources", \.sources), ("exposures", \.exposures),
        ("semantic_models", \.semanticModels), ("metrics", \.metrics), ("saved_queries", \.savedQueries),
        ("unit_tests", \.unitTests),
      ] as [(String, WritableKeyPath<PropertiesIndex, [Entry]>)] {
        guard let list = document[section], !list.isNull else { continue }
        guard let items = list.items else {
          throw DbtError(
            "`\(section):` must be a list of entries, each with `name:`; put a `- ` before each entry",
            file: file.task.displayPath, line: list.mark.line, column: list.mark.column)
        }
        for item in items {
          guard item.pairs != nil, let name = item["name"]?.string, !name.isEmpty else {
            throw DbtError(
              "an entry of `\(section):` has no `name:`; give it one", file: file.task.displayPath,
              line: item.mark.line, column: item.mark.column)
          }
          let entry = Entry(name: name, node: item, file: file.task)
          // A unit test's id holds its model's name too: two models may each have a unit test of one name.
          let model = section == "unit_tests" ? (item["model"]?.string ?? "") + "/" : ""
          let key = "\(section)/\(file.task.package)/\(model)\(name)"
          if section != "sources", let other = byKey[key] {
            throw DbtError(
              "\(section) entry \(name) is declared twice (also in \(other.file.displayPath) line "
                + "\(other.node.mark.line)); keep one",
              file: file.task.displayPath, line: item.mark.line, column: item.mark.column)
          }
          byKey[key] = entry
          self[keyPath: keyPath].append(entry)
        }
      }
    }
  }

  func model(_ name: String, package: Int) -> Entry? { byKey["models/\(package)/\(name)"] }
  func seed(_ name: String, package: Int) -> Entry? { byKey["seeds/\(package)/\(name)"] }
  func snapshot(_ name: String, package: Int) -> Entry? { byKey["snapshots/\(package)/\(name)"] }
  func analysis(_ name: String, package: Int) -> Entry? { byKey["analyses/\(package)/\(name)"] }
}
