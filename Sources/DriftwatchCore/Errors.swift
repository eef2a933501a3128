/// An error whose message is meant for the user: lowercase, specific, says what to do.
/// Front ends print `message` alone and exit 2.
public protocol UserFacingError: Error, CustomStringConvertible {
  var message: String { get }
}

extension UserFacingError {
  public var description: String { message }
}

/// Input that Core itself rejects (bad selectors and the like).
public struct InputError: UserFacingError, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}
