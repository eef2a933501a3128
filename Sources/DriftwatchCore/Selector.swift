/// dbt's node selection syntax (`--select` / `--exclude`), parsed.
///
/// `a b` is a union, `a,b` an intersection. Each criterion is `[@][N+][method:]value[+N]`, as dbt's
/// `RAW_SELECTOR_PATTERN` reads it. Without a method the value is a path when it contains `/`, a file name when
/// it ends in `.sql`, `.py` or `.csv`, and otherwise a node name or dotted fqn, with `*`, `?` and `[…]` wildcards.
public struct NodeSelector: Sendable, Hashable, CustomStringConvertible {
  /// The `--select` text as given.
  public var text: String
  /// The union of these terms is selected.
  public var terms: [SelectorTerm]
  /// The `--exclude` text, if any.
  public var excludeText: String?
  /// The union of these terms is taken out of the selection.
  public var exclusions: [SelectorTerm]

  public var description: String {
    excludeText.map { "\(text) --exclude \($0)" } ?? text
  }

  /// What `dbt ls` lists by default: every resource type except analyses.
  public static let listedResourceTypes: Set<ResourceType> = Set(ResourceType.allCases).subtracting([
    .analysis
  ])

  /// Parse a `--select` value. Throws `InputError` saying what is wrong and which forms are accepted.
  public static func parse(_ text: String) throws -> NodeSelector {
    try parse(select: text, exclude: nil)
  }

  /// Parse a `--select` value and an optional `--exclude` value.
  public static func parse(select: String, exclude: String?) throws -> NodeSelector {
    let terms = try parseUnion(select, flag: "selector")
    guard !terms.isEmpty else {
      throw InputError("the selector is empty; \(acceptedForms)")
    }
    var exclusions: [SelectorTerm] = []
    if let exclude {
      exclusions = try parseUnion(exclude, flag: "exclude selector")
    }
    return NodeSelector(
      text: select.selectorTrimmed, terms: terms, excludeText: exclude?.selectorTrimmed,
      exclusions: exclusions)
  }

  /// dbt's default selection when none is given (`dbt ls` with no `--select`): every node, sources and the
  /// semantic layer included (dbt's `DEFAULT_INCLUDES`).
  public static let everything =
    "fqn:* source:* exposure:* metric:* semantic_model:* saved_query:* unit_test:*"

  static let acceptedForms = """
    accepted forms: a node name or fqn with * wildcards (stg_orders, staging.*), a path (models/staging), \
    a file (stg_orders.sql), method:value with methods \(SelectorMethod.allCases.map(\.rawValue).joined(separator: ", ")) \
    (source:raw, source:raw.orders, tag:nightly), graph operators +x, x+, 2+x, x+3, @x; \
    spaces separate a union, commas an intersection (tag:a,tag:b)
    """

  private static func parseUnion(_ text: String, flag: String) throws -> [SelectorTerm] {
    var terms: [SelectorTerm] = []
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
      let raw = String(word)
      var criteria: [SelectionCriterion] = []
      for part in raw.split(separator: ",", omittingEmptySubsequences: false) {
        guard !part.isEmpty else {
          throw InputError(
            "invalid \(flag) '\(raw)': an intersection needs a criterion on both sides of each comma; "
              + acceptedForms)
        }
        criteria.append(try SelectionCriterion.parse(String(part), flag: flag))
      }
      terms.append(SelectorTerm(text: raw, criteria: criteria))
    }
    return terms
  }
}

/// One space-separated part of a selector: the intersection of its comma-separated criteria.
public struct SelectorTerm: Sendable, Hashable {
  public var text: String
  public var criteria: [SelectionCriterion]

  public init(text: String, criteria: [SelectionCriterion]) {
    self.text = text
    self.criteria = criteria
  }
}

/// The selection methods driftwatch evaluates: dbt's, less those that need run state or configs it does not
/// read (`state`, `result`, `source_status`, `config`, `group`, `access`, `version`).
public enum SelectorMethod: String, Sendable, Hashable, CaseIterable {
  case fqn
  case source
  case exposure
  case tag
  case path
  case file
  case package
  case resourceType = "resource_type"
  case testName = "test_name"
  case testType = "test_type"
  case metric
  case semanticModel = "semantic_model"
  case savedQuery = "saved_query"
  case unitTest = "unit_test"

  /// Methods dbt has that driftwatch cannot answer from a project alone, and why.
  static let unsupported: [String: String] = [
    "state": "it compares with a previous manifest",
    "result": "it reads run results",
    "source_status": "it reads source freshness results",
    "config": "driftwatch does not read node configs",
    "group": "driftwatch does not read groups",
    "access": "driftwatch does not read model access",
    "version": "driftwatch does not read model versions",
  ]

  /// The values `resource_type:` accepts: dbt's node types.
  static let resourceTypeValues: Set<String> = Set(ResourceType.allCases.map(\.rawValue)).union([
    "operation", "rpc", "sql_operation", "doc", "macro", "group", "fixture", "function",
  ])
  static let testTypeValues: Set<String> = ["generic", "schema", "singular", "data", "unit"]
}

/// One criterion: a method and value, with dbt's graph operators around it.
public struct SelectionCriterion: Sendable, Hashable {
  /// The criterion as written, operators included.
  public var text: String
  public var method: SelectorMethod
  /// What follows a dotted method name (`config.materialized` → `["materialized"]`); ignored, as dbt does for
  /// every method but `config`.
  public var methodArguments: [String]
  public var value: String
  /// `@x`: x, its descendants, and all the ancestors of those.
  public var childrensParents: Bool
  /// `+x` / `N+x`.
  public var parents: Bool
  public var parentsDepth: Int?
  /// `x+` / `x+N`.
  public var children: Bool
  public var childrenDepth: Int?

  public init(
    text: String, method: SelectorMethod, methodArguments: [String] = [], value: String,
    childrensParents: Bool = false, parents: Bool = false, parentsDepth: Int? = nil, children: Bool = false,
    childrenDepth: Int? = nil
  ) {
    self.text = text
    self.method = method
    self.methodArguments = methodArguments
    self.value = value
    self.childrensParents = childrensParents
    self.parents = parents
    self.parentsDepth = parentsDepth
    self.children = children
    self.childrenDepth = childrenDepth
  }

  /// Read `[@][N+][method:]value[+N]` the way dbt's `RAW_SELECTOR_PATTERN` does.
  static func parse(_ raw: String, flag: String = "selector") throws -> SelectionCriterion {
    func fail(_ what: String) -> InputError {
      InputError("invalid \(flag) '\(raw)': \(what); \(NodeSelector.acceptedForms)")
    }
    var rest = Substring(raw)
    let childrensParents = rest.first == "@"
    if childrensParents { rest = rest.dropFirst() }

    // Leading `N+` / `+`: digits count only when a `+` follows them.
    var parents = false
    var parentsDepth: Int?
    let leadingDigits = rest.prefix(while: \.isASCIIDigit)
    if rest.dropFirst(leadingDigits.count).first == "+" {
      parents = true
      if !leadingDigits.isEmpty {
        guard let depth = Int(leadingDigits) else { throw fail("the depth \(leadingDigits) is too large") }
        parentsDepth = depth
      }
      rest = rest.dropFirst(leadingDigits.count + 1)
    }

    // Trailing `+` / `+N`: the first `+` followed by nothing but digits (dbt's lazy value).
    var children = false
    var childrenDepth: Int?
    if let plus = rest.indices.first(where: {
      rest[$0] == "+" && rest[rest.index(after: $0)...].allSatisfy(\.isASCIIDigit)
    }) {
      children = true
      let digits = rest[rest.index(after: plus)...]
      if !digits.isEmpty {
        guard let depth = Int(digits) else { throw fail("the depth \(digits) is too large") }
        childrenDepth = depth
      }
      rest = rest[..<plus]
    }

    // `method:` — word characters and dots, then a colon.
    var methodName: Substring?
    if let colon = rest.firstIndex(of: ":"), colon > rest.startIndex,
      rest[..<colon].allSatisfy({ $0.isWordCharacter || $0 == "." })
    {
      methodName = rest[..<colon]
      rest = rest[rest.index(after: colon)...]
    }
    let value = String(rest)

    if childrensParents && children {
      throw fail("'@' and a trailing '+' cannot be combined (use @x, or x+)")
    }
    if value.isEmpty {
      throw fail("it names no node")
    }
    if value.contains("+") || value.contains("@") {
      throw fail("'+' and '@' only go before or after a name (+x, x+, @x)")
    }

    var method: SelectorMethod
    var arguments: [String] = []
    if let methodName {
      let parts = methodName.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
      let name = parts[0]
      if let known = SelectorMethod(rawValue: name) {
        method = known
      } else if let why = SelectorMethod.unsupported[name] {
        throw fail("the '\(name):' method is not supported because \(why)")
      } else {
        throw fail("'\(name)' is not a selector method")
      }
      arguments = Array(parts.dropFirst())
    } else if value.contains("/") {
      method = .path
    } else if [".sql", ".py", ".csv"].contains(where: { value.lowercased().hasSuffix($0) }) {
      method = .file
    } else {
      method = .fqn
    }
    try validate(method: method, value: value, fail: fail)
    return SelectionCriterion(
      text: raw, method: method, methodArguments: arguments, value: value, childrensParents: childrensParents,
      parents: parents, parentsDepth: parentsDepth, children: children, childrenDepth: childrenDepth)
  }

  private static func validate(method: SelectorMethod, value: String, fail: (String) -> InputError) throws {
    let dots = value.split(separator: ".", omittingEmptySubsequences: false).count
    switch method {
    case .source where dots > 3:
      throw fail("a source is source_name, source_name.table_name or package.source_name.table_name")
    case .exposure, .metric, .semanticModel, .savedQuery, .unitTest:
      if dots > 2 {
        throw fail("\(method.rawValue): takes a name or package.name")
      }
    case .resourceType where !SelectorMethod.resourceTypeValues.contains(value):
      throw fail(
        "'\(value)' is not a resource type (use one of \(ResourceType.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    case .testType where !SelectorMethod.testTypeValues.contains(value):
      throw fail("'\(value)' is not a test type (use generic, singular, data or unit)")
    case .path where value.hasPrefix("/"):
      throw fail("a path is relative to the project root")
    default: break
    }
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
  /// Python's `\w`: letters, digits, underscore.
  fileprivate var isWordCharacter: Bool { isLetter || isNumber || self == "_" }
}

extension String {
  fileprivate var selectorTrimmed: String {
    var text = Substring(self)
    while let first = text.first, first.isWhitespace { text = text.dropFirst() }
    while let last = text.last, last.isWhitespace { text = text.dropLast() }
    return String(text)
  }
}
