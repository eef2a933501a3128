/// Values of the fix drafter: what it needs to be told (decisions), what it asks (questions),
/// and what it drafts (files). See docs/fix.md for the decisions file.

/// A human's answer to one question, keyed by the change id every report shows.
public struct Decision: Sendable, Hashable, Codable {
  /// true: take the proposal; false: reject it (no code is drafted for it); nil: not said.
  public var accept: Bool?
  /// For a value remap: old value → the new value that stands for it.
  public var mapping: [String: String]?
  /// For a split: how the old value is rebuilt, e.g. `{street}, {city}, {state_code} {postal_code}`.
  public var template: String?
  /// For a renamed table: keep the old entry in the sources yml beside the new one (default: remove it).
  public var keepOldSource: Bool?

  public init(
    accept: Bool? = nil, mapping: [String: String]? = nil, template: String? = nil, keepOldSource: Bool? = nil
  ) {
    self.accept = accept
    self.mapping = mapping
    self.template = template
    self.keepOldSource = keepOldSource
  }
}

/// Every answer given, by change id.
public struct Decisions: Sendable, Hashable {
  public var byChange: [String: Decision]

  public init(_ byChange: [String: Decision] = [:]) { self.byChange = byChange }

  public subscript(id: String) -> Decision? { byChange[id] }
}

/// Something only a human can settle: what data means, or an inference too weak to act on.
public struct Question: Sendable, Hashable, Codable {
  public enum Kind: String, Sendable, Hashable, Codable {
    /// Which new value stands for each old one.
    case valueMapping = "value_mapping"
    /// How the old value of a split column is rebuilt from its parts.
    case splitTemplate = "split_template"
    /// A rename below the confidence threshold: is it one?
    case confirmRename = "confirm_rename"
    /// A column gone with nothing in its place: fill it with NULL, or let readers fail?
    case fillMissing = "fill_missing"
    /// A reader driftwatch cannot rewrite (macro-generated SQL): a human maps its columns back.
    case rewriteByHand = "rewrite_by_hand"
  }

  public enum Status: String, Sendable, Hashable, Codable {
    case open
    case accepted
    case rejected
    /// Settled by measured evidence (a proven split template), no human needed.
    case proven
  }

  public var changeID: String
  public var kind: Kind
  /// `acme.raw_customers.customer_segment → account_tier`
  public var subject: String
  public var prompt: String
  /// What driftwatch would do if told "accept", when it has a proposal.
  public var proposal: String?
  /// For value mappings: the old values (in declared order) and the live values to choose from.
  public var oldValues: [String]?
  public var newValues: [String]?
  /// For split templates: the columns a template may name.
  public var columns: [String]?
  public var status: Status
  /// The answer in use (a mapping or template rendered as text), when settled.
  public var answer: String?

  public var isOpen: Bool { status == .open }
}

/// One file the fix writes. `original` nil: a new file; `content` nil: the file is removed.
public struct DraftedFile: Sendable, Hashable, Codable {
  /// Relative to the dbt project root.
  public var path: String
  public var original: String?
  public var content: String?
  /// Why, in one line.
  public var reason: String

  public init(path: String, original: String?, content: String?, reason: String) {
    self.path = path
    self.original = original
    self.content = content
    self.reason = reason
  }

  public var status: String {
    switch (original, content) {
    case (nil, _): "created"
    case (_, nil): "removed"
    default: "modified"
    }
  }
}

/// A test that will still fail after the fix, because an answer rejected the code that would keep it green.
public struct ExpectedFailure: Sendable, Hashable, Codable {
  public var test: String
  public var changeID: String
  public var reason: String
}

/// What `driftwatch fix` drafted for one check.
public struct FixDraft: Sendable, Hashable, Codable {
  public var project: String
  public var dialect: SQLDialect
  public var files: [DraftedFile]
  public var questions: [Question]
  /// Tests the fix cannot keep green, given the answers.
  public var expectedFailures: [ExpectedFailure]
  /// What was left alone, and why.
  public var notes: [String]
  /// The changes the fix covers.
  public var changes: [String]

  public var openQuestions: [Question] { questions.filter(\.isOpen) }
  public var isEmpty: Bool { files.isEmpty }
}
