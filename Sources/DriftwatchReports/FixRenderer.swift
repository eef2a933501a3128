import DriftwatchCore

/// Renders a drafted fix: text (a summary, the questions, a unified diff, a decisions template),
/// JSON (docs/fix.md) or markdown (a PR comment).
public struct FixRenderer: Sendable {
  public static let schemaVersion = 1
  public var toolVersion: String

  public init(toolVersion: String) { self.toolVersion = toolVersion }

  public func render(_ draft: FixDraft, report: DriftReport, as format: ReportFormat) -> String {
    switch format {
    case .text: text(draft, report: report)
    case .json: json(draft, report: report).rendered()
    case .markdown: markdown(draft, report: report)
    }
  }

  // MARK: Text

  func text(_ draft: FixDraft, report: DriftReport) -> String {
    var out: [String] = []
    let t = OutputEscape.terminal
    out.append("driftwatch fix · \(t(draft.project)) · \(draft.dialect.rawValue) SQL")
    guard !draft.changes.isEmpty || !draft.notes.isEmpty else {
      out.append("nothing to fix: no source change that a mapping can absorb")
      return OutputEscape.terminalLines(out) + "\n"
    }
    let open = draft.openQuestions.count
    out.append(
      "covers \(draft.changes.count) change\(draft.changes.count == 1 ? "" : "s"); "
        + "\(draft.files.count) file\(draft.files.count == 1 ? "" : "s") drafted; "
        + "\(open) open question\(open == 1 ? "" : "s")")
    out.append("")
    if !draft.files.isEmpty {
      out.append("files:")
      for file in draft.files {
        out.append("  \(file.status.padding(9)) \(t(file.path)) — \(t(file.reason))")
      }
      out.append("")
    }
    if !draft.questions.isEmpty {
      out.append("questions:")
      for question in draft.questions {
        let mark =
          switch question.status {
          case .open: "?"
          case .accepted: "✓"
          case .rejected: "✗"
          case .proven: "✓"
          }
        out.append("  \(mark) \(t(question.changeID)) \(question.kind.rawValue): \(t(question.subject))")
        out.append("      \(t(question.prompt))")
        if let proposal = question.proposal { out.append("      proposal: \(t(proposal))") }
        if let answer = question.answer {
          out.append("      answer: \(t(answer))\(question.status == .proven ? " (proven by the data)" : "")")
        }
      }
      out.append("")
    }
    if !draft.expectedFailures.isEmpty {
      out.append("will still fail, because an answer rejected the code that would keep them green:")
      for failure in draft.expectedFailures { out.append("  \(t(failure.test)) — \(t(failure.reason))") }
      out.append("")
    }
    if !draft.notes.isEmpty {
      out.append("left alone:")
      for note in draft.notes { out.append("  - \(t(note))") }
      out.append("")
    }
    for file in draft.files {
      out.append(
        OutputEscape.terminalBlock(
          UnifiedDiff.make(path: t(file.path), old: file.original, new: file.content)))
    }
    if open > 0 {
      out.append("decisions template — save it (e.g. decisions.yml), answer every question, then:")
      out.append("  driftwatch fix … --decisions decisions.yml --write")
      out.append("")
      out.append(OutputEscape.terminalBlock(decisionsTemplate(draft, report: report)))
    }
    // Every element is one line, or a block guarded line by line: no control character is left but the
    // newlines between lines.
    return out.joined(separator: "\n") + (out.last?.hasSuffix("\n") == true ? "" : "\n")
  }

  /// A decisions file with every question, proposals filled in where there are any.
  public func decisionsTemplate(_ draft: FixDraft, report: DriftReport) -> String {
    var out = ["version: 1", "decisions:"]
    for question in draft.questions {
      out.append(
        "  \(question.changeID):  "
          + YAMLEscape.comment("# \(question.kind.rawValue): \(question.subject)"))
      switch question.kind {
      case .valueMapping:
        let proposed = Dictionary(
          (report.changes.first { $0.id == question.changeID }?.mapping ?? []).compactMap { pair in
            pair.new.map { (pair.old, $0) }
          }, uniquingKeysWith: { first, _ in first })
        out.append("    mapping:  # old value: the new value that replaced it (or instead: accept: false)")
        let choices = (question.newValues ?? []).joined(separator: ", ")
        for old in question.oldValues ?? [] {
          if let new = proposed[old] {
            out.append("      \(yaml(old)): \(yaml(new))")
          } else {
            out.append("      \(yaml(old)):  " + YAMLEscape.comment("# one of: \(choices)"))
          }
        }
      case .splitTemplate:
        let unknown = question.prompt.contains("separators, shown as ?, are unknown")
        out.append(
          "    template: \(yaml(question.proposal ?? ""))  # columns in braces"
            + (unknown ? "; write the real separator in place of each ?" : "") + "; or accept: false")
      case .confirmRename, .fillMissing, .rewriteByHand:
        out.append("    accept: true  # or false")
      }
    }
    return out.joined(separator: "\n") + "\n"
  }

  private func yaml(_ value: String) -> String { YAMLEscape.doubleQuoted(value) }

  // MARK: JSON

  func json(_ draft: FixDraft, report: DriftReport) -> JSONValue {
    .object([
      ("schema_version", .integer(Self.schemaVersion)),
      ("driftwatch_version", .string(toolVersion)),
      ("project", .string(draft.project)),
      ("dialect", .string(draft.dialect.rawValue)),
      ("changes", .strings(draft.changes)),
      (
        "files",
        .array(
          draft.files.map { file in
            .object([
              ("path", .string(file.path)),
              ("status", .string(file.status)),
              ("reason", .string(file.reason)),
              ("content", .optional(file.content)),
              ("diff", .string(UnifiedDiff.make(path: file.path, old: file.original, new: file.content))),
            ])
          })
      ),
      (
        "questions",
        .array(
          draft.questions.map { question in
            var members: [(String, JSONValue)] = [
              ("change_id", .string(question.changeID)),
              ("kind", .string(question.kind.rawValue)),
              ("subject", .string(question.subject)),
              ("prompt", .string(question.prompt)),
              ("status", .string(question.status.rawValue)),
              ("proposal", .optional(question.proposal)),
              ("answer", .optional(question.answer)),
            ]
            if let old = question.oldValues { members.append(("old_values", .strings(old))) }
            if let new = question.newValues { members.append(("new_values", .strings(new))) }
            if let columns = question.columns { members.append(("columns", .strings(columns))) }
            return .object(members)
          })
      ),
      (
        "expected_failures",
        .array(
          draft.expectedFailures.map {
            .object([
              ("test", .string($0.test)), ("change_id", .string($0.changeID)), ("reason", .string($0.reason)),
            ])
          })
      ),
      ("notes", .strings(draft.notes)),
    ])
  }

  // MARK: Markdown

  func markdown(_ draft: FixDraft, report: DriftReport) -> String {
    let code = OutputEscape.markdownCode
    var out = ["### driftwatch: drafted fix for `\(code(draft.project))`", ""]
    let open = draft.openQuestions.count
    out.append(
      "Covers \(draft.changes.count) change(s) with \(draft.files.count) file(s); **\(open) open question(s)**."
    )
    out.append("")
    if !draft.files.isEmpty {
      out.append("| | file | why |")
      out.append("|---|---|---|")
      for file in draft.files {
        out.append("| \(file.status) | `\(code(file.path))` | \(cell(file.reason)) |")
      }
      out.append("")
    }
    if !draft.questions.isEmpty {
      out.append("| | change | question | answer |")
      out.append("|---|---|---|---|")
      for question in draft.questions {
        let mark = question.isOpen ? "❓" : (question.status == .rejected ? "✗" : "✅")
        out.append(
          "| \(mark) | `\(code(question.changeID))` \(cell(question.subject)) | \(cell(question.prompt)) | \(cell(question.answer ?? question.proposal.map { "proposal: \($0)" } ?? "—")) |"
        )
      }
      out.append("")
    }
    if !draft.expectedFailures.isEmpty {
      out.append("Will still fail (rejected answers):")
      for failure in draft.expectedFailures {
        out.append("- `\(code(failure.test))`: \(cell(failure.reason))")
      }
      out.append("")
    }
    for file in draft.files {
      out.append("<details><summary><code>\(OutputEscape.html(file.path))</code> (\(file.status))</summary>")
      out.append("")
      let diff = UnifiedDiff.make(path: TextEscape.oneLine(file.path), old: file.original, new: file.content)
      let fence = OutputEscape.fence(for: diff)
      out.append(fence + "diff")
      out.append(diff, terminator: "")
      out.append(fence)
      out.append("</details>")
      out.append("")
    }
    if !draft.notes.isEmpty {
      out.append("Left alone:")
      for note in draft.notes { out.append("- \(cell(note))") }
    }
    return OutputEscape.markdownDocument(out.joined(separator: "\n") + "\n")
  }

  /// Prose in a table cell or a list item: `OutputEscape.markdownText`.
  private func cell(_ text: String) -> String { OutputEscape.markdownText(text) }
}

extension Array where Element == String {
  fileprivate mutating func append(_ text: String, terminator: String) {
    append(text.hasSuffix("\n") ? String(text.dropLast()) : text)
  }
}

extension String {
  fileprivate func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}
