import DriftwatchCore

/// Sources: each table of a `sources:` entry, with its rendered location, `enabled` and tags.
extension GraphAssembler {
  /// A source's field rendered as dbt renders it (`"{% if target.type != 'spark' %}{{ var('db', target.database)
  /// }}{% endif %}"` included), or, when it holds Jinja that cannot be evaluated exactly, `nil` with what that
  /// leaves unknown added to `unknowns`. What dbt fails on (a missing env var or var) is an error.
  private func renderSourceField(
    _ node: YAMLNode?, package: Int, file: FileTask, field: String, unknowns: inout [Incompleteness]
  ) throws -> String? {
    guard let node, let raw = node.string else { return nil }
    switch try yamlValues.render(
      raw, scope: .properties(package: package), file: file.displayPath, line: node.mark.line, key: field)
    {
    case .rendered(let value): return value
    case .unknown(_, let detail):
      unknowns.append(
        Incompleteness(
          kind: .unrenderedField, effects: [.location], file: file.displayPath, line: node.mark.line,
          construct: "\(field):", detail: detail))
      return nil
    }
  }

  /// A source's or table's `config: enabled:` (rendered), else `nil`; Jinja that cannot be evaluated leaves it
  /// `nil` and adds to `unknowns`.
  private func sourceEnabled(
    _ entry: YAMLNode, package: Int, file: FileTask, unknowns: inout [Incompleteness]
  ) throws -> Bool? {
    try patchEnabledValue(entry, package: package, file: file, into: &unknowns)
  }

  mutating func buildSources(_ properties: PropertiesIndex) throws {
    var seen: Set<String> = []
    for entry in properties.sources {
      let package = packages[entry.file.package]
      let source = entry.node
      var unknowns: [Incompleteness] = []
      let database = try renderSourceField(
        source["database"], package: entry.file.package, file: entry.file, field: "database",
        unknowns: &unknowns)
      let schema = try renderSourceField(
        source["schema"], package: entry.file.package, file: entry.file, field: "schema", unknowns: &unknowns)
      let sourceEnabled = try sourceEnabled(
        source, package: entry.file.package, file: entry.file, unknowns: &unknowns)
      let sourceTags =
        try renderedTags(source["tags"], package: entry.file.package, file: entry.file, into: &unknowns)
        + renderedTags(
          source["config"]?["tags"], package: entry.file.package, file: entry.file, into: &unknowns)
      for table in source["tables"]?.items ?? [] {
        guard let tableName = table["name"]?.string else {
          throw DbtError(
            "source \(entry.name): a table has no `name:`; name it", file: entry.file.displayPath,
            line: table.mark.line, column: table.mark.column)
        }
        let uniqueID = "source.\(package.name).\(entry.name).\(tableName)"
        guard seen.insert(uniqueID).inserted else {
          throw DbtError(
            "source \(entry.name) declares table \(tableName) twice; keep one", file: entry.file.displayPath,
            line: table.mark.line)
        }
        let fqn = [package.name] + entry.file.folders + [entry.name, tableName]
        let project = projectConfig(\.sources, package: entry.file.package, fqn: fqn)
        var tableUnknowns = unknowns
        var enabled =
          try self.sourceEnabled(
            table, package: entry.file.package, file: entry.file, unknowns: &tableUnknowns)
          ?? sourceEnabled
        if enabled == nil, let template = project.enabledTemplate {
          switch try projectEnabledValue(template, package: entry.file.package) {
          case .value(let value): enabled = value
          case .unknown(let unknown): tableUnknowns.append(unknown)
          }
        }
        let isEnabled = enabled ?? project.enabled ?? true
        sourceEntries["\(entry.name)\u{0}\(tableName)", default: []].append(
          SourceEntry(uniqueID: uniqueID, package: package.name, enabled: isEnabled))
        guard isEnabled else { continue }
        let columns = (table["columns"]?.items ?? []).compactMap { column -> DeclaredColumn? in
          guard let name = column["name"]?.string else { return nil }
          return DeclaredColumn(name: name, dataType: column["data_type"]?.string)
        }
        let identifier = try renderSourceField(
          table["identifier"], package: entry.file.package, file: entry.file, field: "identifier",
          unknowns: &tableUnknowns)
        let tableTags =
          try renderedTags(table["tags"], package: entry.file.package, file: entry.file, into: &tableUnknowns)
          + renderedTags(
            table["config"]?["tags"], package: entry.file.package, file: entry.file, into: &tableUnknowns)
        if !tableUnknowns.isEmpty { incomplete[uniqueID] = tableUnknowns }
        sources.append(
          SourceTable(
            uniqueID: uniqueID, packageName: package.name, sourceName: entry.name, name: tableName,
            database: database ?? options.defaultDatabase, schema: schema ?? entry.name,
            identifier: identifier ?? tableName, columns: columns, filePath: entry.file.originalPath,
            tags: Self.normalizedTags(project.tags + sourceTags + tableTags),
            identifierExpression: table["identifier"]?.string.flatMap { $0.contains("{{") ? $0 : nil }))
      }
    }
  }
}
