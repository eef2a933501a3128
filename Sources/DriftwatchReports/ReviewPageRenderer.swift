import DriftwatchCore

/// What the review page shows: one check, the fix drafted for it with the answers given so far, and what
/// the server is doing. Values only; `driftwatch serve` fills it in.
public struct ReviewPage: Sendable {
  public var report: DriftReport
  /// nil when the answers given so far cannot be drafted (`draftError` says why).
  public var draft: FixDraft?
  public var draftError: String?
  public var decisions: Decisions
  /// Sampled rows for each split question, by change id.
  public var previews: [String: SplitPreview]
  /// When the check ran (ISO 8601).
  public var checkedAt: String
  /// The id of the snapshot used as evidence, if any.
  public var snapshotID: String?

  public init(
    report: DriftReport, draft: FixDraft?, draftError: String? = nil, decisions: Decisions = Decisions(),
    previews: [String: SplitPreview] = [:], checkedAt: String, snapshotID: String? = nil
  ) {
    self.report = report
    self.draft = draft
    self.draftError = draftError
    self.decisions = decisions
    self.previews = previews
    self.checkedAt = checkedAt
    self.snapshotID = snapshotID
  }
}

/// Rows of the new table a split template is tried on: each part's value, and the old value when a
/// snapshot kept it for the same key.
public struct SplitPreview: Sendable, Hashable {
  public struct Row: Sendable, Hashable {
    public var key: String
    public var values: [String: String]
    public var old: String?
    public init(key: String, values: [String: String], old: String?) {
      self.key = key
      self.values = values
      self.old = old
    }
  }
  public var columns: [String]
  public var rows: [Row]
  public init(columns: [String], rows: [Row]) {
    self.columns = columns
    self.rows = rows
  }
}

/// Long work the server is doing (a check, a snapshot), for the progress line.
public struct ReviewJob: Sendable, Hashable {
  public var title: String
  public var done: Int
  public var total: Int
  public var what: String
  public init(title: String, done: Int = 0, total: Int = 0, what: String = "") {
    self.title = title
    self.done = done
    self.total = total
    self.what = what
  }
}

/// What every page carries besides its content.
public struct PageChrome: Sendable {
  /// Where the pages are mounted (`""`, or `/review` under watch).
  public var base: String
  /// The token every form posts back (CSRF).
  public var csrf: String
  /// The nonce of the page's own style and script (Content-Security-Policy).
  public var nonce: String
  /// One line saying what just happened, or what failed.
  public var notice: String?
  public var error: String?
  public var job: ReviewJob?

  public init(
    base: String = "", csrf: String, nonce: String, notice: String? = nil, error: String? = nil,
    job: ReviewJob? = nil
  ) {
    self.base = base
    self.csrf = csrf
    self.nonce = nonce
    self.notice = notice
    self.error = error
    self.job = job
  }
}

/// The review page and the incident pages as HTML. Everything that comes from the warehouse, the project or
/// the state store is escaped with `OutputEscape.html` where it is put; the only script is the page's own
/// (the split template's live preview), under a nonce.
public struct ReviewPageRenderer: Sendable {
  public var toolVersion: String

  public init(toolVersion: String) { self.toolVersion = toolVersion }

  private static func h(_ text: String) -> String { OutputEscape.html(text) }

  // MARK: The review page

  public func page(_ page: ReviewPage?, chrome: PageChrome) -> String {
    let h = Self.h
    var body = ""
    if let page {
      let report = page.report
      let breaking = report.changes.filter(\.breaking).count
      body += "<section id=\"summary\"><h2>\(h(report.project)) on \(h(report.warehouse))</h2>"
      body +=
        "<p>checked \(h(page.checkedAt)) · \(report.sourcesChecked) sources · <strong id=\"verdict\" class=\"\(breaking > 0 ? "bad" : "good")\">"
      body +=
        breaking > 0
        ? "\(breaking) breaking change\(breaking == 1 ? "" : "s")" : "no breaking drift"
      body += "</strong> · \(h(DriftReportRenderer.radiusPhrase(report)))"
      body += page.snapshotID.map { " · evidence from snapshot \(h($0))" } ?? " · no snapshot: names only"
      body += "</p>"
      body += actions(chrome, snapshot: true)
      body += "</section>"
      body += changes(report)
      body += radius(report)
      body += questions(page, chrome: chrome)
      body += fix(page, chrome: chrome)
    } else {
      body +=
        "<section id=\"summary\"><p class=\"muted\">no check yet</p>\(actions(chrome, snapshot: false))</section>"
    }
    return document(
      title: page.map { "driftwatch · \($0.report.project)" } ?? "driftwatch", body, chrome: chrome)
  }

  private func actions(_ chrome: PageChrome, snapshot: Bool) -> String {
    var out = "<div class=\"actions\">"
    out += form(chrome, action: "/check", id: "recheck", "<button type=\"submit\">check again</button>")
    if snapshot {
      out += form(
        chrome, action: "/snapshot", id: "take-snapshot",
        "<button type=\"submit\" title=\"record profiles and keyed samples as a baseline\">take a snapshot</button>"
      )
    }
    return out + "</div>"
  }

  private func changes(_ report: DriftReport) -> String {
    let h = Self.h
    guard !report.changes.isEmpty else {
      return
        "<section id=\"changes\"><h2>What changed</h2><p class=\"muted\">nothing: the warehouse matches the project's sources</p></section>"
    }
    let headlines = DriftReportRenderer(color: false, toolVersion: toolVersion)
    var out = "<section id=\"changes\"><h2>What changed</h2><table><thead><tr>"
    out += "<th></th><th>change</th><th>source</th><th>confidence</th><th>evidence</th></tr></thead><tbody>"
    for change in report.changes {
      out += "<tr class=\"change \(change.breaking ? "breaking" : "")\" data-change=\"\(h(change.id))\">"
      out +=
        "<td><span class=\"tag \(change.breaking ? "bad" : "warn")\">\(change.breaking ? "breaking" : "changed")</span></td>"
      out +=
        "<td><code>\(h(change.id))</code> \(h(change.kind.rawValue))<br><strong>\(h(headlines.headline(change)))</strong></td>"
      out +=
        "<td>\(h(change.source))\(change.relation.map { "<br><span class=\"muted\">\(h($0))</span>" } ?? "")</td>"
      out +=
        "<td><meter min=\"0\" max=\"1\" value=\"\(change.confidence)\"></meter> \(Int((change.confidence * 100).rounded()))%</td>"
      out += "<td><ul>" + change.evidence.map { "<li>\(h($0))</li>" }.joined() + "</ul></td></tr>"
    }
    return out + "</tbody></table></section>"
  }

  private func radius(_ report: DriftReport) -> String {
    let h = Self.h
    let radius = report.blastRadius
    var out = "<section id=\"radius\"><h2>Blast radius</h2>"
    out += "<div class=\"graph\">\(BlastRadiusSVG.render(report))</div>"
    func list(_ title: String, _ ids: [String]) -> String {
      guard !ids.isEmpty else { return "" }
      let items = ids.map { id in
        let node = report.nodes[id]
        return "<li title=\"\(h(id))\">\(h(node?.label ?? node?.name ?? id))</li>"
      }
      return
        "<details><summary>\(ids.count) \(title)</summary><ul class=\"columns\">\(items.joined())</ul></details>"
    }
    out += list("models", radius.models) + list("tests", radius.tests) + list("exposures", radius.exposures)
    return out + "</section>"
  }

  // MARK: Questions

  private func questions(_ page: ReviewPage, chrome: PageChrome) -> String {
    let h = Self.h
    guard let draft = page.draft else { return "" }
    guard !draft.questions.isEmpty else { return "" }
    let open = draft.openQuestions.count
    var out = "<section id=\"questions\"><h2>Questions (\(open) open)</h2>"
    for question in draft.questions {
      let id = h(question.changeID)
      out +=
        "<article class=\"question \(question.isOpen ? "open" : "settled")\" id=\"q-\(id)\" data-kind=\"\(h(question.kind.rawValue))\" data-status=\"\(h(question.status.rawValue))\">"
      out +=
        "<h3><code>\(id)</code> \(h(question.kind.rawValue)): \(h(question.subject)) <span class=\"tag \(question.isOpen ? "warn" : "good")\">\(h(question.status.rawValue))</span></h3>"
      out += "<p>\(h(question.prompt))</p>"
      if let answer = question.answer { out += "<p class=\"answer\">answer: <code>\(h(answer))</code></p>" }
      let hidden = "<input type=\"hidden\" name=\"change\" value=\"\(id)\">"
      switch question.kind {
      case .confirmRename, .fillMissing:
        out += form(
          chrome, action: "/answer", id: nil,
          hidden
            + "<button type=\"submit\" name=\"accept\" value=\"true\">accept\(question.kind == .fillMissing ? " (NULL)" : " the rename")</button> "
            + "<button type=\"submit\" name=\"accept\" value=\"false\" class=\"secondary\">reject</button>")
      case .rewriteByHand:
        out += form(
          chrome, action: "/answer", id: nil,
          hidden
            + "<button type=\"submit\" name=\"accept\" value=\"true\">done: mapped by hand</button> "
            + "<button type=\"submit\" name=\"accept\" value=\"false\" class=\"secondary\">leave it failing</button>"
        )
      case .valueMapping:
        out += mappingForm(question, page: page, chrome: chrome, hidden: hidden)
      case .splitTemplate:
        out += templateForm(question, page: page, chrome: chrome, hidden: hidden)
      }
      out += "</article>"
    }
    return out + "</section>"
  }

  private func mappingForm(_ question: Question, page: ReviewPage, chrome: PageChrome, hidden: String)
    -> String
  {
    let h = Self.h
    let current = page.decisions[question.changeID]?.mapping ?? [:]
    var proposed: [String: String] = [:]
    // The measured pairs, preselected (a proposal is still a question: the person confirms or changes it).
    for pair in page.report.changes.first(where: { $0.id == question.changeID })?.mapping ?? [] {
      if let new = pair.new { proposed[pair.old] = new }
    }
    let choices = (question.newValues ?? []) + proposed.values.sorted()
    var unique: [String] = []
    for choice in choices where !unique.contains(choice) { unique.append(choice) }
    var rows = "<table class=\"mapping\"><thead><tr><th>old value</th><th>new value</th></tr></thead><tbody>"
    for (index, old) in (question.oldValues ?? []).enumerated() {
      let selected = current[old] ?? proposed[old]
      var options = "<option value=\"\">choose…</option>"
      for choice in unique {
        options +=
          "<option value=\"\(h(choice))\"\(choice == selected ? " selected" : "")>\(h(choice))</option>"
      }
      rows +=
        "<tr><td><code>\(h(old))</code></td><td><select name=\"map.\(index)\" aria-label=\"new value for \(h(old))\">\(options)</select></td></tr>"
    }
    rows += "</tbody></table>"
    return form(
      chrome, action: "/answer", id: nil,
      hidden + rows + "<button type=\"submit\" name=\"accept\" value=\"mapping\">use this mapping</button> "
        + "<button type=\"submit\" name=\"accept\" value=\"false\" class=\"secondary\">reject the mapping</button>"
    )
  }

  private func templateForm(_ question: Question, page: ReviewPage, chrome: PageChrome, hidden: String)
    -> String
  {
    let h = Self.h
    let id = h(question.changeID)
    let text = page.decisions[question.changeID]?.template ?? question.proposal ?? ""
    let columns = (question.columns ?? []).map { "<code>{\(h($0))}</code>" }.joined(separator: " ")
    var out = "<p class=\"muted\">columns: \(columns); write the separators as the data has them</p>"
    out +=
      "<label>template <input type=\"text\" name=\"template\" size=\"60\" value=\"\(h(text))\" data-preview=\"\(id)\" autocomplete=\"off\" spellcheck=\"false\"></label>"
    out += "<div class=\"preview\" id=\"preview-\(id)\" aria-live=\"polite\">"
    out += previewTable(
      template: text, columns: question.columns ?? [], preview: page.previews[question.changeID])
    out += "</div>"
    return form(
      chrome, action: "/answer", id: nil,
      hidden + out + "<button type=\"submit\" name=\"accept\" value=\"template\">use this template</button> "
        + "<button type=\"submit\" name=\"accept\" value=\"false\" class=\"secondary\">reject</button>")
  }

  /// What `template` makes of the sampled rows: the live preview (also served alone, as the page types).
  public func previewTable(template text: String, columns: [String], preview: SplitPreview?) -> String {
    let h = Self.h
    let template: SplitTemplate
    do {
      template = try SplitTemplate.parse(text, columns: columns)
    } catch {
      return "<p class=\"error\">\(h(error.message))</p>"
    }
    // Without data the proposal's separators are unknown, shown as `?`: taken as typed, `?` is a literal.
    let note =
      text.contains("?")
      ? "<p class=\"warn\">each ? the proposal has stands for a separator nobody knows yet: write the real one</p>"
      : ""
    guard let preview, !preview.rows.isEmpty else {
      return note + "<p class=\"muted\">no sampled rows to preview on</p>"
    }
    let withOld = preview.rows.contains { $0.old != nil }
    var matched = 0
    var out = note + "<table class=\"sample\"><thead><tr>"
    out += preview.columns.map { "<th>\(h($0))</th>" }.joined()
    out += "<th>rebuilt</th>\(withOld ? "<th>old value (snapshot)</th>" : "")</tr></thead><tbody>"
    for row in preview.rows {
      let rebuilt = template.hasUnknownSeparators ? nil : template.render(row.values)
      let same = row.old != nil && rebuilt == row.old
      if same { matched += 1 }
      out += "<tr>" + preview.columns.map { "<td>\(h(row.values[$0] ?? ""))</td>" }.joined()
      out += "<td class=\"rebuilt\"><code>\(h(rebuilt ?? "? separators unknown"))</code></td>"
      if withOld {
        out += "<td class=\"\(same ? "good" : "bad")\">\(h(row.old ?? "")) \(same ? "✓" : "✗")</td>"
      }
      out += "</tr>"
    }
    out += "</tbody></table>"
    if withOld {
      out += "<p class=\"muted\">rebuilds \(matched) of \(preview.rows.count) sampled rows exactly</p>"
    }
    return out
  }

  // MARK: The fix

  private func fix(_ page: ReviewPage, chrome: PageChrome) -> String {
    let h = Self.h
    var out = "<section id=\"fix\"><h2>The drafted fix</h2>"
    if let error = page.draftError { out += "<p class=\"error\" role=\"alert\">\(h(error))</p>" }
    guard let draft = page.draft else { return out + "</section>" }
    guard !draft.files.isEmpty else {
      return out + "<p class=\"muted\">nothing to write</p></section>"
    }
    out +=
      "<ul>"
      + draft.files.map { "<li><code>\(h($0.path))</code> \(h($0.status)): \(h($0.reason))</li>" }.joined()
      + "</ul>"
    for file in draft.files {
      out += "<details class=\"diff\" open><summary><code>\(h(file.path))</code></summary><pre>"
      let diff = UnifiedDiff.make(path: file.path, old: file.original, new: file.content)
      for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
        let kind =
          line.hasPrefix("+++") || line.hasPrefix("---")
          ? "file"
          : line.hasPrefix("+") ? "add" : line.hasPrefix("-") ? "del" : line.hasPrefix("@@") ? "hunk" : "ctx"
        out += "<span class=\"\(kind)\">\(h(String(line)))</span>\n"
      }
      out += "</pre></details>"
    }
    if !draft.expectedFailures.isEmpty {
      out += "<h3>Tests that will still fail</h3><ul>"
      out += draft.expectedFailures.map { "<li>\(h($0.test)): \(h($0.reason))</li>" }.joined() + "</ul>"
    }
    if !draft.notes.isEmpty {
      out += "<h3>Left alone</h3><ul>" + draft.notes.map { "<li>\(h($0))</li>" }.joined() + "</ul>"
    }
    let open = draft.openQuestions.count
    let note =
      open == 0
      ? "writes the \(draft.files.count) files above, all or none, then checks again"
      : "answer the \(open) open question\(open == 1 ? "" : "s") first"
    out += form(
      chrome, action: "/approve", id: "approve",
      "<button type=\"submit\" class=\"primary\"\(open == 0 ? "" : " disabled")>approve and write</button> <span class=\"muted\">\(h(note))</span>"
    )
    return out + "</section>"
  }

  // MARK: Incidents

  public func incidents(_ incidents: [Incident], chrome: PageChrome) -> String {
    let h = Self.h
    var body = "<section id=\"incidents\"><h2>Incidents</h2>"
    guard !incidents.isEmpty else {
      return document(
        title: "driftwatch · incidents", body + "<p class=\"muted\">no incidents</p></section>",
        chrome: chrome)
    }
    body += "<table><thead><tr><th>incident</th><th>status</th><th>project</th><th>detected</th>"
    body +=
      "<th>detection latency</th><th>notification latency</th><th>breaking</th><th>blast radius</th></tr></thead><tbody>"
    for incident in incidents.reversed() {
      body +=
        "<tr><td><a href=\"\(h(chrome.base))/incidents/\(Self.pathComponent(incident.id))\">\(h(incident.id))</a></td>"
      body +=
        "<td><span class=\"tag \(incident.status == .open ? "bad" : "good")\">\(h(incident.status.rawValue))</span></td>"
      body += "<td>\(h(incident.project))</td><td>\(h(incident.first(.detected)?.iso8601 ?? "?"))</td>"
      body +=
        "<td>\(Self.latency(incident.detectionLatencyMs))</td><td>\(Self.latency(incident.notificationLatencyMs))</td>"
      body += "<td>\(incident.breakingChanges.count)</td>"
      body += "<td>\(h(DriftReportRenderer.radiusPhrase(incident.report)))</td></tr>"
    }
    body += "</tbody></table></section>"
    return document(title: "driftwatch · incidents", body, chrome: chrome)
  }

  public func incident(_ incident: Incident, postmortem: String, chrome: PageChrome) -> String {
    let h = Self.h
    var body =
      "<section id=\"incident\"><h2>\(h(incident.id)) <span class=\"tag \(incident.status == .open ? "bad" : "good")\">\(h(incident.status.rawValue))</span></h2>"
    body +=
      "<p>\(h(incident.project)) on \(h(incident.warehouse)) · detection latency \(Self.latency(incident.detectionLatencyMs)) · notification latency \(Self.latency(incident.notificationLatencyMs))</p>"
    body += "<h3>Timeline</h3><table><thead><tr><th>at</th><th>what</th><th>detail</th></tr></thead><tbody>"
    for entry in incident.timeline {
      body +=
        "<tr><td>\(h(entry.at.iso8601))</td><td>\(h(entry.kind.rawValue))</td><td>\(h(entry.detail ?? ""))</td></tr>"
    }
    body += "</tbody></table>"
    body +=
      "<h3>Postmortem <a class=\"button\" id=\"download\" href=\"\(h(chrome.base))/incidents/\(Self.pathComponent(incident.id))/postmortem.md\" download>download markdown</a></h3>"
    body += "<article class=\"postmortem\">\(MarkdownHTML.render(postmortem))</article></section>"
    return document(title: "driftwatch · \(incident.id)", body, chrome: chrome)
  }

  /// A page that only says something went wrong (or is not there), in one line.
  public func message(_ title: String, chrome: PageChrome) -> String {
    document(title: "driftwatch · \(title)", "", chrome: chrome)
  }

  // MARK: Pieces

  static func latency(_ ms: Int64?) -> String {
    guard let ms else { return "–" }
    return ms < 10_000 ? "\(ms) ms" : "\(Decimal2.format(Double(ms) / 1000, places: 1)) s"
  }

  /// An id as one URL path component: unreserved characters kept, everything else percent-encoded.
  public static func pathComponent(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      let scalar = Unicode.Scalar(byte)
      if (byte < 0x80)
        && (scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar))
          || "-_.~".unicodeScalars.contains(scalar))
      {
        out.unicodeScalars.append(scalar)
      } else {
        out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
      }
    }
    return out
  }

  private func form(_ chrome: PageChrome, action: String, id: String?, _ content: String) -> String {
    let h = Self.h
    return
      "<form method=\"post\" action=\"\(h(chrome.base + action))\"\(id.map { " id=\"\(h($0))\"" } ?? "")>"
      + "<input type=\"hidden\" name=\"csrf\" value=\"\(h(chrome.csrf))\">\(content)</form>"
  }

  private func document(title: String, _ body: String, chrome: PageChrome) -> String {
    let h = Self.h
    var out = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    if chrome.job != nil { out += "<meta http-equiv=\"refresh\" content=\"1\">" }
    out += "<title>\(h(title))</title><style nonce=\"\(h(chrome.nonce))\">\(Self.style)</style></head><body>"
    out += "<header><h1>driftwatch</h1><nav><a href=\"\(h(chrome.base))/\">current check</a>"
    out += "<a href=\"\(h(chrome.base))/incidents\">incidents</a></nav></header><main>"
    if let error = chrome.error { out += "<p class=\"error\" id=\"error\" role=\"alert\">\(h(error))</p>" }
    if let notice = chrome.notice { out += "<p class=\"notice\" id=\"notice\">\(h(notice))</p>" }
    if let job = chrome.job {
      out +=
        "<section id=\"progress\"><p>\(h(job.title))… \(job.total > 0 ? "\(job.done)/\(job.total) " : "")\(h(job.what))</p>"
      out +=
        job.total > 0
        ? "<progress max=\"\(job.total)\" value=\"\(job.done)\"></progress>" : "<progress></progress>"
      out += "</section>"
    }
    out += body + "</main><footer>driftwatch \(h(toolVersion))</footer>"
    out += "<script nonce=\"\(h(chrome.nonce))\">\(Self.script(base: chrome.base))</script></body></html>"
    return out
  }

  /// The live preview: the template typed is sent to `preview` and its server-rendered table shown.
  static func script(base: String) -> String {
    // `base` is ours (a mount path), but it goes into a JS string: keep only path characters.
    let safeBase = String(
      base.unicodeScalars.filter { $0.properties.isAlphabetic || "/-_0123456789".unicodeScalars.contains($0) }
        .map(Character.init))
    return """
      document.querySelectorAll('input[data-preview]').forEach(function (input) {
        var timer = null;
        var sent = 0;
        input.addEventListener('input', function () {
          clearTimeout(timer);
          timer = setTimeout(function () {
            var id = input.getAttribute('data-preview');
            var url = '\(safeBase)/preview?change=' + encodeURIComponent(id) + '&template=' + encodeURIComponent(input.value);
            var mine = ++sent;
            fetch(url, {credentials: 'same-origin'}).then(function (r) { return r.text(); }).then(function (html) {
              // An answer to an earlier keystroke that arrives late is dropped.
              var target = document.getElementById('preview-' + id);
              if (target && mine === sent) { target.innerHTML = html; }
            });
          }, 150);
        });
      });
      """
  }

  static let style = """
    body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
    header{display:flex;gap:24px;align-items:baseline;padding:10px 24px;background:#1d2330;color:#fff}
    header h1{font-size:18px;margin:0}header a{color:#cfd6e4;margin-right:16px}
    main{padding:8px 24px 32px;max-width:1280px}
    section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:8px 16px;margin:14px 0}
    h2{font-size:17px}h3{font-size:14px}
    table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #eef0f3}
    td{overflow-wrap:break-word}section{overflow-x:auto}td ul{margin:0;padding-left:16px}code{font:12px ui-monospace,monospace;background:#f1f3f6;padding:1px 3px;border-radius:3px}
    .tag{font-size:11px;padding:1px 6px;border-radius:8px;font-weight:600;white-space:nowrap}
    .bad{color:#b42318}.good{color:#067647}.warn{color:#b54708}.tag.bad{background:#fee4e2}.tag.good{background:#dcfae6}.tag.warn{background:#fef0c7}
    .muted{color:#5b6475}.error{color:#b42318;font-weight:600}.notice{color:#067647;font-weight:600}
    .actions{display:flex;gap:8px;margin-bottom:8px}form{margin:6px 0}
    button,.button{font:inherit;padding:4px 12px;border-radius:6px;border:1px solid #1f4e9c;background:#1f4e9c;color:#fff;cursor:pointer;text-decoration:none;font-size:13px}
    button.secondary{background:#fff;color:#1f4e9c}button.primary{background:#067647;border-color:#067647}button[disabled]{opacity:.45;cursor:not-allowed}
    .question{border-top:1px solid #eef0f3;padding:4px 0}.question.open h3{color:#b54708}
    .graph{overflow-x:auto}.columns{columns:3}
    pre{background:#0f1520;color:#d7dde8;padding:8px;overflow-x:auto;font:12px ui-monospace,monospace}
    pre .add{color:#7ee2a8}pre .del{color:#ff9b9b}pre .hunk{color:#8fb4ff}pre .file{color:#fff;font-weight:600}
    .preview table{width:auto;margin:6px 0}.preview td.rebuilt code{background:#e8f0fe}
    input[type=text]{font:13px ui-monospace,monospace;padding:3px 6px}
    .postmortem table{width:auto}footer{color:#8a94a6;padding:0 24px 16px;font-size:12px}
    """
}
