/// What a project reader could not evaluate, and which nodes that leaves incomplete.
///
/// The seam between a reader and the answers built on its graph: "the reader could not evaluate `construct`
/// in `file` at `line` → node N is incomplete, for this reason". The project-file reader scans Jinja instead of
/// rendering it and reports what the scan cannot know; a reader that renders (or `manifest.json`) reports
/// nothing and its graph is exact. `Exactness` decides from these which answers depend on an incomplete node.
public struct Incompleteness: Sendable, Hashable, Codable {
  /// What the reader met.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A call to a project or package macro whose body (or a macro it calls) calls `ref`, `source` or `config`.
    case macroCall = "macro_call"
    /// A call to a function or macro the reader cannot find (not a dbt builtin, not in the project's or its
    /// packages' macro files).
    case unknownCall = "unknown_call"
    /// `ref(…)` or `source(…)` with arguments that are not literals (`ref(var('m'))`).
    case dynamicCall = "dynamic_call"
    /// `ref`, `source` or `config` under a condition the reader does not evaluate (`{% if target.name … %}`):
    /// every branch is followed, so the graph may have edges dbt would not record.
    case conditionalCall = "conditional_call"
    /// `config(…)` with a dict argument, or a non-literal `enabled`, `tags` or `materialized`.
    case dynamicConfig = "dynamic_config"
    /// A Python model: its `dbt.ref`/`dbt.source` calls are read by scanning, not by running it.
    case pythonModel = "python_model"
    /// A yml field (a source's `database:`, `schema:`, `identifier:`) with Jinja the reader does not render.
    case unrenderedField = "unrendered_field"
    /// A `dbt_project.yml` config (`+enabled: "{{ … }}"`) with Jinja the reader does not render.
    case projectConfig = "project_config"
    /// Several nodes define the same name and at least one is enabled by a config the reader cannot evaluate.
    case ambiguousEnabled = "ambiguous_enabled"
    /// The reader rendered the node with dbt's parse-time context and the render failed, used a construct the
    /// engine lacks, called a macro found nowhere, or read `target` when no target is known.
    case renderFailed = "render_failed"
  }

  /// What may be wrong in the graph because of it.
  public enum Effect: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// The node may read nodes or sources the graph does not show.
    case missingEdges = "missing_edges"
    /// The graph may show edges dbt would not record.
    case extraEdges = "extra_edges"
    /// `enabled`, `tags` or `materialized` may differ from what the graph says.
    case config
    /// A source's database, schema or identifier may differ: the warehouse may be looked at in the wrong place.
    case location

    private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: Effect, rhs: Effect) -> Bool { lhs.order < rhs.order }
  }

  public var kind: Kind
  /// Sorted, without repeats.
  public var effects: [Effect]
  /// The file, as messages name it (relative to the project root: `models/a.sql`, `dbt_packages/x/…`).
  public var file: String
  /// 1-based, when known.
  public var line: Int?
  /// The construct as short text: `simple_cte(…)`, `ref(var(…))`, `config({…})`, `database:`.
  public var construct: String
  /// More about it, when there is more (which macro calls `ref`, where it is defined).
  public var detail: String?

  public init(
    kind: Kind, effects: [Effect], file: String, line: Int?, construct: String, detail: String? = nil
  ) {
    self.kind = kind
    self.effects = Array(Set(effects)).sorted()
    self.file = file
    self.line = line
    self.construct = construct
    self.detail = detail
  }

  /// `models/a.sql:3`
  public var place: String { line.map { "\(file):\($0)" } ?? file }

  /// Only `enabled`/`tags`/`materialized` are in doubt, never an edge or a location.
  public var isConfigOnly: Bool { effects == [.config] }

  /// What it means for the answers, in words (lowercase, no trailing period).
  public var reason: String {
    let base: String
    switch kind {
    case .macroCall:
      base = "calls macro \(construct), whose refs and configs cannot be read without rendering"
    case .unknownCall:
      base = "calls \(construct), which is neither a dbt builtin nor a macro of the project or its packages"
    case .dynamicCall:
      base = "\(construct) has arguments that are not literals; what it points to is unknown"
    case .conditionalCall:
      base = "\(construct) is under a condition driftwatch does not evaluate; every branch is followed"
    case .dynamicConfig:
      base = "\(construct) is not literal; enabled, tags or materialized may differ"
    case .pythonModel:
      base = "a python model: its dbt.ref() and dbt.source() calls are read by scanning, not by running it"
    case .unrenderedField:
      base = "`\(construct)` holds jinja driftwatch does not render; where the source lives is unknown"
    case .projectConfig:
      base = "dbt_project.yml `\(construct)` holds jinja driftwatch does not render; enabled may differ"
    case .ambiguousEnabled:
      base =
        "\(construct) is defined more than once and which one is enabled depends on a config driftwatch "
        + "does not evaluate"
    case .renderFailed:
      base = "rendering it as dbt parses it failed at \(construct)"
    }
    return detail.map { "\(base) (\($0))" } ?? base
  }
}

/// Something the reader wants the user to know that leaves no node incomplete (dbt accepts it with a warning).
public struct ProjectWarning: Sendable, Hashable, Codable {
  public var file: String
  public var line: Int?
  public var message: String

  public init(file: String, line: Int?, message: String) {
    self.file = file
    self.line = line
    self.message = message
  }

  public var place: String { line.map { "\(file):\($0)" } ?? file }
}

/// An incomplete node an answer depends on, with why it is incomplete.
public struct IncompleteNode: Sendable, Hashable, Codable {
  public var uniqueID: String
  public var reasons: [Incompleteness]

  public init(uniqueID: String, reasons: [Incompleteness]) {
    self.uniqueID = uniqueID
    self.reasons = reasons
  }
}

extension ProjectGraph {
  /// Why `id` is incomplete; empty when the reader could read all of it.
  public func incompleteness(of id: String) -> [Incompleteness] { incomplete[id] ?? [] }

  /// `ids`, sorted, each with its reasons (ids that are not incomplete are left out).
  public func incompleteNodes(_ ids: some Sequence<String>) -> [IncompleteNode] {
    Set(ids).sorted().compactMap { id in
      guard let reasons = incomplete[id], !reasons.isEmpty else { return nil }
      return IncompleteNode(uniqueID: id, reasons: reasons)
    }
  }
}

/// Whether an answer depends on a node the reader could not read exactly. Pure: the graph's incompleteness in,
/// the ids of the incomplete nodes the answer depends on out (sorted; empty: the answer is exact).
///
/// `docs/architecture.md` ("Exact answers") explains the rules.
public enum Exactness {
  /// `lineage SELECTOR`: the incomplete nodes the listing `selected` depends on.
  ///
  /// - an incomplete node in the result counts (its edges or config may be wrong);
  /// - a term that walks down (`x+`, `@x`): a listed node not in the result whose edges may be missing may
  ///   have an unknown edge from a result node;
  /// - a term that walks up (`+x`, `@x`): covered by the first rule (the walk passes through result nodes);
  /// - `tag:` (and any config-based method): a node whose config is in doubt may match or not.
  /// Source locations do not change lineage.
  public static func lineage(
    _ selector: NodeSelector, selected: Set<String>, project: ProjectGraph,
    listed: Set<ResourceType> = NodeSelector.listedResourceTypes
  ) -> [String] {
    guard !project.incomplete.isEmpty else { return [] }
    let criteria = (selector.terms + selector.exclusions).flatMap(\.criteria)
    let walksDown = criteria.contains { $0.children || $0.childrensParents }
    let readsConfig = criteria.contains { $0.method == .tag }
    var found: [String] = []
    for (id, reasons) in project.incomplete {
      let lineageEffects = reasons.flatMap(\.effects).filter { $0 != .location }
      guard !lineageEffects.isEmpty else { continue }
      if selected.contains(id) {
        found.append(id)
        continue
      }
      let type = project.nodes[id]?.resourceType ?? (project.sources[id] != nil ? .source : nil)
      guard let type, listed.contains(type) else { continue }
      if walksDown && lineageEffects.contains(.missingEdges) {
        found.append(id)
      } else if readsConfig && lineageEffects.contains(.config) {
        found.append(id)
      }
    }
    return found.sorted()
  }

  /// `check`, `fix`, `impact`, `watch`: the incomplete nodes a drift answer depends on.
  ///
  /// - with no change, the answer "no drift" depends only on where the sources are: a source whose location
  ///   is in doubt counts;
  /// - with changes, the blast radius and `breaking` depend on the readers of the changed sources: any node
  ///   whose edges may be missing could read one (it counts wherever it is), any incomplete node in the blast
  ///   radius counts, and so does a source whose location is in doubt. A node whose incompleteness is only
  ///   about config, or only extra edges, outside the blast radius does not; nor does an analysis.
  public static func check(hasChanges: Bool, blastRadius: Set<String>, project: ProjectGraph) -> [String] {
    guard !project.incomplete.isEmpty else { return [] }
    var found: [String] = []
    for (id, reasons) in project.incomplete {
      // Analyses are never in a blast radius (dbt does not build them).
      if project.nodes[id]?.resourceType == .analysis { continue }
      let effects = Set(reasons.flatMap(\.effects))
      if effects.contains(.location) {
        found.append(id)
      } else if hasChanges && (effects.contains(.missingEdges) || blastRadius.contains(id)) {
        found.append(id)
      }
    }
    return found.sorted()
  }

  /// What `check` would depend on whatever drift comes (`watch`, before its first check).
  public static func anyCheck(project: ProjectGraph) -> [String] {
    check(hasChanges: true, blastRadius: [], project: project)
  }
}

/// The one line a command prints (and exits 2 with) when its answer depends on an incomplete node.
public struct IncompleteAnswerError: UserFacingError, Equatable {
  public var count: Int
  public var first: String
  public var firstReason: Incompleteness?
  public var manifestHint: String

  public init(dependsOn ids: [String], project: ProjectGraph) {
    count = ids.count
    first = ids.first ?? ""
    firstReason = project.incompleteness(of: first).first
    manifestHint = "--manifest target/manifest.json (after `dbt parse`)"
  }

  public var message: String {
    var text = "the answer depends on \(count) node\(count == 1 ? "" : "s") driftwatch could not read exactly"
    text += " (first: \(first)"
    if let firstReason { text += ", \(firstReason.place): \(firstReason.reason)" }
    text += "); pass --allow-incomplete to answer with them marked, or use \(manifestHint), which is exact"
    // Names come from the project's files: one line, no control character.
    return String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
  }
}

/// Warnings, summarised: one line per construct and meaning, however many nodes share it.
public enum IncompletenessSummary {
  /// ```
  /// 339 nodes are incomplete: calls macro simple_cte, whose refs and configs cannot be read without
  ///   rendering (macros/simple_cte.sql:1 calls ref()); first: models/a.sql:3 (model.shop.a)
  /// ```
  public static func lines(_ project: ProjectGraph) -> [String] {
    struct Group {
      var first: (id: String, reason: Incompleteness)
      var ids: Set<String>
    }
    var groups: [String: Group] = [:]
    var order: [String] = []
    for id in project.incomplete.keys.sorted() {
      for reason in project.incomplete[id] ?? [] {
        let key = "\(reason.kind.rawValue)\u{0}\(reason.construct)\u{0}\(reason.detail ?? "")"
        if groups[key] == nil {
          groups[key] = Group(first: (id, reason), ids: [])
          order.append(key)
        }
        groups[key]?.ids.insert(id)
      }
    }
    var lines: [String] = []
    for key in order {
      guard let group = groups[key] else { continue }
      let reason = group.first.reason
      if group.ids.count == 1 {
        lines.append("\(reason.place): \(group.first.id) is incomplete: \(reason.reason)")
      } else {
        lines.append(
          "\(group.ids.count) nodes are incomplete: \(reason.reason); first: \(reason.place) "
            + "(\(group.first.id))")
      }
    }
    for warning in project.warnings {
      lines.append("\(warning.place): \(warning.message)")
    }
    return lines
  }
}
