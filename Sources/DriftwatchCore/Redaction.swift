/// Keeping passwords out of what driftwatch prints, whatever shape the URL that held them had.
///
/// Two guards: messages never quote a password in the first place (`WarehouseLocator.redactingPassword`), and,
/// as a last guard at the terminal and in logs, every text that might be a password (`candidates(inArgument:)`,
/// the passwords driftwatch resolved) is replaced by `***` in every line written (`redact(_:secrets:)`).
public enum Redaction {
  /// Secrets shorter than this are not searched for in output: replacing every `pw` in a report would mangle it
  /// and say nothing (such a password is still never quoted by a message).
  public static let minimumLength = 4

  /// `text` with every occurrence of each secret (longest first, so that one inside another goes whole)
  /// replaced by `***`. Secrets shorter than `minimumLength` are left alone.
  public static func redact(_ text: String, secrets: some Collection<String>) -> String {
    var result = text
    for secret in secrets.filter({ $0.count >= minimumLength }).sorted(by: { $0.count > $1.count })
    where result.contains(secret) {
      result = result.replacing(secret, with: "***")
    }
    return result
  }

  /// Everything in a command-line argument that could be a password, if the argument is a URL-like locator
  /// (`scheme://…` or `postgres:…`): the text after the first `:` of the user info (up to the last `@`);
  /// without an `@`, the text after a `:` of the authority that is not a port number (`user:Secret99/db`, where
  /// the `@` was forgotten); and the values of `password=` parameters. Each raw and percent-decoded.
  public static func candidates(inArgument argument: String) -> [String] {
    let text = argument.drop(while: { $0 == " " || $0 == "\t" })
    let lowered = text.lowercased()
    var rest: Substring
    if let separator = text.firstRange(of: "://") {
      rest = text[separator.upperBound...]
    } else if lowered.hasPrefix("postgres:") || lowered.hasPrefix("postgresql:") {
      rest = text[text.index(after: text.firstIndex(of: ":") ?? text.startIndex)...]
    } else {
      return []
    }
    var found: [Substring] = []
    if let at = rest.lastIndex(of: "@") {
      let userInfo = rest[..<at]
      if let colon = userInfo.firstIndex(of: ":") { found.append(userInfo[userInfo.index(after: colon)...]) }
    } else {
      let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
      if let colon = authority.firstIndex(of: ":") {
        let after = authority[authority.index(after: colon)...]
        if !after.allSatisfy(\.isASCIIDigit) {
          found.append(after)
          // The password may hold a `/` or `#`: also everything after the `:` up to the query.
          found.append(rest[rest.index(after: colon)...].prefix(while: { $0 != "?" }))
        }
      }
    }
    if let question = rest.firstIndex(of: "?") {
      for parameter in rest[rest.index(after: question)...].split(separator: "&") {
        guard let equals = parameter.firstIndex(of: "="), parameter[..<equals].lowercased() == "password"
        else {
          continue
        }
        found.append(parameter[parameter.index(after: equals)...])
      }
    }
    var result: [String] = []
    for candidate in found where !candidate.isEmpty {
      result.append(String(candidate))
      if let decoded = WarehouseLocator.percentDecoded(candidate), decoded != String(candidate) {
        result.append(decoded)
      }
    }
    return result
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
