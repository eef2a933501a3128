import DriftwatchCore
import DriftwatchReports
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Who may use the pages. Loopback without a token by default (the Host header must then name a loopback
/// host, so a page elsewhere cannot reach the server through DNS rebinding); any other address needs a token,
/// given once as `?token=` (kept in an HttpOnly, SameSite=Strict cookie) or as `Authorization: Bearer`.
public struct ReviewAccess: Sendable {
  public var token: String?
  public var loopbackOnly: Bool

  public init(token: String?, loopbackOnly: Bool) {
    self.token = token
    self.loopbackOnly = loopbackOnly
  }

  public static let cookieName = "driftwatch_token"

  /// Whether `host` (an address to listen on) is a loopback address.
  public static func isLoopback(_ host: String) -> Bool {
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    return bare == "localhost" || bare == "::1"
      || bare.hasPrefix("127.")
        && bare.split(separator: ".").count == 4
        && bare.split(separator: ".").allSatisfy { UInt8($0) != nil }
  }

  /// The host name of a Host header (`127.0.0.1:8080`, `[::1]:8080`).
  static func hostName(_ header: String) -> String {
    if header.hasPrefix("["), let close = header.firstIndex(of: "]") {
      return String(header[...close])
    }
    return String(header.split(separator: ":", maxSplits: 1).first ?? "")
  }

  /// Compares in time independent of where the strings differ.
  static func same(_ a: String, _ b: String) -> Bool {
    let left = Array(a.utf8)
    let right = Array(b.utf8)
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for index in left.indices { difference |= left[index] ^ right[index] }
    return difference == 0
  }
}

/// The review page's routes, mountable on any Hummingbird router: `driftwatch serve` mounts them at `/`;
/// `watch --http` can mount them on its own router (`ReviewRoutes.register(on: router.group("review"),
/// base: "/review", …)`).
public enum ReviewRoutes {
  /// The largest form body accepted.
  static let maxBody = 1 << 20

  public static func register<Context: RequestContext>(
    on router: some RouterMethods<Context>, base: String = "", session: ReviewSession, access: ReviewAccess
  ) {
    let renderer = ReviewPageRenderer(toolVersion: session.toolVersion)
    let guardian = Guardian(access: access, csrf: session.csrfToken, base: base)

    router.get("/") { request, _ -> Response in
      if let refused = guardian.refuse(request) { return refused }
      let nonce = ReviewSession.randomToken()
      let (page, chrome) = await session.reviewPage(base: base, nonce: nonce)
      return html(renderer.page(page, chrome: chrome), nonce: nonce, session: session)
    }

    router.get("preview") { request, _ -> Response in
      if let refused = guardian.refuse(request) { return refused }
      let query = request.uri.queryParameters
      let change = query["change"].map(String.init) ?? ""
      let template = query["template"].map(String.init) ?? ""
      guard let found = await session.preview(change: change) else {
        return plain(.notFound, "no split question \(change) in the current check: reload the page")
      }
      let fragment = renderer.previewTable(template: template, columns: found.columns, preview: found.preview)
      return html(fragment, nonce: nil, session: session)
    }

    router.post("answer") { request, context -> Response in
      let form: [String: String]
      switch await guardian.form(request, context: context) {
      case .refused(let response): return response
      case .form(let fields): form = fields
      }
      let change = form["change"] ?? ""
      switch form["accept"] {
      case "true": await session.answer(change: change, decision: Decision(accept: true))
      case "false": await session.answer(change: change, decision: Decision(accept: false))
      case "template":
        await session.answer(change: change, decision: Decision(template: form["template"] ?? ""))
      case "mapping":
        if let mapping = await mapping(form, change: change, session: session) {
          await session.answer(change: change, decision: Decision(mapping: mapping))
        }
      default: await session.fail("the form sent no answer: use one of its buttons")
      }
      return .redirect(to: "\(base)/#q-\(ReviewPageRenderer.pathComponent(change))", type: .found)
    }

    router.post("approve") { request, context -> Response in
      if case .refused(let response) = await guardian.form(request, context: context) { return response }
      await session.approve()
      return .redirect(to: "\(base)/", type: .found)
    }

    router.post("check") { request, context -> Response in
      if case .refused(let response) = await guardian.form(request, context: context) { return response }
      if !(await session.startCheck()) { await session.fail("busy: wait for the work in progress to finish") }
      return .redirect(to: "\(base)/", type: .found)
    }

    router.post("snapshot") { request, context -> Response in
      if case .refused(let response) = await guardian.form(request, context: context) { return response }
      if !(await session.startSnapshot()) {
        await session.fail("busy: wait for the work in progress to finish")
      }
      return .redirect(to: "\(base)/", type: .found)
    }

    router.get("incidents") { request, _ -> Response in
      if let refused = guardian.refuse(request) { return refused }
      let nonce = ReviewSession.randomToken()
      do {
        let incidents = try await session.backend.incidents()
        let chrome = await session.takeChrome(base: base, nonce: nonce)
        return html(renderer.incidents(incidents, chrome: chrome), nonce: nonce, session: session)
      } catch {
        await session.fail(ReviewSession.line(error))
        let chrome = await session.takeChrome(base: base, nonce: nonce)
        return html(
          renderer.message("incidents", chrome: chrome), nonce: nonce, session: session,
          status: .internalServerError)
      }
    }

    router.get("incidents/:id") { request, context -> Response in
      if let refused = guardian.refuse(request) { return refused }
      let nonce = ReviewSession.randomToken()
      let id = context.parameters.get("id") ?? ""
      do {
        guard let incident = try await session.backend.incident(id: id) else {
          await session.fail("no incident \(id): see the incident list")
          let chrome = await session.takeChrome(base: base, nonce: nonce)
          return html(
            renderer.message("not found", chrome: chrome), nonce: nonce, session: session, status: .notFound)
        }
        let chrome = await session.takeChrome(base: base, nonce: nonce)
        let markdown = PostmortemRenderer().render(incident)
        return html(
          renderer.incident(incident, postmortem: markdown, chrome: chrome), nonce: nonce, session: session)
      } catch {
        await session.fail(ReviewSession.line(error))
        let chrome = await session.takeChrome(base: base, nonce: nonce)
        return html(
          renderer.message("incident", chrome: chrome), nonce: nonce, session: session,
          status: .internalServerError)
      }
    }

    router.get("incidents/:id/postmortem.md") { request, context -> Response in
      if let refused = guardian.refuse(request) { return refused }
      let id = context.parameters.get("id") ?? ""
      do {
        guard let incident = try await session.backend.incident(id: id) else {
          return plain(.notFound, "no incident \(id): see the incident list")
        }
        let markdown = session.backend.redact(PostmortemRenderer().render(incident))
        let file =
          "postmortem-"
          + String(
            incident.id.unicodeScalars.filter {
              $0.properties.isAlphabetic || ("0"..."9").contains(Character($0)) || $0 == "-"
            }.map(Character.init)) + ".md"
        var headers = securityHeaders(nonce: nil)
        headers[.contentType] = "text/markdown; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(file)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: markdown)))
      } catch {
        return plain(.internalServerError, ReviewSession.line(error))
      }
    }
  }

  /// The old → new pairs a mapping form sends (`map.N` is the new value for the question's Nth old value);
  /// nil (and the error recorded) when one is left unchosen.
  static func mapping(_ form: [String: String], change: String, session: ReviewSession) async -> [String:
    String]?
  {
    guard let question = await session.question(change), question.kind == .valueMapping else {
      await session.fail("no value mapping question \(change) in the current check: reload the page")
      return nil
    }
    var mapping: [String: String] = [:]
    var missing: [String] = []
    for (index, old) in (question.oldValues ?? []).enumerated() {
      let chosen = form["map.\(index)"] ?? ""
      if chosen.isEmpty { missing.append(old) } else { mapping[old] = chosen }
    }
    guard missing.isEmpty else {
      await session.fail("choose a new value for \(missing.joined(separator: ", ")), or reject the mapping")
      return nil
    }
    return mapping
  }

  // MARK: Responses

  static func securityHeaders(nonce: String?) -> HTTPFields {
    var headers = HTTPFields()
    let scripts = nonce.map { "'nonce-\($0)'" } ?? "'none'"
    headers[.contentSecurityPolicy] =
      "default-src 'none'; style-src \(scripts); script-src \(scripts); connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    for (name, value) in [
      ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
    ] {
      if let field = HTTPField.Name(name) { headers[field] = value }
    }
    headers[.cacheControl] = "no-store"
    return headers
  }

  static func html(
    _ text: String, nonce: String?, session: ReviewSession, status: HTTPResponse.Status = .ok
  ) -> Response {
    var headers = securityHeaders(nonce: nonce)
    headers[.contentType] = "text/html; charset=utf-8"
    return Response(
      status: status, headers: headers,
      body: .init(byteBuffer: ByteBuffer(string: session.backend.redact(text))))
  }

  static func plain(_ status: HTTPResponse.Status, _ line: String) -> Response {
    var headers = securityHeaders(nonce: nil)
    headers[.contentType] = "text/plain; charset=utf-8"
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: line + "\n")))
  }
}

/// The checks every request passes: the Host (loopback), the token, and for POSTs the CSRF token, the
/// request's origin and the body's size.
struct Guardian: Sendable {
  var access: ReviewAccess
  var csrf: String
  var base: String

  enum FormResult {
    case form([String: String])
    case refused(Response)
  }

  /// A response refusing the request, or nil to let it through.
  func refuse(_ request: Request) -> Response? {
    if access.loopbackOnly {
      let host = request.head.authority.map(ReviewAccess.hostName) ?? ""
      guard ReviewAccess.isLoopback(host) else {
        return ReviewRoutes.plain(
          .forbidden, "this server answers on loopback only: open it as http://127.0.0.1:PORT/")
      }
    }
    guard let token = access.token else { return nil }
    if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
      ReviewAccess.same(String(header.dropFirst(7)), token)
    {
      return nil
    }
    if let cookie = request.cookies[ReviewAccess.cookieName]?.value, ReviewAccess.same(cookie, token) {
      return nil
    }
    if request.method == .get, let given = request.uri.queryParameters["token"],
      ReviewAccess.same(String(given), token)
    {
      // Keep the token in a cookie and drop it from the address bar (and from history).
      var response = Response.redirect(to: request.uri.path, type: .found)
      response.setCookie(
        Cookie(name: ReviewAccess.cookieName, value: token, path: "/", httpOnly: true, sameSite: .strict))
      return response
    }
    return ReviewRoutes.plain(
      .unauthorized, "this server needs its token: open it once as /?token=TOKEN (the value of --token-env)")
  }

  /// The form fields of a POST, or the response refusing it.
  func form<Context: RequestContext>(_ request: Request, context: Context) async -> FormResult {
    if let refused = refuse(request) { return .refused(refused) }
    // A browser says where a request comes from; a page on another site is refused before the token check.
    if let name = HTTPField.Name("Sec-Fetch-Site"), request.headers[name] == "cross-site" {
      return .refused(ReviewRoutes.plain(.forbidden, "cross-site form posts are refused"))
    }
    if let origin = request.headers[.origin], origin != "null",
      let host = request.head.authority,
      !(origin.hasSuffix("://" + host))
    {
      return .refused(
        ReviewRoutes.plain(
          .forbidden, "the form came from \(TextEscape.oneLine(origin)), not from this server"))
    }
    var request = request
    let body: ByteBuffer
    do {
      body = try await request.collectBody(upTo: ReviewRoutes.maxBody)
    } catch {
      return .refused(ReviewRoutes.plain(.contentTooLarge, "the form is larger than 1 MiB"))
    }
    let fields = FormDecoding.fields(String(buffer: body))
    guard let sent = fields["csrf"], ReviewAccess.same(sent, csrf) else {
      return .refused(
        ReviewRoutes.plain(.forbidden, "the form's token is missing or stale: reload the page and try again"))
    }
    return .form(fields)
  }
}

/// `application/x-www-form-urlencoded`, as browsers send it.
public enum FormDecoding {
  public static func fields(_ body: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = decode(parts[0])
      let value = parts.count > 1 ? decode(parts[1]) : ""
      if fields[key] == nil { fields[key] = value }
    }
    return fields
  }

  static func decode(_ text: Substring) -> String {
    let spaced = text.replacingOccurrences(of: "+", with: " ")
    return spaced.removingPercentEncoding ?? spaced
  }
}
