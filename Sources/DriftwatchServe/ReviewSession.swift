import DriftwatchCore
import DriftwatchReports
import Foundation

/// One check as the review page shows it.
public struct ReviewCheck: Sendable {
  public var report: DriftReport
  public var previews: [String: SplitPreview]
  public var checkedAt: String
  public var snapshotID: String?

  public init(report: DriftReport, previews: [String: SplitPreview], checkedAt: String, snapshotID: String?) {
    self.report = report
    self.previews = previews
    self.checkedAt = checkedAt
    self.snapshotID = snapshotID
  }
}

/// What the page needs from the command line's machinery: the same calls `check`, `fix`, `snapshot`,
/// `incidents` and `postmortem` make. `driftwatch serve` (and `watch --http`) provide it; tests use twins.
public protocol ReviewBackend: Sendable {
  /// Runs a check of the project against the warehouse and keeps it for `draft` and `write`.
  func check() async throws -> ReviewCheck
  /// The fix drafted for the last check with these answers (throws `InputError` for an answer the drafter
  /// refuses, such as a template naming a column that is not one of the parts).
  func draft(_ decisions: Decisions) async throws -> FixDraft
  /// Drafts with these answers and writes every file or none (refusing while a question is open, or when a
  /// file changed since the check read it). Returns the paths written.
  func write(_ decisions: Decisions) async throws -> [String]
  /// Records a baseline snapshot, reporting progress (done, total, what).
  func snapshot(progress: @escaping @Sendable (Int, Int, String) -> Void) async throws -> String
  func incidents() async throws -> [Incident]
  func incident(id: String) async throws -> Incident?
  /// Every page passes through this before it is sent (known passwords become `***`).
  func redact(_ text: String) -> String
}

/// The state of the review page: the last check, the answers given since, what is running, and the last
/// thing that happened. One per server.
public actor ReviewSession {
  public let backend: any ReviewBackend
  public nonisolated let csrfToken: String
  public nonisolated let toolVersion: String
  private(set) var check: ReviewCheck?
  private(set) var decisions = Decisions()
  private var notice: String?
  private var error: String?
  private var job: ReviewJob?

  public init(backend: any ReviewBackend, toolVersion: String) {
    self.backend = backend
    self.toolVersion = toolVersion
    self.csrfToken = Self.randomToken()
  }

  /// 256 random bits as hex.
  public static func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<4).map { _ in
      let hex = String(generator.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
  }

  // MARK: Work

  /// Checks now, waiting for it (the first check, and the one after a write).
  public func recheck() async throws {
    let fresh = try await backend.check()
    adopt(fresh)
  }

  private func adopt(_ fresh: ReviewCheck) {
    // Answers stay for the changes that are still there.
    let ids = Set(fresh.report.changes.map(\.id))
    decisions.byChange = decisions.byChange.filter { ids.contains($0.key) }
    check = fresh
  }

  /// Starts a check in the background; the page shows progress until it is done.
  public func startCheck() -> Bool {
    guard job == nil else { return false }
    job = ReviewJob(title: "checking the warehouse")
    Task { await self.runCheckJob() }
    return true
  }

  private func runCheckJob() async {
    do {
      let fresh = try await backend.check()
      adopt(fresh)
      notice = "checked again: \(Self.verdict(fresh.report))"
      error = nil
    } catch {
      self.error = Self.line(error)
    }
    job = nil
  }

  /// Starts a snapshot in the background, then a check that uses it.
  public func startSnapshot() -> Bool {
    guard job == nil else { return false }
    job = ReviewJob(title: "taking a snapshot")
    Task { await self.runSnapshotJob() }
    return true
  }

  private func runSnapshotJob() async {
    do {
      let summary = try await backend.snapshot { done, total, what in
        Task { await self.progress(done: done, total: total, what: what) }
      }
      job = ReviewJob(title: "checking with the new snapshot")
      let fresh = try await backend.check()
      adopt(fresh)
      notice = "\(summary); checked again: \(Self.verdict(fresh.report))"
      error = nil
    } catch {
      self.error = Self.line(error)
    }
    job = nil
  }

  private func progress(done: Int, total: Int, what: String) {
    guard var current = job, current.title == "taking a snapshot" else { return }
    current.done = done
    current.total = total
    current.what = what
    job = current
  }

  /// Records an answer to one question; the draft with it must succeed, or the answer is not kept.
  public func answer(change: String, decision: Decision?) async {
    guard let check, check.report.changes.contains(where: { $0.id == change }) else {
      error = "no change \(change) in the current check: reload the page"
      return
    }
    var next = decisions
    next.byChange[change] = decision
    do {
      _ = try await backend.draft(next)
      decisions = next
      error = nil
      notice = "answer to \(change) recorded"
    } catch {
      self.error = Self.line(error)
    }
  }

  /// Writes the fix with the answers given, then checks again.
  public func approve() async {
    guard job == nil else {
      error = "wait for the \(job?.title ?? "work") to finish"
      return
    }
    do {
      let written = try await backend.write(decisions)
      decisions = Decisions()
      let fresh = try await backend.check()
      adopt(fresh)
      notice =
        "wrote \(written.count) file\(written.count == 1 ? "" : "s") (\(written.joined(separator: ", "))); checked again: \(Self.verdict(fresh.report))"
      error = nil
    } catch {
      self.error = Self.line(error)
    }
  }

  public func fail(_ message: String) {
    error = message
  }

  // MARK: Pages

  /// The review page's content and chrome; the notice and error are shown once.
  public func reviewPage(base: String, nonce: String) async -> (ReviewPage?, PageChrome) {
    var page: ReviewPage?
    if let check {
      page = ReviewPage(
        report: check.report, draft: nil, decisions: decisions, previews: check.previews,
        checkedAt: check.checkedAt, snapshotID: check.snapshotID)
      do {
        page?.draft = try await backend.draft(decisions)
      } catch {
        page?.draftError = Self.line(error)
      }
    }
    return (page, takeChrome(base: base, nonce: nonce))
  }

  public func takeChrome(base: String, nonce: String) -> PageChrome {
    defer {
      notice = nil
      error = nil
    }
    return PageChrome(base: base, csrf: csrfToken, nonce: nonce, notice: notice, error: error, job: job)
  }

  /// The question about `change` in the fix drafted with the answers so far.
  public func question(_ change: String) async -> Question? {
    guard check != nil, let draft = try? await backend.draft(decisions) else { return nil }
    return draft.questions.first { $0.changeID == change }
  }

  /// The split question's columns and sampled rows, for the live preview.
  public func preview(change: String) async -> (columns: [String], preview: SplitPreview?)? {
    guard let check, let found = check.report.changes.first(where: { $0.id == change }),
      found.kind == .columnSplit
    else { return nil }
    return (found.to?.names ?? [], check.previews[change])
  }

  // MARK: Messages

  static func verdict(_ report: DriftReport) -> String {
    let breaking = report.changes.filter(\.breaking).count
    return breaking == 0 ? "no breaking drift" : "\(breaking) breaking change\(breaking == 1 ? "" : "s")"
  }

  /// An error as one line: a user-facing message as it is, anything else described.
  public static func line(_ error: any Error) -> String {
    let text = (error as? any UserFacingError)?.message ?? "unexpected error: \(String(describing: error))"
    return TextEscape.oneLine(text.split(separator: "\n").joined(separator: "; "))
  }
}
